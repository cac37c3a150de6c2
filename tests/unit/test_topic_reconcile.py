"""The reconcile planner: desired specs vs broker state -> actions (pure)."""

from __future__ import annotations

import pytest

from wms_connector.kafka.reconcile import Action, ActionKind, TopicState, plan_topics
from wms_connector.kafka.topics import TopicRole, TopicSpec, topic_specs
from wms_connector.stages import Stage

SPECS = topic_specs(Stage("feature-x"), replication_factor=3)


def _by_role(role: TopicRole) -> TopicSpec:
    return next(s for s in SPECS if s.role is role)


def _state(
    spec: TopicSpec,
    *,
    partitions: int | None = None,
    rf: int | None = None,
    config: dict[str, str] | None = None,
) -> TopicState:
    # The broker reports every config, defaults included; extras must not matter.
    return TopicState(
        partitions=spec.partitions if partitions is None else partitions,
        replication_factor=spec.replication_factor if rf is None else rf,
        config={
            "segment.bytes": "1073741824",
            "compression.type": "producer",
            **spec.config,
            **(config or {}),
        },
    )


def _plan_one(spec: TopicSpec, state: TopicState) -> dict[ActionKind, Action]:
    actions = plan_topics([spec], {spec.name: state})
    assert all(a.spec == spec for a in actions)
    return {a.kind: a for a in actions}


def test_missing_topics_are_created() -> None:
    actions = plan_topics(SPECS, {})
    assert [(a.kind, a.spec) for a in actions] == [(ActionKind.CREATE, s) for s in SPECS]


def test_matching_topics_are_ok_and_unknown_topics_ignored() -> None:
    actual = {s.name: _state(s) for s in SPECS} | {"someone-else": TopicState(7, 1, {})}
    actions = plan_topics(SPECS, actual)
    assert [(a.kind, a.spec.name) for a in actions] == [(ActionKind.OK, s.name) for s in SPECS]


def test_schema_history_with_time_retention_is_fixed() -> None:
    history = _by_role(TopicRole.SCHEMA_HISTORY)
    plan = _plan_one(
        history, _state(history, config={"retention.ms": "604800000", "retention.bytes": "1000"})
    )
    assert set(plan) == {ActionKind.ALTER_CONFIG}
    assert plan[ActionKind.ALTER_CONFIG].changes == {"retention.ms": "-1", "retention.bytes": "-1"}


