"""The scheduled audit in the synthesized connector stack of every stage kind (issue 21): the
schedule, the task from the Connect image with no password anywhere, the alarm and the widget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import FAKE_PASSWORD, IAM_VARIANT, STAGES, Synthesized
from tests.infra.helpers import connector
from wms_connector.naming import AlarmKind, AuditMetric, names_for, runbook_anchor
from wms_connector.stages import Stage, settings_for

ALL = (*STAGES, IAM_VARIANT)


def _resources(synthesized: Synthesized, stage: str, kind: str) -> list[dict[str, Any]]:
    template = synthesized.template(names_for(Stage(stage)).connector_stack)
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _audit_task(synthesized: Synthesized, stage: str) -> dict[str, Any]:
    names = names_for(Stage(stage))
    [task] = [
        r
        for r in _resources(synthesized, stage, "AWS::ECS::TaskDefinition")
        if r["Properties"]["Family"] == names.audit_task_family
    ]
    return task


@pytest.mark.parametrize("stage", ALL)
def test_the_audit_runs_on_the_stage_schedule_as_a_fargate_task(synthesized: Synthesized, stage: str) -> None:
    names, settings = names_for(Stage(stage)), settings_for(Stage(stage))
    [schedule] = _resources(synthesized, stage, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["Name"] == names.audit_schedule
    assert props["ScheduleExpression"] == settings.audit_schedule
    assert props["State"] == "ENABLED"
    ecs = props["Target"]["EcsParameters"]
    assert ecs["LaunchType"] == "FARGATE" and ecs.get("TaskCount", 1) == 1
    assert ecs["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    connector(synthesized, stage).has_resource_properties(
        "AWS::IAM::Role", {"RoleName": names.audit_scheduler_role}
    )
    expected = "cron(30 4 * * ? *)" if stage == "production" else "rate(1 day)"
    assert settings.audit_schedule == expected


@pytest.mark.parametrize("stage", ALL)
def test_the_audit_task_runs_wms_connector_audit_from_the_same_image_without_a_password(
    synthesized: Synthesized, stage: str
) -> None:
    names = names_for(Stage(stage))
    inputs = synthesized.inputs[stage]
    task = _audit_task(synthesized, stage)
    [container] = task["Properties"]["ContainerDefinitions"]
    assert container["Name"] == names.audit_container
    assert container["EntryPoint"] == ["wms-connector"]
    assert container["Command"][:5] == ["audit", "--stage", stage, "--emf", "--db-secret"]
    assert container["Command"][5] == inputs.secrets.db_info.path
    assert "Secrets" not in container  # not even injected: the task reads the secret itself
    assert all("PASSWORD" not in e["Name"] for e in container.get("Environment", []))
    [worker] = [
        r
        for r in _resources(synthesized, stage, "AWS::ECS::TaskDefinition")
        if r["Properties"]["Family"] == names.task_family
    ]
    connect = next(
        c for c in worker["Properties"]["ContainerDefinitions"] if c["Name"] == names.connect_container
    )
    assert container["Image"] == connect["Image"]  # one image
    text = json.dumps(synthesized.template(names.connector_stack))
    assert FAKE_PASSWORD not in text


@pytest.mark.parametrize("stage", ALL)
def test_the_audit_task_role_may_read_the_db_secret(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    task = _audit_task(synthesized, stage)
    template = synthesized.template(names.connector_stack)
    role_id = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    assert template["Resources"][role_id]["Properties"]["RoleName"] == names.audit_task_role
    actions = [
        action
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    ]
    assert "secretsmanager:GetSecretValue" in actions


@pytest.mark.parametrize("stage", ALL)
def test_an_alarm_fires_when_any_audit_metric_is_above_zero(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    connector(synthesized, stage).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": names.alarm_for(AlarmKind.AUDIT_DIFFERS),
            "AlarmDescription": Match.string_like_regexp(runbook_anchor(AlarmKind.AUDIT_DIFFERS)),
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "ignore",
            "Metrics": Match.array_with(
                [
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": Match.object_like(
                                        {"MetricName": metric.value, "Namespace": names.metric_namespace}
                                    ),
                                    "Stat": "Maximum",
                                }
                            )
                        }
                    )
                    for metric in AuditMetric
                ]
            ),
            "AlarmActions": Match.any_value(),
            "OKActions": Match.any_value(),
        },
    )


@pytest.mark.parametrize("stage", STAGES)
def test_the_dashboard_shows_the_audit(synthesized: Synthesized, stage: str) -> None:
    [dashboard] = _resources(synthesized, stage, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in AuditMetric:
        assert metric.value in body
    assert "Audit: rows missing" in body
