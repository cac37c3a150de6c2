"""Security contracts: security group rules, IAM scopes, secrets never in plaintext, removal policies."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import (
    BOUNDARY_ARN,
    EPHEMERAL,
    FAKE_PASSWORD,
    IAM_PATH,
    IAM_VARIANT,
    STAGES,
    TARGET,
    Synthesized,
)
from tests.infra.helpers import as_list, connector, flatten, statements
from wms_connector.naming import names_for
from wms_connector.stages import Stage

#: Actions IAM defines without a resource scope: the only ones allowed on "*".
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "logs:DescribeLogGroups",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def _rules(template: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(logical id of the owning group, rule) for inline and standalone rules of ``kind``."""
    found = []
    for lid, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            found += [(lid, rule) for rule in props.get(f"SecurityGroup{kind}", [])]
        if resource["Type"] == f"AWS::EC2::SecurityGroup{kind}":
            found.append((props["GroupId"]["Fn::GetAtt"][0], props))
    return found


def _connect_group_id(template: dict[str, Any], stage: str) -> str:
    name = names_for(Stage(stage)).security_group
    return next(
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::EC2::SecurityGroup" and r["Properties"].get("GroupName") == name
    )


@pytest.mark.parametrize("stage", STAGES)
def test_connect_rest_only_from_its_own_group(synthesized: Synthesized, stage: str) -> None:
    raw = synthesized.template(names_for(Stage(stage)).connector_stack)
    group = {"Fn::GetAtt": [_connect_group_id(raw, stage), "GroupId"]}
    ingress = [rule for _, rule in _rules(raw, "Ingress")]
    assert ingress == [
        {
            "IpProtocol": "tcp",
            "FromPort": 8083,
            "ToPort": 8083,
            "GroupId": group,
            "SourceSecurityGroupId": group,
            "Description": "Connect REST from the other workers only",
        }
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_egress_is_port_scoped_to_oracle_msk_https_and_peers(synthesized: Synthesized, stage: str) -> None:
    inputs = synthesized.inputs[stage]
    raw = synthesized.template(names_for(Stage(stage)).connector_stack)
    group_id = _connect_group_id(raw, stage)
    egress = _rules(raw, "Egress")
    assert all(r["IpProtocol"] == "tcp" and r["FromPort"] == r["ToPort"] for _, r in egress), egress
    oracle = inputs.secrets.db_info.value.port
    kafka_ports = {b.port for b in inputs.secrets.broker_string.value.brokers}
    connect = {
        ("self" if "DestinationSecurityGroupId" in r else r["CidrIp"], r["FromPort"])
        for owner, r in egress
        if owner == group_id
    }
    assert connect == {("self", 8083), ("0.0.0.0/0", oracle), ("0.0.0.0/0", 443)} | {
        ("0.0.0.0/0", port) for port in kafka_ports
    }
    others = {(r["CidrIp"], r["FromPort"]) for owner, r in egress if owner != group_id}
    # the topics Lambda (every stage): brokers and AWS APIs only
    assert others == {("0.0.0.0/0", 443)} | {("0.0.0.0/0", port) for port in kafka_ports}


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT])
def test_no_wildcard_resource_where_a_scope_exists(synthesized: Synthesized, stage: str) -> None:
    raw = synthesized.template(names_for(Stage(stage)).connector_stack)
    for statement in statements(raw):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= UNSCOPABLE, statement


@pytest.mark.parametrize("stage", STAGES)
def test_secret_reads_stay_inside_the_stage_patterns(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    raw = synthesized.template(names.connector_stack)
    patterns = names.secret_arn_patterns(TARGET.region, TARGET.account)
    reads = [s for s in statements(raw) if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
    assert reads, "the execution role must read the dbInfo secret"
    for statement in reads:
        for resource in as_list(statement["Resource"]):
            arn = flatten(resource)
            assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), arn
    # exactly the resolved path, not the whole stage scope
    dbinfo = synthesized.inputs[stage].secrets.db_info.path
    assert {flatten(r) for s in reads for r in as_list(s["Resource"])} == {
        f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:{dbinfo}-??????"
    }


@pytest.mark.parametrize("stage", STAGES)
def test_password_is_injected_by_ecs_and_never_in_any_output(synthesized: Synthesized, stage: str) -> None:
    dbinfo = synthesized.inputs[stage].secrets.db_info.path
    connector(synthesized, stage).has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Secrets": Match.array_with(
                                [
                                    {
                                        "Name": "ORACLE_PASSWORD",
                                        "ValueFrom": {
                                            "Fn::Join": [
                                                "",
                                                [
                                                    "arn:",
                                                    {"Ref": "AWS::Partition"},
                                                    f":secretsmanager:{TARGET.region}:{TARGET.account}:secret:"
                                                    f"{dbinfo}:password::",
                                                ],
                                            ]
                                        },
                                    }
                                ]
                            ),
                            "Environment": Match.not_(
                                Match.array_with([Match.object_like({"Name": "ORACLE_PASSWORD"})])
                            ),
                        }
                    )
                ]
            )
        },
    )


