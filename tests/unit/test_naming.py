"""Naming contract: exact names per stage kind, and every name valid for the service that holds it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms_connector.naming import BOUNDED_NAMES, CAPTURED_TABLES, StageNames, names_for
from wms_connector.stages import MAX_STAGE_LENGTH, NAMED_STAGES, Stage, stage_problem

# Each validator is written from the service's documented naming rule.
VALIDATORS: dict[str, re.Pattern[str]] = {
    # CloudFormation: starts with a letter; letters, digits, hyphens; <= 128.
    "stack": re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$"),
    # ECS cluster, service, task definition family: letters, digits, hyphens, underscores; <= 255.
    "ecs": re.compile(r"^[A-Za-z0-9_-]{1,255}$"),
    # IAM role: alphanumerics and +=,.@_- ; <= 64.
    "iam_role": re.compile(r"^[\w+=,.@-]{1,64}$"),
    # Lambda function name: letters, digits, hyphens, underscores; <= 64.
    "lambda": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    # EventBridge rule: . - _ letters digits; <= 64.
    "events_rule": re.compile(r"^[.\-_A-Za-z0-9]{1,64}$"),
    # SNS topic: letters, digits, hyphens, underscores; <= 256.
    "sns": re.compile(r"^[A-Za-z0-9_-]{1,256}$"),
    # DynamoDB table: letters, digits, _ . - ; 3..255.
    "dynamodb": re.compile(r"^[A-Za-z0-9_.-]{3,255}$"),
    # CloudWatch Logs group: . - _ / # letters digits; <= 512.
    "log_group": re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$"),
    # CloudWatch metric namespace: letters, digits, . - _ / # : and space; <= 255; not AWS/.
    "namespace": re.compile(r"^(?!AWS/)[A-Za-z0-9.\-_/#: ]{1,255}$"),
    # CloudWatch dashboard: letters, digits, - _ ; <= 255.
    "dashboard": re.compile(r"^[A-Za-z0-9_-]{1,255}$"),
    # CloudWatch alarm: printable ASCII; <= 255.
    "alarm": re.compile(r"^[\x20-\x7e]{1,255}$"),
    # Kafka topic: letters, digits, . _ - ; <= 249; not '.' or '..'.
    "kafka_topic": re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$"),
    # Secrets Manager: letters, digits, /_+=.@- ; <= 512.
    "secret": re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$"),
}


def names_by_service(n: StageNames) -> dict[str, tuple[str, ...]]:
    return {
        "stack": (n.alerts_stack, n.connector_stack),
        "ecs": (n.cluster, n.service, n.task_family),
        "iam_role": (n.task_role, n.execution_role, n.topics_role, n.redeploy_role),
        "lambda": (n.topics_function, n.redeploy_function),
        "events_rule": (n.task_stopped_rule, n.service_errors_rule, n.secret_change_rule),
        "sns": (n.alerts_topic,),
        "dynamodb": (n.agent_state_table,),
        "log_group": (
            n.connect_log_group,
            n.agent_log_group,
            n.topics_log_group,
            n.redeploy_log_group,
        ),
        "namespace": (n.metric_namespace,),
        "dashboard": (n.dashboard,),
        "alarm": (n.alarm("restart-budget-exhausted"), n.alarm("lag")),
        "kafka_topic": n.all_topics,
        "secret": tuple(p for name in ("dbInfo", "permissionsBoundary") for p in n.secret_paths(name)),
    }


valid_stages = st.from_regex(r"\A[a-z]([a-z0-9-]{0,34}[a-z0-9])?\Z", fullmatch=True).filter(
    lambda s: stage_problem(s) is None
)


def test_named_stage_names_are_the_contract() -> None:
    n = names_for(Stage("main"))
    assert n.topic_namespace == ""
    assert (n.alerts_stack, n.connector_stack) == ("wms-alerts-main", "wms-connector-main")
    assert n.service_prefix == "wms-connector-main"
    assert list(n.data_topics.values()) == [
        "wms.MMDL.PLAN_BASE_WVR_TBL",
        "wms.MMDL.PLAN_WVR_RVSN_TBL",
        "wms.WMS.PLAN_BASE_WVR_TBL",
        "wms.WMS.PLAN_WVR_RVSN_TBL",
    ]
    assert n.group_id == "mgmt.connect.wms-connector-main"
    assert (n.config_topic, n.offsets_topic, n.status_topic) == (
        "mgmt.connect.wms-connector-main.config",
        "mgmt.connect.wms-connector-main.offsets",
        "mgmt.connect.wms-connector-main.status",
    )
    assert n.schema_history_topic == "wms.schema-history"
    assert n.schema_change_topic == "wms"
    assert n.heartbeat_topic == "__debezium-heartbeat.wms"
    assert n.signal_topic == "wms.signal"
    assert n.secret_paths("dbInfo") == ("wms/main/dbInfo", "wms/default/dbInfo")
    assert n.metric_namespace == n.alarm_prefix == "wms-connector-main"


def test_ephemeral_stage_names_are_namespaced() -> None:
    n = names_for(Stage("feature-x"))
    assert n.topic_namespace == "--wms--feature-x--"
    assert n.data_topics[CAPTURED_TABLES[0]] == "--wms--feature-x--wms.MMDL.PLAN_BASE_WVR_TBL"
    assert n.group_id == "--wms--feature-x--mgmt.connect.wms-connector-feature-x"
    assert n.schema_history_topic == "--wms--feature-x--wms.schema-history"
    assert all(t.startswith("--wms--feature-x--") for t in n.all_topics)
    assert n.secret_paths("vpc") == ("wms/feature-x/vpc", "wms/default/vpc")


def test_four_captured_tables() -> None:
    assert [t.qualified for t in CAPTURED_TABLES] == [
        "MMDL.PLAN_BASE_WVR_TBL",
        "MMDL.PLAN_WVR_RVSN_TBL",
        "WMS.PLAN_BASE_WVR_TBL",
        "WMS.PLAN_WVR_RVSN_TBL",
    ]


def _fits(length: int) -> bool:
    n = StageNames(_unchecked_stage("a" * length))
    return all(len(name) <= bound.limit for bound in BOUNDED_NAMES for name in bound.names(n))


def _unchecked_stage(name: str) -> Stage:
    # Build a Stage past its length check, only to measure the names it would derive.
    stage = object.__new__(Stage)
    object.__setattr__(stage, "name", name)
    return stage


def test_max_stage_length_is_the_computed_bound() -> None:
    bound = max(n for n in range(1, 200) if _fits(n))
    assert bound == MAX_STAGE_LENGTH
    assert not _fits(MAX_STAGE_LENGTH + 1)


@pytest.mark.parametrize("stage", [*NAMED_STAGES, "a", "z" * MAX_STAGE_LENGTH, "a-" * 17 + "ab"])
def test_boundary_stages_yield_valid_names(stage: str) -> None:
    _assert_all_valid(names_for(Stage(stage)))


def _assert_all_valid(n: StageNames) -> None:
    for service, names in names_by_service(n).items():
        for name in names:
            assert VALIDATORS[service].match(name), f"{service}: {name!r}"


@given(valid_stages)
def test_every_valid_stage_yields_names_valid_for_every_service(stage: str) -> None:
    _assert_all_valid(names_for(Stage(stage)))


@given(valid_stages, valid_stages)
def test_distinct_stages_never_share_a_topic(a: str, b: str) -> None:
    # Named stages share data-topic names by contract: each runs on its own MSK cluster
    # (dev, val, prod). Every other pair must be disjoint.
    if a == b or (a in NAMED_STAGES and b in NAMED_STAGES):
        return
    assert not set(names_for(Stage(a)).all_topics) & set(names_for(Stage(b)).all_topics)


@given(valid_stages, valid_stages)
def test_no_namespace_is_a_prefix_of_another(a: str, b: str) -> None:
    sa, sb = Stage(a), Stage(b)
    if a == b or not (sa.is_ephemeral and sb.is_ephemeral):
        return
    na, nb = names_for(sa).topic_namespace, names_for(sb).topic_namespace
    assert not na.startswith(nb)
    assert not nb.startswith(na)


def test_named_pair_topics_differ_only_in_connect_internals() -> None:
    main, val = names_for(Stage("main")), names_for(Stage("val"))
    shared = set(main.all_topics) & set(val.all_topics)
    assert shared == {
        *main.data_topics.values(),
        "wms",
        "wms.schema-history",
        main.heartbeat_topic,
        "wms.signal",
        "wms.agent-hold",
    }
    assert main.group_id != val.group_id
