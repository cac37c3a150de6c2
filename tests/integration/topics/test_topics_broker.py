"""Topic create / fix / delete against the real local broker."""

from __future__ import annotations

import json
import time

import pytest

from wms_connector.cli import main
from wms_connector.kafka.admin import (
    ConnectStillRunningError,
    TopicAdmin,
    delete_stage_topics,
    reconcile_topics,
)
from wms_connector.kafka.reconcile import ActionKind
from wms_connector.kafka.topics import TopicRole, TopicSpec, topic_specs
from wms_connector.local.cluster import LocalCluster
from wms_connector.naming import names_for, topic_namespace
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

MAIN = Stage("main")
#: Ephemeral stages as confusable as possible with each other and with the named stages.
EPHEMERAL = [Stage(n) for n in ("a", "a-b", "a-b-c", "ab", "main-x", "mainx", "wms", "val1")]
#: Topics nobody in this repository owns: internal-looking, un-namespaced, half-namespaced.
UNRELATED = (
    "__wms-other",
    "__debezium-heartbeat.other",
    "wms.orders",
    "--wms--a",
    "--wms--a-",
    "--wms--",
    "x--wms--a--wms",
    "-wms--a--wms",
)


def _local(stage: Stage) -> list[TopicSpec]:
    return topic_specs(stage, replication_factor=1)


def _raw(name: str, partitions: int = 1, config: dict[str, str] | None = None) -> TopicSpec:
    return TopicSpec(name, TopicRole.DATA, partitions, 1, config or {})


def _fresh(admin: TopicAdmin, stage: Stage) -> Stage:
    """Start from no topic of ``stage`` (a failed earlier run may have left some)."""
    assert delete_stage_topics(admin, stage, dry_run=False).ok
    return stage


def _ensure(admin: TopicAdmin, specs: list[TopicSpec]) -> None:
    missing = [s for s in specs if s.name not in admin.topic_names()]
    assert not [e for e in admin.create(missing).values() if e]


def test_delete_removes_exactly_each_ephemeral_stages_topics(
    admin: TopicAdmin, local_cluster: LocalCluster
) -> None:
    # The runtime's workers run the ephemeral stage it-local on this broker: its topics must survive.
    running = {t for t in admin.topic_names() if t.startswith(topic_namespace(local_cluster.stage))}
    assert names_for(local_cluster.stage).config_topic in running
    extras = {_fresh(admin, stage): f"{topic_namespace(stage)}extra.created-by-hand" for stage in EPHEMERAL}
    for stage in (MAIN, *EPHEMERAL):
        assert not reconcile_topics(admin, _local(stage), dry_run=False).failed
    _ensure(admin, [_raw(t) for t in (*UNRELATED, *extras.values())])

    for stage in EPHEMERAL:
        before = admin.topic_names()
        own = set(names_for(stage).all_topics) | {extras[stage]}
        assert own <= before
        result = delete_stage_topics(admin, stage, dry_run=False)
        after = admin.topic_names()
        assert result.ok
        assert set(result.deleted) == own
        assert after == before - own, f"deleting {stage} touched {sorted((before - after) ^ own)}"

    remaining = admin.topic_names()
    assert set(names_for(MAIN).all_topics) <= remaining
    assert set(UNRELATED) <= remaining
    assert running <= remaining


def test_dry_run_deletes_nothing(admin: TopicAdmin) -> None:
    stage = _fresh(admin, Stage("dry-run-x"))
    assert not reconcile_topics(admin, _local(stage), dry_run=False).failed
    before = admin.topic_names()
    result = delete_stage_topics(admin, stage, dry_run=True)
    assert set(result.selection.selected) == set(names_for(stage).all_topics)
    assert result.deleted == []
    assert admin.topic_names() == before
    assert delete_stage_topics(admin, stage, dry_run=False).ok


def test_create_twice_is_a_no_op_the_second_time(admin: TopicAdmin) -> None:
    stage = _fresh(admin, Stage("create-twice"))
    first = reconcile_topics(admin, _local(stage), dry_run=False)
    assert [r.action.kind for r in first.results] == [ActionKind.CREATE] * len(_local(stage))
    assert all(r.applied for r in first.results)
    described = admin.describe(names_for(stage).all_topics)
    for spec in _local(stage):
        assert described[spec.name].partitions == spec.partitions
        for key, value in spec.config.items():
            assert described[spec.name].config[key] == value
    second = reconcile_topics(admin, _local(stage), dry_run=False)
    assert {r.action.kind for r in second.results} == {ActionKind.OK}
    assert not any(r.applied for r in second.results)
    delete_stage_topics(admin, stage, dry_run=False)


