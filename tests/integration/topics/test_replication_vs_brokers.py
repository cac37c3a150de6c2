"""`topics create` against the one-broker local cluster: the replication factor is checked against
the broker count before anything is created."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from wms_connector.cli import main
from wms_connector.kafka.admin import TopicAdmin, reconcile_topics
from wms_connector.kafka.topics import TopicRole, TopicSpec, topic_specs
from wms_connector.naming import names_for
from wms_connector.stages import Stage


def test_a_loopback_cluster_gets_its_broker_count_and_says_so(
    topics_bootstrap: str, admin: TopicAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = Stage(f"rf-{uuid.uuid4().hex[:8]}")
    code = main(["topics", "create", "--stage", stage.name, "--bootstrap", topics_bootstrap, "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "has 1 broker(s): using replication factor 1 instead of the stage's 3" in err
    assert "would: " in out and "report" not in out


def test_an_explicit_factor_above_the_broker_count_is_refused_before_acting(
    topics_bootstrap: str, admin: TopicAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = Stage(f"rf-{uuid.uuid4().hex[:8]}")
    argv = ["topics", "create", "--stage", stage.name, "--bootstrap", topics_bootstrap]
    code = main([*argv, "--replication-factor", "3"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "replication factor 3 needs at least 3 brokers, but the cluster has 1" in err
    assert not set(names_for(stage).all_topics) & admin.topic_names()  # nothing was created


# -- a plan is what will be done (issue 25) -------------------------------------------------------


def test_a_dry_run_decides_as_the_real_run_on_the_local_cluster(
    topics_bootstrap: str, admin: TopicAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stage's topics as `local run` creates them (RF 1): the automatic replication factor plans
    exactly what `--replication-factor 1` plans, and the plan exits as the real run does."""
    stage = Stage(f"rf-{uuid.uuid4().hex[:8]}")
    assert not reconcile_topics(admin, topic_specs(stage, replication_factor=1), dry_run=False).failed
    argv = ["topics", "create", "--stage", stage.name, "--bootstrap", topics_bootstrap, "--json"]
    plans = []
    for extra in (["--dry-run"], ["--dry-run", "--replication-factor", "1"]):
        assert main([*argv, *extra]) == 0
        plans.append(json.loads(capsys.readouterr().out)["actions"])
    assert plans[0] == plans[1]
    assert {row["action"] for row in plans[0]} == {"ok"}
    assert main(argv) == 0
    capsys.readouterr()

    # One topic a person must fix: the plan fails as the real run does, with the same reason.
    other = Stage(f"rf-{uuid.uuid4().hex[:8]}")
    history = names_for(other).schema_history_topic
    assert not admin.create([TopicSpec(history, TopicRole.SCHEMA_HISTORY, 2, 1, {})])[history]
    outcomes = []
    for extra in (["--dry-run"], []):
        code = main(["topics", "create", "--stage", other.name, "--bootstrap", topics_bootstrap, *extra])
        outcomes.append((code, capsys.readouterr().err.splitlines()[-1].split(";")[0]))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] == 1, outcomes


def test_a_delete_plan_shows_the_live_connect_group_that_makes_the_deletion_refuse(
    topics_bootstrap: str, admin: TopicAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    from confluent_kafka import Consumer

    stage = Stage(f"del-{uuid.uuid4().hex[:8]}")
    assert not reconcile_topics(admin, topic_specs(stage, replication_factor=1), dry_run=False).failed
    member = Consumer(
        {
            "bootstrap.servers": topics_bootstrap,
            "group.id": names_for(stage).group_id,
            "session.timeout.ms": 6000,
        }
    )
    argv = ["topics", "delete", "--stage", stage.name, "--bootstrap", topics_bootstrap]
    try:
        member.subscribe([names_for(stage).config_topic])
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        assert member.assignment()
        results = []
        for extra in (["--dry-run"], ["--yes"]):
            code = main([*argv, *extra])
            results.append((code, capsys.readouterr().err))
    finally:
        member.close()
    (plan_code, plan_err), (real_code, real_err) = results
    assert plan_code == real_code == 1
    assert "still has 1 member(s)" in plan_err and "still has 1 member(s)" in real_err
    assert set(names_for(stage).all_topics) <= admin.topic_names()
    assert main([*argv, "--yes"]) == 0
