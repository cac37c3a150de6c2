"""The connector stack of every stage kind: names, counts, sizing, deployment, events, alarms."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from tests.infra.conftest import IAM_VARIANT, LEGACY, MTLS_VARIANT, STAGES, TARGET, Synthesized
from tests.infra.helpers import connector, flatten
from wms_connector.image.context import DOCKERFILE
from wms_connector.infra.redeploy import HANDLER as REDEPLOY_HANDLER
from wms_connector.infra.topics import HANDLER, RESOURCE_TYPE, topics_digest
from wms_connector.lambdas.redeploy import VALUE_CHANGING_CALLS
from wms_connector.naming import AlarmKind, names_for
from wms_connector.stages import Stage, settings_for


def test_every_stage_has_exactly_its_two_stacks(synthesized: Synthesized) -> None:
    expected = set()
    for stage in (*STAGES, IAM_VARIANT, LEGACY, MTLS_VARIANT):
        names = names_for(Stage(stage))
        expected |= {names.alerts_stack, names.connector_stack}
    assert set(synthesized.templates) == expected


@pytest.mark.parametrize("stage", STAGES)
def test_resource_counts(synthesized: Synthesized, stage: str) -> None:
    template = connector(synthesized, stage)
    template.resource_count_is("AWS::ECS::Cluster", 1)
    template.resource_count_is("AWS::ECS::Service", 1)
    # the workers' and the scheduled audit's (tests/infra/test_audit_infra.py)
    template.resource_count_is("AWS::ECS::TaskDefinition", 2)
    template.resource_count_is("AWS::Events::Rule", 3)
    template.resource_count_is("AWS::Scheduler::Schedule", 1)
    # one alarm per AlarmKind: running tasks, the agent's (tests/infra/test_agent_infra.py), the
    # audit's; one dashboard
    template.resource_count_is("AWS::CloudWatch::Alarm", len(AlarmKind))
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    template.resource_count_is("AWS::KMS::Key", 1)
    # task, exec, topics Lambda, redeploy Lambda, audit task, audit scheduler: the same for every stage kind
    template.resource_count_is("AWS::IAM::Role", 6)
    template.resource_count_is("AWS::EC2::SecurityGroup", 2)
    # connect + agent + exec audit + the topics and redeploy Lambdas' groups + the scheduled audit
    template.resource_count_is("AWS::Logs::LogGroup", 6)
    template.resource_count_is("AWS::Lambda::Function", 2)
    template.resource_count_is(RESOURCE_TYPE, 1)
    template.resource_count_is("AWS::EC2::NatGateway", 0)


@pytest.mark.parametrize("stage", STAGES)
def test_names_come_from_naming(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    template = connector(synthesized, stage)
    template.has_resource_properties("AWS::ECS::Cluster", {"ClusterName": names.cluster})
    template.has_resource_properties("AWS::ECS::Service", {"ServiceName": names.service})
    template.has_resource_properties("AWS::ECS::TaskDefinition", {"Family": names.task_family})
    for role in (names.task_role, names.execution_role):
        template.has_resource_properties("AWS::IAM::Role", {"RoleName": role})
    for log_group in (names.connect_log_group, names.exec_log_group):
        template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": log_group})
    for rule in (names.task_stopped_rule, names.service_errors_rule):
        template.has_resource_properties("AWS::Events::Rule", {"Name": rule})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": names.alarm("running-tasks-below-desired")}
    )
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"GroupName": names.security_group})


@pytest.mark.parametrize("stage", STAGES)
def test_service_runs_the_stage_worker_count_with_safe_deployments(
    synthesized: Synthesized, stage: str
) -> None:
    settings = settings_for(Stage(stage))
    template = connector(synthesized, stage)
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "DesiredCount": settings.worker_count,
            "LaunchType": "FARGATE",
            "EnableExecuteCommand": True,
            "AvailabilityZoneRebalancing": "ENABLED",
            "DeploymentConfiguration": {
                "MinimumHealthyPercent": 100,
                "MaximumPercent": 200,
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
            },
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "AssignPublicIp": "DISABLED",
                    # both private subnets of the example vpc secret: tasks spread over two AZs
                    "Subnets": ["subnet-0fa4e000000000001", "subnet-0fa4e000000000002"],
                }
            },
        },
    )
    template.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )
    # A worker stopped by a deploy gets time to leave the group cleanly (failover ~1 s, not 6 s).
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": Match.array_with(
                [Match.object_like({"Name": names_for(Stage(stage)).connect_container, "StopTimeout": 60})]
            )
        },
    )


@pytest.mark.parametrize("stage", STAGES)
def test_task_and_container_sizes_follow_the_stage(synthesized: Synthesized, stage: str) -> None:
    settings = settings_for(Stage(stage))
    inputs = synthesized.inputs[stage]
    names = names_for(Stage(stage))
    template = connector(synthesized, stage)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": str(settings.task_cpu),
            "Memory": str(settings.task_memory_mib),
            "RequiresCompatibilities": ["FARGATE"],
            "ContainerDefinitions": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Name": names.connect_container,
                            "Cpu": settings.connect_cpu,
                            "Memory": settings.connect_memory_mib,
                            "Essential": True,
                            "PortMappings": [Match.object_like({"ContainerPort": 8083})],
                            "Environment": Match.array_with(
                                [
                                    {"Name": "WMS_STAGE", "Value": stage},
                                    {
                                        "Name": "KAFKA_BOOTSTRAP_SERVERS",
                                        "Value": str(inputs.secrets.broker_string.value),
                                    },
                                ]
                            ),
                        }
                    )
                ]
            ),
        },
    )


@pytest.mark.parametrize("stage", STAGES)
def test_logs_go_to_the_encrypted_stage_log_group_with_stage_retention(
    synthesized: Synthesized, stage: str
) -> None:
    settings = settings_for(Stage(stage))
    names = names_for(Stage(stage))
    template = connector(synthesized, stage)
    template.all_resources_properties(
        "AWS::Logs::LogGroup",
        {"RetentionInDays": settings.log_retention_days, "KmsKeyId": Match.any_value()},
    )
    log_group = Capture()
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Name": names.connect_container,
                            "LogConfiguration": {
                                "LogDriver": "awslogs",
                                "Options": Match.object_like({"awslogs-group": log_group}),
                            },
                        }
                    )
                ]
            )
        },
    )
    # the awslogs group is a Ref to the log group named connect_log_group
    groups = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": names.connect_log_group}}
    )
    assert log_group.as_object() == {"Ref": next(iter(groups))}


@pytest.mark.parametrize("stage", STAGES)
def test_events_and_alarm_go_to_the_alerts_topic(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    settings = settings_for(Stage(stage))
    template = connector(synthesized, stage)
    topic = {"Fn::ImportValue": names.alerts_topic_export}
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": names.task_stopped_rule,
            "EventPattern": {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": Match.object_like({"lastStatus": ["STOPPED"]}),
            },
            "Targets": [Match.object_like({"Arn": topic})],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": names.service_errors_rule,
            "EventPattern": Match.object_like({"detail": Match.object_like({"eventType": ["ERROR"]})}),
            "Targets": [Match.object_like({"Arn": topic})],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "ECS/ContainerInsights",
            "MetricName": "RunningTaskCount",
            "Dimensions": Match.array_with([{"Name": "ServiceName", "Value": names.service}]),
            "Threshold": settings.worker_count,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
            "AlarmActions": [topic],
        },
    )


@pytest.mark.parametrize("stage", STAGES)
def test_topics_resource_for_every_stage_before_the_service_on_create_after_it_on_destroy(
    synthesized: Synthesized, stage: str
) -> None:
    names = names_for(Stage(stage))
    template = connector(synthesized, stage)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": names.topics_function,
            "Runtime": "python3.12",
            "Handler": HANDLER,
            "VpcConfig": Match.object_like(
                {"SubnetIds": ["subnet-0fa4e000000000001", "subnet-0fa4e000000000002"]}
            ),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "STAGE": stage,
                        "BOOTSTRAP": str(synthesized.inputs[stage].secrets.broker_string.value),
                        "ALERTS_TOPIC_ARN": {"Fn::ImportValue": names.alerts_topic_export},
                        "REPLICATION_FACTOR": Match.absent(),
                    }
                )
            },
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": names.topics_log_group})
    resources = template.find_resources(RESOURCE_TYPE)
    assert len(resources) == 1
    (resource_id,) = resources
    properties = resources[resource_id]["Properties"]
    assert (properties["Stage"], properties["Topics"]) == (stage, topics_digest(names))
    # The service depends on the topics resource: CloudFormation creates it after the topics exist
    # and deletes it before the topics resource (whose Delete removes a branch stage's topics).
    template.has_resource("AWS::ECS::Service", {"DependsOn": Match.array_with([resource_id])})


def test_topics_digest_changes_with_the_specs() -> None:
    digests = {stage: topics_digest(names_for(Stage(stage))) for stage in STAGES}
    assert len(set(digests.values())) == len(STAGES)  # val differs from main only in workers: RF same
    assert topics_digest(names_for(Stage("main"))) == digests["main"]  # stable


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT, LEGACY, MTLS_VARIANT])
def test_dbinfo_change_redeploys_the_service(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    secrets = synthesized.inputs[stage].secrets
    # dbInfo (the Oracle user is read at task start) and the password's secret (rotation); the
    # legacy layout has one secret for both; an mtls stage's client certificate (renewal) too.
    watched = [secrets.db_info.path] + ([] if stage == LEGACY else [secrets.password_source.path])
    watched += [f"wms/{MTLS_VARIANT}/kafkaClientCert"] if stage == MTLS_VARIANT else []
    assert synthesized.inputs[stage].redeploy_secrets == tuple(watched)
    secret_ids: list[object] = []
    for path in watched:
        secret_ids += [path, {"prefix": Match.any_value()}]
    template = connector(synthesized, stage)
    (rule,) = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("Name") == names.secret_change_rule
    ]
    prefixes = [
        flatten(m["prefix"]) for m in rule["EventPattern"]["detail"]["requestParameters"]["secretId"][1::2]
    ]
    assert prefixes == [
        f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:{p}" for p in watched
    ]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": names.secret_change_rule,
            "EventPattern": {
                "source": ["aws.secretsmanager"],
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {
                    "eventSource": ["secretsmanager.amazonaws.com"],
                    "eventName": list(VALUE_CHANGING_CALLS),
                    "requestParameters": {"secretId": secret_ids},
                },
            },
            "Targets": [Match.object_like({"Arn": Match.any_value()})],
        },
    )
    function = Capture()
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": names.redeploy_function,
            "Handler": REDEPLOY_HANDLER,
            "VpcConfig": Match.absent(),
            "Environment": {
                "Variables": {
                    "CLUSTER": names.cluster,
                    "SERVICE": names.service,
                    "SECRET_NAMES": ",".join(watched),
                }
            },
            "Role": function,
            # A failed redeploy reaches the stage's alerts topic (checkov CKV_AWS_116).
            "DeadLetterConfig": {"TargetArn": {"Fn::ImportValue": names.alerts_topic_export}},
        },
    )
    # Its role may update the stage's service and nothing else of ECS.
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "RedeployConnect",
                                "Action": "ecs:UpdateService",
                                "Resource": {"Ref": Match.any_value()},
                            }
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com"},
    )


@pytest.mark.parametrize("stage", STAGES)
def test_connect_image_is_recorded_for_deploy_not_built_at_synth(
    synthesized: Synthesized, stage: str
) -> None:
    import json

    # The session's synth ran without a Docker engine (none on CI or this machine): the image is
    # only recorded in the asset manifest, with its staged build context.
    names = names_for(Stage(stage))
    manifest = json.loads((synthesized.outdir / f"{names.connector_stack}.assets.json").read_text())
    images = list(manifest["dockerImages"].values())
    assert len(images) == 1
    assert images[0]["source"]["platform"] == "linux/amd64"
    # the staged build context holds the Dockerfile; building it is cdk deploy's job (Docker there)
    assert images[0]["source"]["dockerFile"] == DOCKERFILE
    staged = synthesized.outdir / images[0]["source"]["directory"]
    assert (staged / DOCKERFILE).is_file()
    # only what the Dockerfile copies is in the context: no venv, no .git, no tests
    assert not any((staged / name).exists() for name in (".venv", ".git", "tests", "node_modules", "build"))


def test_only_production_stacks_are_termination_protected(synthesized: Synthesized) -> None:
    import json

    artifacts = json.loads((synthesized.outdir / "manifest.json").read_text())["artifacts"]
    for stage in STAGES:
        names = names_for(Stage(stage))
        for stack in (names.alerts_stack, names.connector_stack):
            protected = artifacts[stack]["properties"].get("terminationProtection", False)
            assert protected is (stage == "production"), stack
