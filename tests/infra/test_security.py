"""Security contracts: security group rules, IAM scopes, secrets never in plaintext, removal policies."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import (
    BOUNDARY_ARN,
    EPHEMERAL,
    FAKE_PASSWORD,
    IAM_PATH,
    IAM_VARIANT,
    IAM_VARIANT_PASSWORD,
    LEGACY,
    LEGACY_PASSWORD,
    MSK_CLUSTER_ARN,
    MTLS_VARIANT,
    ORACLE_CIDR,
    STAGES,
    TARGET,
    Synthesized,
)
from tests.infra.helpers import as_list, connector, flatten, statements
from wms_connector.connect.secret_refs import SECRETS_DIR
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


def test_oracle_egress_goes_to_the_cidr_dbinfo_gives(synthesized: Synthesized) -> None:
    raw = synthesized.template(names_for(Stage(IAM_VARIANT)).connector_stack)
    group_id = _connect_group_id(raw, IAM_VARIANT)
    oracle = synthesized.inputs[IAM_VARIANT].secrets.db_info.value.port
    to_oracle = {
        r["CidrIp"] for owner, r in _rules(raw, "Egress") if owner == group_id and r["FromPort"] == oracle
    }
    assert to_oracle == {ORACLE_CIDR}


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT])
def test_no_wildcard_resource_where_a_scope_exists(synthesized: Synthesized, stage: str) -> None:
    raw = synthesized.template(names_for(Stage(stage)).connector_stack)
    for statement in statements(raw):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= UNSCOPABLE, statement


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT, LEGACY])
def test_secret_reads_stay_inside_the_stage_patterns(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    raw = synthesized.template(names.connector_stack)
    patterns = names.secret_arn_patterns(TARGET.region, TARGET.account)
    reads = [s for s in statements(raw) if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
    assert reads, "the execution role must read the dbInfo secret"
    # The stack's own generated REST credential (a Ref), and otherwise only the stage's patterns.
    [rest] = [
        lid
        for lid, r in raw["Resources"].items()
        if r["Type"] == "AWS::SecretsManager::Secret"
        and r["Properties"]["Name"] == names.rest_credential_secret
    ]
    for statement in reads:
        for resource in as_list(statement["Resource"]):
            arn = flatten(resource)
            assert arn == f"<{rest}>" or any(fnmatch.fnmatchcase(arn, p) for p in patterns), arn
    # exactly the resolved paths (dbInfo, and dbPassword unless legacy), not the whole stage scope
    secrets = synthesized.inputs[stage].secrets
    paths = {secrets.db_info.path, secrets.password_source.path}
    assert {flatten(r) for s in reads for r in as_list(s["Resource"])} == {
        *(f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:{p}-??????" for p in paths),
        f"<{rest}>",
    }


def _containers(synthesized: Synthesized, stage: str) -> dict[str, dict[str, Any]]:
    # The Connect service's task (the stack also holds the scheduled audit's).
    family = names_for(Stage(stage)).task_family
    tasks = connector(synthesized, stage).find_resources("AWS::ECS::TaskDefinition").values()
    (task,) = [t for t in tasks if t["Properties"].get("Family") == family]
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT, LEGACY])
def test_only_the_short_lived_secrets_container_gets_the_password(
    synthesized: Synthesized, stage: str
) -> None:
    names = names_for(Stage(stage))
    secrets = synthesized.inputs[stage].secrets
    dbinfo = secrets.db_info.path
    containers = _containers(synthesized, stage)
    writer = containers[names.secrets_container]
    assert writer["Essential"] is False
    assert writer["Command"] == ["write-secrets"]
    written = [(s["Name"], flatten(s["ValueFrom"])) for s in writer["Secrets"]]
    secret_arns = f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:"
    # The resolved dbPassword whole (write-secrets unwraps {"password": ...}); legacy: dbInfo's key.
    expected = {
        LEGACY: f"{secret_arns}{dbinfo}:password::",
        IAM_VARIANT: f"{secret_arns}wms/{IAM_VARIANT}/dbPassword",
    }.get(stage, f"{secret_arns}wms/default/dbPassword")
    assert written[0] == ("ORACLE_PASSWORD", expected)
    assert secrets.password_source.legacy is (stage == LEGACY)
    # ... and the REST credential, for the worker's basic-auth file.
    assert [name for name, _ in written[1:]] == ["WMS_REST_USER", "WMS_REST_PASSWORD"]
    worker = containers[names.connect_container]
    for name in (names.connect_container, names.agent_container):
        container = containers[name]
        held = {e["Name"] for e in container.get("Environment", [])} | {
            s["Name"] for s in container.get("Secrets", [])
        }
        assert not {n for n in held if "ORACLE_PASSWORD" in n}, (name, held)
        assert not [
            s
            for s in container.get("Secrets", [])
            if flatten(s["ValueFrom"]).endswith(f"{dbinfo}:password::")
        ]
    # The worker holds no secret at all: its only secret is the file on the volume.
    assert "Secrets" not in containers[names.connect_container]
    # The worker reads the file from the volume the writer filled, read-only, once the writer succeeded.
    (mount,) = [m for m in worker["MountPoints"] if m["ContainerPath"] == SECRETS_DIR]
    assert mount["ReadOnly"] is True
    assert {"ContainerName": names.secrets_container, "Condition": "SUCCESS"} in worker["DependsOn"]
    agent = containers[names.agent_container]
    assert not [m for m in agent.get("MountPoints", []) if m["SourceVolume"] == mount["SourceVolume"]]


@pytest.mark.parametrize("stage", STAGES)
def test_exec_is_allowed_into_the_agent_container_only(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    template = connector(synthesized, stage).to_json()
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and r["Properties"].get("ManagedPolicyName") == names.exec_policy
    ]
    (policy,) = policies
    execs = [s for s in policy["PolicyDocument"]["Statement"] if "ecs:ExecuteCommand" in as_list(s["Action"])]
    (exec_statement,) = execs
    assert exec_statement["Condition"] == {"StringEquals": {"ecs:container-name": names.agent_container}}
    # No role of the stack may Exec at all: a person gets the managed policy above, nothing else.
    assert not [s for s in statements(template) if "ecs:ExecuteCommand" in as_list(s["Action"])]


def test_fake_password_appears_in_no_template_or_manifest(synthesized: Synthesized) -> None:
    # Asset directories (asset.*) are copies of code: the package ships its fake example file on
    # purpose, so they are not what this checks; templates, manifests and the tree are.
    checked = 0
    for path in synthesized.outdir.glob("*.json"):
        text = path.read_text()
        for password in (FAKE_PASSWORD, IAM_VARIANT_PASSWORD, LEGACY_PASSWORD):
            assert password not in text, path
        checked += 1
    assert checked >= 24  # 12 templates + their asset and metadata manifests, tree, manifest


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
    for stage in STAGES:  # iam: every stage's default (issue 23)
        raw = synthesized.template(names_for(Stage(stage)).connector_stack)
        assert [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    # mtls: the certificate's ACLs on the cluster decide, no IAM grant at all.
    raw = synthesized.template(names_for(Stage(MTLS_VARIANT)).connector_stack)
    assert not [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    names = names_for(Stage(IAM_VARIANT))
    raw = synthesized.template(names.connector_stack)
    kafka = [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    topic_arns = {
        flatten(r) for s in kafka if s.get("Sid") == "MskStageTopics" for r in as_list(s["Resource"])
    }
    assert {arn.rsplit("/", 1)[1] for arn in topic_arns} == set(names.all_topics)
    assert all(t.startswith(names.topic_namespace) for t in names.all_topics)
    # Exactly-once source: the transactional ids Connect uses: the tasks' under the stage's group id,
    # the leader's connect-cluster-<group id> (Kafka's DistributedConfig.transactionalProducerId).
    [transactions] = [s for s in kafka if s.get("Sid") == "MskStageTransactions"]  # the workers only
    assert set(as_list(transactions["Action"])) == {
        "kafka-cluster:AlterTransactionalId",
        "kafka-cluster:DescribeTransactionalId",
    }
    assert [flatten(r).rsplit("/", 1)[1] for r in as_list(transactions["Resource"])] == [
        f"{names.group_id}-*",
        f"connect-cluster-{names.group_id}",
    ]


def test_msk_grants_name_the_stage_cluster_and_exact_groups_when_the_secret_gives_it(
    synthesized: Synthesized,
) -> None:
    names = names_for(Stage(IAM_VARIANT))
    raw = synthesized.template(names.connector_stack)
    kafka = [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    arns = [flatten(r) for s in kafka for r in as_list(s["Resource"])]
    assert arns
    cluster = MSK_CLUSTER_ARN.split(":cluster/", 1)[1]
    base = MSK_CLUSTER_ARN.split(":cluster/", 1)[0]
    for arn in arns:
        kind, rest = arn[len(base) + 1 :].split("/", 1)
        assert kind in {"cluster", "topic", "group", "transactional-id"}, arn
        assert rest == cluster or rest.startswith(cluster + "/"), arn
    # Consumer groups: exact names (no prefix that another team's group could share).
    groups = {flatten(r) for s in kafka if s.get("Sid") == "MskStageGroups" for r in as_list(s["Resource"])}
    assert {g.rsplit("/", 1)[1] for g in groups} == {
        names.group_id,
        names.schema_history_consumer_group,
        names.signal_consumer_group,
        names.hold_reader_group,
    }
    # The only wildcards left: the suffix Connect adds to the stage's transactional ids, and the
    # audit's per-run consumer group under the stage's own audit prefix (read-only role).
    assert sorted(a for a in arns if "*" in a) == sorted(
        [
            f"{base}:transactional-id/{cluster}/{names.group_id}-*",
            f"{base}:group/{cluster}/{names.audit_consumer_group_prefix}*",
        ]
    )


@pytest.mark.parametrize("stage", ["main", "val", "production"])
def test_named_stages_without_the_cluster_arn_are_warned_at_synth(
    synthesized: Synthesized, stage: str
) -> None:
    inputs = synthesized.inputs[stage]
    [warning] = inputs.warnings
    assert "no mskClusterArn" in warning and f"wms/{stage}/mskClusterArn" in warning
    # The CDK CLI shows it too: a warning in the cloud assembly's metadata of the connector stack.
    path = synthesized.outdir / f"{inputs.names.connector_stack}.metadata.json"
    metadata = json.loads(path.read_text())
    shown = [e["data"] for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"]
    assert [text for text in shown if "no mskClusterArn" in str(text)], shown
    assert not synthesized.inputs[EPHEMERAL].warnings and not synthesized.inputs[IAM_VARIANT].warnings


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
    # a named stage's template can delete nothing; an ephemeral one its own topics only
    for stage in STAGES:
        other_names = names_for(Stage(stage))
        other = synthesized.template(other_names.connector_stack)
        found = [s for s in statements(other) if "kafka-cluster:DeleteTopic" in as_list(s["Action"])]
        if other_names.stage.is_named:
            assert not found, stage
        else:
            [delete] = found
            resources = {flatten(r).rsplit("/", 1)[1] for r in as_list(delete["Resource"])}
            assert resources == set(other_names.all_topics)


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