def test_fake_password_appears_in_no_template_or_manifest(synthesized: Synthesized) -> None:
    # Asset directories (asset.*) are copies of code: the package ships its fake example file on
    # purpose, so they are not what this checks; templates, manifests and the tree are.
    checked = 0
    for path in synthesized.outdir.glob("*.json"):
        assert FAKE_PASSWORD not in path.read_text(), path
        checked += 1
    assert checked >= 20  # 10 templates + their asset and metadata manifests, tree, manifest


@pytest.mark.parametrize("stage", ["main", "val", "production"])
def test_named_stages_retain_logs_and_keys(synthesized: Synthesized, stage: str) -> None:
    template = connector(synthesized, stage)
    for kind in ("AWS::Logs::LogGroup", "AWS::KMS::Key"):
        template.all_resources(kind, {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


@pytest.mark.parametrize("stage", [EPHEMERAL, IAM_VARIANT])
def test_ephemeral_stages_leave_nothing_behind(synthesized: Synthesized, stage: str) -> None:
    raw = synthesized.template(names_for(Stage(stage)).connector_stack)
    alerts = synthesized.template(names_for(Stage(stage)).alerts_stack)
    for template in (raw, alerts):
        kept = [
            lid
            for lid, r in template["Resources"].items()
            if r.get("DeletionPolicy") in ("Retain", "Snapshot")
        ]
        assert kept == []
    connector(synthesized, stage).all_resources("AWS::Logs::LogGroup", {"DeletionPolicy": "Delete"})


def test_msk_iam_grants_only_for_iam_auth_and_only_the_stage_topics(synthesized: Synthesized) -> None:
    for stage in STAGES:  # all tls
        raw = synthesized.template(names_for(Stage(stage)).connector_stack)
        assert not [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    names = names_for(Stage(IAM_VARIANT))
    raw = synthesized.template(names.connector_stack)
    kafka = [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    topic_arns = {
        flatten(r) for s in kafka if s.get("Sid") == "MskStageTopics" for r in as_list(s["Resource"])
    }
    assert {arn.rsplit("/", 1)[1] for arn in topic_arns} == set(names.all_topics)
    assert all(t.startswith(names.topic_namespace) for t in names.all_topics)
    # Exactly-once source: the transactional ids Connect uses, all under the stage's group id.
    [transactions] = [s for s in kafka if s.get("Sid") == "MskStageTransactions"]  # the workers only
    assert set(as_list(transactions["Action"])) == {
        "kafka-cluster:AlterTransactionalId",
        "kafka-cluster:DescribeTransactionalId",
    }
    assert [flatten(r).rsplit("/", 1)[1] for r in as_list(transactions["Resource"])] == [
        f"{names.group_id}-*"
    ]


def test_iam_path_and_permissions_boundary_from_the_optional_secrets(synthesized: Synthesized) -> None:
    template = connector(synthesized, IAM_VARIANT)
    template.all_resources_properties(
        "AWS::IAM::Role", {"Path": IAM_PATH, "PermissionsBoundary": BOUNDARY_ARN}
    )
    connector(synthesized, "main").all_resources_properties(
        "AWS::IAM::Role", {"Path": Match.absent(), "PermissionsBoundary": Match.absent()}
    )


def test_topics_lambda_may_delete_only_the_stage_topics_under_iam_auth(synthesized: Synthesized) -> None:
    names = names_for(Stage(IAM_VARIANT))
    raw = synthesized.template(names.connector_stack)
    deletes = [s for s in statements(raw) if "kafka-cluster:DeleteTopic" in as_list(s["Action"])]
    assert len(deletes) == 1
    assert {flatten(r).rsplit("/", 1)[1] for r in as_list(deletes[0]["Resource"])} == set(names.all_topics)
    # no other stage's template can delete anything under IAM auth (they use TLS)
    for stage in STAGES:
        other = synthesized.template(names_for(Stage(stage)).connector_stack)
        assert not [s for s in statements(other) if "kafka-cluster:DeleteTopic" in as_list(s["Action"])]


def test_the_audit_task_may_only_read_kafka(synthesized: Synthesized) -> None:
    """MSK IAM: the scheduled audit reads the data and offsets topics; it never writes or commits."""
    names = names_for(Stage(IAM_VARIANT))
    raw = synthesized.template(names.connector_stack)
    kafka = [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    [read] = [s for s in kafka if s.get("Sid") == "MskReadStageTopics"]
    assert set(as_list(read["Action"])) == {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}
    topics = {flatten(r).rsplit("/", 1)[1] for r in as_list(read["Resource"])}
    assert topics == {*names.data_topics.values(), names.offsets_topic}
    [groups] = [s for s in kafka if s.get("Sid") == "MskAuditGroups"]
    assert [flatten(r).rsplit("/", 1)[1] for r in as_list(groups["Resource"])] == [
        f"{names.audit_consumer_group_prefix}*"
    ]
