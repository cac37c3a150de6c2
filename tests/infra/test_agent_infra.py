"""The connect-agent in the synthesized connector stack of every stage kind: its container, its
alarms (names, thresholds, missing data, actions, runbook links) and the dashboard."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

from tests.infra.conftest import STAGES, Synthesized
from tests.infra.dashboard_picture import dashboard_document, dashboard_svg, layout_problems
from tests.infra.helpers import connector
from wms_connector.infra.agent_alarms import alarm_specs, heartbeat_threshold
from wms_connector.infra.agent_sidecar import HEALTHZ_PORT, STATE_DIR
from wms_connector.naming import AgentMetric, AlarmKind, names_for, runbook_anchor
from wms_connector.stages import Stage, settings_for


def _containers(synthesized: Synthesized, stage: str) -> dict[str, dict[str, Any]]:
    template = synthesized.template(names_for(Stage(stage)).connector_stack)
    [task] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
        and r["Properties"]["Family"] == names_for(Stage(stage)).task_family
    ]
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


@pytest.mark.parametrize("stage", STAGES)
def test_agent_container_is_non_essential_restarts_alone_and_is_sized_by_the_stage(
    synthesized: Synthesized, stage: str
) -> None:
    names, settings = names_for(Stage(stage)), settings_for(Stage(stage))
    containers = _containers(synthesized, stage)
    agent, connect = containers[names.agent_container], containers[names.connect_container]
    assert agent["Essential"] is False and connect["Essential"] is True
    assert agent["RestartPolicy"]["Enabled"] is True
    assert (agent["Cpu"], agent["Memory"]) == (settings.agent_cpu, settings.agent_memory_mib) == (256, 256)
    assert agent["Cpu"] + connect["Cpu"] == settings.task_cpu
    assert agent["EntryPoint"] == ["wms-connector"]
    assert agent["Command"][:3] == ["agent", "--stage", stage]
    assert f"localhost:{HEALTHZ_PORT}/healthz" in " ".join(agent["HealthCheck"]["Command"])
    assert "HealthCheck" in connect  # the worker keeps its own
    assert agent["DependsOn"] == [{"ContainerName": names.connect_container, "Condition": "START"}]
    assert agent["MountPoints"][0]["ContainerPath"] == STATE_DIR
    # Logs in the /agent group, through awslogs (EMF lines become metrics there).
    assert agent["LogConfiguration"]["LogDriver"] == "awslogs"
    connector(synthesized, stage).has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": names.agent_log_group, "RetentionInDays": settings.log_retention_days},
    )


@pytest.mark.parametrize("stage", STAGES)
def test_agent_gets_the_oracle_user_but_never_the_password(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    agent = _containers(synthesized, stage)[names.agent_container]
    env = {e["Name"]: e["Value"] for e in agent["Environment"]}
    assert {"WMS_STAGE", "KAFKA_BOOTSTRAP_SERVERS", "ORACLE_HOST", "ORACLE_PORT", "ORACLE_DB"} <= set(env)
    # The Oracle user and the REST credential (connect.rest_auth); never the Oracle password.
    assert [s["Name"] for s in agent["Secrets"]] == ["ORACLE_USER", "WMS_REST_USER", "WMS_REST_PASSWORD"]
    assert "ORACLE_PASSWORD" not in json.dumps(agent)


@pytest.mark.parametrize("stage", STAGES)
def test_every_agent_alarm_with_its_threshold_missing_data_and_actions(
    synthesized: Synthesized, stage: str
) -> None:
    names, settings = names_for(Stage(stage)), settings_for(Stage(stage))
    template = connector(synthesized, stage)
    specs = {s.kind: s for s in alarm_specs(settings)}
    assert set(specs) == set(AlarmKind) - {AlarmKind.RUNNING_TASKS_BELOW_DESIRED, AlarmKind.AUDIT_DIFFERS}
    for kind, spec in specs.items():
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": names.alarm_for(kind),
                "Namespace": names.metric_namespace,
                "MetricName": spec.metric.value,
                "Dimensions": [
                    {"Name": "Connector", "Value": names.connector},
                    {"Name": "Stage", "Value": stage},
                ],
                "Threshold": spec.threshold,
                "EvaluationPeriods": spec.evaluation_periods,
                "TreatMissingData": "breaching"
                if kind is AlarmKind.AGENT_HEARTBEAT_MISSING
                else "notBreaching",
                "AlarmActions": [{"Fn::ImportValue": names.alerts_topic_export}],
                "OKActions": [{"Fn::ImportValue": names.alerts_topic_export}],
                "AlarmDescription": Match.string_like_regexp(f"Runbook: {runbook_anchor(kind)}$"),
            },
        )
    # The thresholds are the stage's.
    assert specs[AlarmKind.LAG].threshold == settings.lag_alarm_ms
    assert specs[AlarmKind.NO_EVENTS].threshold == settings.stale_event_alarm_ms
    assert specs[AlarmKind.AGENT_HEARTBEAT_MISSING].threshold == heartbeat_threshold(settings)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": names.alarm_for(AlarmKind.RUNNING_TASKS_BELOW_DESIRED),
            "AlarmDescription": Match.string_like_regexp(
                runbook_anchor(AlarmKind.RUNNING_TASKS_BELOW_DESIRED)
            ),
        },
    )


@pytest.mark.parametrize(("workers", "expected"), [(1, 15.0), (2, 45.0)])  # 2 s poll: 30 a minute
def test_heartbeat_threshold_catches_one_silent_agent(workers: int, expected: float) -> None:
    settings = settings_for(Stage("main")).model_copy(update={"worker_count": workers})
    per_agent_per_minute = 60_000 / settings.agent_poll_interval_ms
    threshold = heartbeat_threshold(settings)
    assert threshold == expected
    assert workers * per_agent_per_minute >= threshold  # all alive: no alarm
    assert (workers - 1) * per_agent_per_minute < threshold  # one gone: alarm


@pytest.mark.parametrize("stage", STAGES)
def test_one_dashboard_per_stage_with_every_alarm_and_the_lag(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    template = connector(synthesized, stage)
    body = Capture()
    template.has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": names.dashboard, "DashboardBody": body}
    )
    text = json.dumps(body.as_object())
    alarm_ids = list(template.find_resources("AWS::CloudWatch::Alarm"))
    assert len(alarm_ids) == len(AlarmKind)
    for logical_id in alarm_ids:  # the alarm status widget shows every alarm of the stage
        assert logical_id in text
    for metric in (
        AgentMetric.LAG_MS,
        AgentMetric.SINCE_LAST_EVENT_MS,
        AgentMetric.HEARTBEAT,
        AgentMetric.RESTARTS,
    ):
        assert metric.value in text


@pytest.mark.parametrize("stage", STAGES)
def test_dashboard_picture_lays_out_cleanly(synthesized: Synthesized, stage: str, tmp_path: Path) -> None:
    names = names_for(Stage(stage))
    body = Capture()
    connector(synthesized, stage).has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardBody": body}
    )
    document = dashboard_document(body.as_object())
    assert layout_problems(document) == []
    assert [w["type"] for w in document["widgets"]].count("alarm") == 1
    out = Path(os.environ.get("WMS_DASHBOARD_PICTURES", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    svg = dashboard_svg(document, names.dashboard)
    (out / f"{stage}.svg").write_text(svg)
    assert svg.count("<rect") == len(document["widgets"]) + 1


def test_layout_check_catches_overlap_and_empty_widgets() -> None:
    document = {
        "widgets": [
            {
                "type": "metric",
                "x": 0,
                "y": 0,
                "width": 12,
                "height": 6,
                "properties": {"title": "a", "metrics": [1]},
            },
            {"type": "metric", "x": 6, "y": 2, "width": 20, "height": 6, "properties": {"title": "b"}},
        ]
    }
    assert layout_problems(document) == [
        "widget 'b' leaves the 24-column grid",
        "widget 'b' shows no metric",
        "widgets 'a' and 'b' overlap",
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_archive_retention_is_one_setting_for_preflight_agent_and_dashboard(
    synthesized: Synthesized, stage: str
) -> None:
    from wms_connector.agent.policy import Policy
    from wms_connector.preflight.target import archive_hours_for

    settings = settings_for(Stage(stage))
    expected_h = 72.0 if stage == "production" else 24.0
    assert archive_hours_for(Stage(stage)) == settings.archive_log_retention_hours == expected_h
    assert Policy.from_settings(settings).archive_retention_ms == expected_h * 3_600_000
    body = Capture()
    connector(synthesized, stage).has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardBody": body}
    )
    document = dashboard_document(body.as_object())
    marks = [
        annotation
        for widget in document["widgets"]
        for annotation in widget.get("properties", {}).get("annotations", {}).get("horizontal", [])
        if annotation.get("label") == "archive-log retention"
    ]
    assert [m["value"] for m in marks] == [expected_h * 3_600_000]
