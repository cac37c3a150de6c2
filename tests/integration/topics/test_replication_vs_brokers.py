"""`topics create` against the one-broker local cluster: the replication factor is checked against
the broker count before anything is created."""

from __future__ import annotations

import uuid

import pytest

from wms_connector.cli import main
from wms_connector.kafka.admin import TopicAdmin
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