def test_schema_history_compacted_is_fixed_to_delete() -> None:
    history = _by_role(TopicRole.SCHEMA_HISTORY)
    plan = _plan_one(history, _state(history, config={"cleanup.policy": "compact"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {"cleanup.policy": "delete"}


def test_connect_topic_not_compacted_is_fixed() -> None:
    offsets = _by_role(TopicRole.CONNECT_OFFSETS)
    plan = _plan_one(offsets, _state(offsets, config={"cleanup.policy": "delete"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {"cleanup.policy": "compact"}


def test_cleanup_policy_order_does_not_matter() -> None:
    spec = TopicSpec("t", TopicRole.DATA, 1, 1, {"cleanup.policy": "compact,delete"})
    state = TopicState(1, 1, {"cleanup.policy": "delete, compact"})
    assert [a.kind for a in plan_topics([spec], {"t": state})] == [ActionKind.OK]


def test_data_topic_with_finite_retention_is_set_to_infinite() -> None:
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, config={"retention.ms": "604800000"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {"retention.ms": "-1"}


def test_existing_delete_data_topic_becomes_compacted_in_one_change() -> None:
    """The topic of a stage deployed before issues 21 and 22: delete, 7 d, no compaction keys and no
    topic compression set; one change brings all of them."""
    data = _by_role(TopicRole.DATA)
    state = TopicState(
        data.partitions,
        data.replication_factor,
        {"cleanup.policy": "delete", "retention.ms": "604800000", "min.insync.replicas": "2"},
    )
    plan = _plan_one(data, state)
    assert set(plan) == {ActionKind.ALTER_CONFIG}
    action = plan[ActionKind.ALTER_CONFIG]
    window = data.config["min.compaction.lag.ms"]
    assert action.changes == {
        "cleanup.policy": "compact",
        "min.compaction.lag.ms": window,
        "delete.retention.ms": window,
        "retention.ms": "-1",
        "compression.type": data.config["compression.type"],
    }
    # The plan shows what each key is now.
    assert action.to_json()["current"] == {
        "cleanup.policy": "delete",
        "compression.type": None,
        "delete.retention.ms": None,
        "min.compaction.lag.ms": None,
        "retention.ms": "604800000",
    }


def test_compact_delete_data_topic_drops_delete() -> None:
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, config={"cleanup.policy": "compact,delete"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {"cleanup.policy": "compact"}


@pytest.mark.parametrize("key", ["min.compaction.lag.ms", "delete.retention.ms"])
def test_data_topic_retention_longer_than_specified_is_reported_not_shortened(key: str) -> None:
    data = _by_role(TopicRole.DATA)
    longer = str(int(data.config[key]) * 2)
    plan = _plan_one(data, _state(data, config={key: longer}))
    assert set(plan) == {ActionKind.REPORT}
    assert f"{key} is {longer}" in plan[ActionKind.REPORT].problems[0]


def test_shorter_history_window_is_lengthened() -> None:
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, config={"min.compaction.lag.ms": "1000"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {
        "min.compaction.lag.ms": data.config["min.compaction.lag.ms"]
    }


def test_switch_to_compact_is_held_while_its_window_cannot_be_set() -> None:
    data = _by_role(TopicRole.DATA)
    longer = str(int(data.config["min.compaction.lag.ms"]) * 2)
    plan = _plan_one(data, _state(data, config={"cleanup.policy": "delete", "min.compaction.lag.ms": longer}))
    assert "cleanup.policy" not in plan.get(ActionKind.ALTER_CONFIG, Action(ActionKind.OK, data)).changes
    assert any("cleanup.policy stays delete" in p for p in plan[ActionKind.REPORT].problems)


def test_compacted_topic_is_not_switched_to_finite_delete() -> None:
    history_like = TopicSpec(
        "t", TopicRole.SCHEMA_CHANGES, 1, 1, {"cleanup.policy": "delete", "retention.ms": "1000"}
    )
    plan = _plan_one(history_like, TopicState(1, 1, {"cleanup.policy": "compact", "retention.ms": "1000"}))
    assert set(plan) == {ActionKind.REPORT}
    assert "deletes data" in plan[ActionKind.REPORT].problems[0]


def test_min_insync_replicas_is_fixed() -> None:
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, config={"min.insync.replicas": "1"}))
    assert plan[ActionKind.ALTER_CONFIG].changes == {"min.insync.replicas": "2"}


def test_missing_config_key_is_set() -> None:
    history = _by_role(TopicRole.SCHEMA_HISTORY)
    state = TopicState(1, 3, {"cleanup.policy": "delete"})
    plan = _plan_one(history, state)
    assert plan[ActionKind.ALTER_CONFIG].changes == {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "min.insync.replicas": "2",
    }


@pytest.mark.parametrize("partitions", [2, 6])
def test_wrong_partition_count_is_reported_and_left_alone(partitions: int) -> None:
    history = _by_role(TopicRole.SCHEMA_HISTORY)
    plan = _plan_one(history, _state(history, partitions=partitions))
    assert set(plan) == {ActionKind.REPORT}
    assert f"has {partitions} partitions, specified 1" in plan[ActionKind.REPORT].problems[0]


def test_wrong_replication_factor_is_reported() -> None:
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, rf=1))
    assert "replication factor 1, specified 3" in plan[ActionKind.REPORT].problems[0]


def test_fixable_and_unfixable_on_one_topic_give_both_actions() -> None:
    history = _by_role(TopicRole.SCHEMA_HISTORY)
    plan = _plan_one(history, _state(history, partitions=3, config={"retention.ms": "1000"}))
    assert set(plan) == {ActionKind.ALTER_CONFIG, ActionKind.REPORT}
    assert plan[ActionKind.ALTER_CONFIG].changes == {"retention.ms": "-1"}


def test_min_insync_replicas_above_the_actual_replication_factor_is_reported_not_set() -> None:
    # RF 1 on the broker (a mistake to report), min.insync.replicas 1: raising it to 2 would make
    # every acks=all write to the topic fail, i.e. stop the stage. Leave it, and say why.
    data = _by_role(TopicRole.DATA)
    plan = _plan_one(data, _state(data, rf=1, config={"min.insync.replicas": "1"}))
    assert set(plan) == {ActionKind.REPORT}
    problems = plan[ActionKind.REPORT].problems
    assert any("min.insync.replicas is 1, specified 2" in p and "1 replica(s)" in p for p in problems)