def test_wrong_schema_history_retention_is_corrected(admin: TopicAdmin) -> None:
    stage = _fresh(admin, Stage("fix-history"))
    history = names_for(stage).schema_history_topic
    _ensure(admin, [_raw(history, 1, {"retention.ms": "604800000", "cleanup.policy": "compact"})])
    result = reconcile_topics(admin, _local(stage), dry_run=False)
    (fix,) = [r for r in result.results if r.action.spec.name == history]
    assert fix.action.kind is ActionKind.ALTER_CONFIG
    assert fix.applied
    config = admin.describe([history])[history].config
    assert config["retention.ms"] == "-1"
    assert config["retention.bytes"] == "-1"
    assert config["cleanup.policy"] == "delete"
    again = reconcile_topics(admin, _local(stage), dry_run=False)
    assert {r.action.kind for r in again.results} == {ActionKind.OK}
    delete_stage_topics(admin, stage, dry_run=False)


def test_wrong_partition_count_is_reported_and_left_alone(
    admin: TopicAdmin, topics_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = _fresh(admin, Stage("bad-partitions"))
    history = names_for(stage).schema_history_topic
    _ensure(admin, [_raw(history, 3, {"retention.ms": "-1", "retention.bytes": "-1"})])
    args = ["topics", "create", "--stage", stage.name, "--bootstrap", topics_bootstrap]
    code = main([*args, "--replication-factor", "1", "--json"])
    assert code == 1
    out = json.loads(capsys.readouterr().out)
    reports = [a for a in out["actions"] if a["action"] == "report"]
    assert [a["topic"] for a in reports] == [history]
    assert "has 3 partitions, specified 1" in reports[0]["problems"][0]
    assert admin.describe([history])[history].partitions == 3
    # Everything else was created all the same.
    assert set(names_for(stage).all_topics) <= admin.topic_names()
    delete_stage_topics(admin, stage, dry_run=False)


def test_cli_delete_needs_yes_and_refuses_named_stages(
    admin: TopicAdmin, topics_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = _fresh(admin, Stage("cli-delete"))
    assert not reconcile_topics(admin, _local(stage), dry_run=False).failed
    assert not reconcile_topics(admin, _local(MAIN), dry_run=False).failed
    base = ["topics", "delete", "--bootstrap", topics_bootstrap]
    for flags in ([], ["--yes"], ["--dry-run"], ["--yes", "--dry-run", "--json"]):
        assert main([*base, "--stage", "main", *flags]) == 2
    assert set(names_for(MAIN).all_topics) <= admin.topic_names()
    capsys.readouterr()

    assert main([*base, "--stage", stage.name]) == 2  # plan only without --yes
    assert set(names_for(stage).all_topics) <= admin.topic_names()
    capsys.readouterr()

    assert main([*base, "--stage", stage.name, "--dry-run", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["delete"]) == set(names_for(stage).all_topics)
    assert set(names_for(stage).all_topics) <= admin.topic_names()

    assert main([*base, "--stage", stage.name, "--yes", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["deleted"]) == set(names_for(stage).all_topics)
    assert not set(names_for(stage).all_topics) & admin.topic_names()


def test_delete_is_refused_while_the_stage_connect_group_has_members(
    admin: TopicAdmin, topics_bootstrap: str
) -> None:
    from confluent_kafka import Consumer

    stage = _fresh(admin, Stage("still-running"))
    assert not reconcile_topics(admin, _local(stage), dry_run=False).failed
    # A real client in the stage's Connect group stands for a worker that is still up.
    member = Consumer(
        {
            "bootstrap.servers": topics_bootstrap,
            "group.id": names_for(stage).group_id,
            "session.timeout.ms": 6000,
        }
    )
    try:
        member.subscribe([names_for(stage).config_topic])
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        assert member.assignment()
        with pytest.raises(ConnectStillRunningError, match="still has 1 member"):
            delete_stage_topics(admin, stage, dry_run=False)
        assert set(names_for(stage).all_topics) <= admin.topic_names()
        # A dry run only plans: allowed while the workers run.
        assert delete_stage_topics(admin, stage, dry_run=True).selection.selected
    finally:
        member.close()  # leaves the group at once
    assert delete_stage_topics(admin, stage, dry_run=False).ok
    assert not set(names_for(stage).all_topics) & admin.topic_names()
