"""Topic specs: every topic a stage owns, with the shape it must have (pure)."""

from __future__ import annotations

import json

import pytest

from wms_connector.cli import main
from wms_connector.kafka.topics import TopicRole, topic_specs
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.plan import build_plan, topic_roles
from wms_connector.stages import Stage, settings_for

STAGES = [Stage("main"), Stage("val"), Stage("production"), Stage("feature-x")]


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_specs_cover_exactly_all_topics_in_order(stage: Stage) -> None:
    assert tuple(s.name for s in topic_specs(stage)) == names_for(stage).all_topics


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_schema_history_is_one_partition_infinite_delete(stage: Stage) -> None:
    (history,) = [s for s in topic_specs(stage) if s.role is TopicRole.SCHEMA_HISTORY]
    assert history.name == names_for(stage).schema_history_topic
    assert history.partitions == 1
    assert history.config["cleanup.policy"] == "delete"
    assert history.config["retention.ms"] == "-1"
    assert history.config["retention.bytes"] == "-1"


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_connect_internal_topics_are_compacted_with_connect_partitions(stage: Stage) -> None:
    by_role = {s.role: s for s in topic_specs(stage)}
    settings = settings_for(stage)
    assert by_role[TopicRole.CONNECT_CONFIG].partitions == 1
    assert by_role[TopicRole.CONNECT_OFFSETS].partitions == settings.offsets_topic_partitions
    assert by_role[TopicRole.CONNECT_STATUS].partitions == 5
    for role in (TopicRole.CONNECT_CONFIG, TopicRole.CONNECT_OFFSETS, TopicRole.CONNECT_STATUS):
        assert by_role[role].config["cleanup.policy"] == "compact"


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_data_topics_follow_stage_settings(stage: Stage) -> None:
    settings = settings_for(stage)
    data = [s for s in topic_specs(stage) if s.role is TopicRole.DATA]
    assert [s.table for s in data] == [t.qualified for t in CAPTURED_TABLES]
    for spec in data:
        assert spec.partitions == settings.data_topic_partitions
        # The table's replica: compacted, full history for the stage's window (3/7/7/14 days).
        assert spec.config["cleanup.policy"] == "compact"
        assert spec.config["min.compaction.lag.ms"] == str(settings.data_retention_ms)
        assert spec.config["delete.retention.ms"] == str(settings.data_retention_ms)
        assert spec.config["retention.ms"] == "-1"


@pytest.mark.parametrize(
    ("stage", "days"), [("feature-x", 3), ("main", 7), ("val", 7), ("production", 14)], ids=str
)
def test_history_window_per_stage_kind(stage: str, days: int) -> None:
    (spec, *_) = [s for s in topic_specs(Stage(stage)) if s.role is TopicRole.DATA]
    assert int(spec.config["min.compaction.lag.ms"]) == days * 24 * 3600 * 1000


def test_signal_and_heartbeat_have_one_partition() -> None:
    by_role = {s.role: s for s in topic_specs(Stage("feature-x"))}
    assert by_role[TopicRole.SIGNAL].partitions == 1
    assert by_role[TopicRole.HEARTBEAT].partitions == 1


@pytest.mark.parametrize(("rf", "min_isr"), [(1, None), (2, None), (3, "2"), (5, "2")])
def test_min_insync_replicas_only_from_rf_three(rf: int, min_isr: str | None) -> None:
    for spec in topic_specs(Stage("main"), replication_factor=rf):
        assert spec.replication_factor == rf
        assert spec.config.get("min.insync.replicas") == min_isr


def test_replication_factor_defaults_to_the_stage() -> None:
    assert {s.replication_factor for s in topic_specs(Stage("production"))} == {
        settings_for(Stage("production")).replication_factor
    }


def test_replication_factor_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        topic_specs(Stage("main"), replication_factor=0)


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_plan_topics_are_read_from_the_specs(stage: Stage) -> None:
    specs = topic_specs(stage)
    roles = topic_roles(stage)
    assert [(r["name"], r["role"]) for r in roles] == [(s.name, s.role.value) for s in specs]
    assert [r.get("table") for r in roles] == [s.table for s in specs]
    assert build_plan(stage)["topics"] == roles


def test_cli_topics_json_lists_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "--stage", "feature-x", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [s.to_json() for s in topic_specs(Stage("feature-x"))]
    assert set(listed[0]) == {"name", "role", "partitions", "replication_factor", "config"}


def test_cli_topics_without_stage_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics"]) == 2
    assert "--stage" in capsys.readouterr().err


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_connect_topic_specs_agree_with_the_worker_config(stage: Stage) -> None:
    # Workers create their internal topics when missing; whoever creates them, the shape is the same.
    from wms_connector.connect.worker_config import WorkerEndpoint, worker_config

    props = worker_config(stage, WorkerEndpoint("b-1.msk:9094", "10.0.0.1"), ())
    by_role = {s.role: s for s in topic_specs(stage)}
    for role, prefix in (
        (TopicRole.CONNECT_CONFIG, "config"),
        (TopicRole.CONNECT_OFFSETS, "offset"),
        (TopicRole.CONNECT_STATUS, "status"),
    ):
        spec = by_role[role]
        assert props[f"{prefix}.storage.topic"] == spec.name
        assert props[f"{prefix}.storage.replication.factor"] == str(spec.replication_factor)
        if role is not TopicRole.CONNECT_CONFIG:
            assert props[f"{prefix}.storage.partitions"] == str(spec.partitions)
