"""Pure parts of the constructs, and guards that need no synth."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template

from wms_connector.infra.connect_service import connect_environment
from wms_connector.infra.kafka_iam import cluster_scope_warning, msk_resources
from wms_connector.infra.network import broker_ports
from wms_connector.infra.redeploy import secret_event_pattern
from wms_connector.lambdas.redeploy import VALUE_CHANGING_CALLS
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import MSK_CLUSTER_ARN, BrokerString, DbInfo
from wms_connector.secrets.store import SecretShapeError, parse_secret
from wms_connector.stages import Stage

BROKERS = BrokerString.parse("b-2.example.invalid:9098,b-1.example.invalid:9094,b-3.example.invalid:9094")


def _db(pdb: str | None) -> DbInfo:
    return DbInfo(
        host="db.example.invalid",
        port=1522,
        db="CDB1",
        pdb_name=pdb,
        user="u",
        password="recognizable-Secret-42",
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(("pdb", "has_pdb"), [("PDB1", True), (None, False)])
def test_connect_environment_names_and_no_secret(pdb: str | None, has_pdb: bool) -> None:
    env = connect_environment(stage="val", db=_db(pdb), brokers=BROKERS)
    assert env["WMS_STAGE"] == "val"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == str(BROKERS)
    assert env["ORACLE_PORT"] == "1522"
    assert ("ORACLE_PDB" in env) is has_pdb
    assert "ORACLE_PASSWORD" not in env and "ORACLE_USER" not in env
    assert not any("recognizable-Secret-42" in v for v in env.values())


def test_broker_ports_are_distinct_and_sorted() -> None:
    assert broker_ports(tuple(b.port for b in BROKERS.brokers)) == (9094, 9098)


def test_secret_event_pattern_matches_the_name_and_the_arns_of_one_secret() -> None:
    stack = Stack(App(), "bare")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wms/main/dbInfo"
    events.Rule(stack, "Rule", event_pattern=secret_event_pattern([("wms/main/dbInfo", arn)]))
    (rule,) = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    detail = rule["Properties"]["EventPattern"]["detail"]
    assert detail["requestParameters"]["secretId"] == ["wms/main/dbInfo", {"prefix": arn}]
    assert detail["eventName"] == list(VALUE_CHANGING_CALLS)


def test_secret_event_pattern_matches_the_names_and_the_arns_of_each_secret() -> None:
    stack = Stack(App(), "bare")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    watched = [
        ("wms/main/dbInfo", arn + "wms/main/dbInfo"),
        ("wms/default/dbPassword", arn + "wms/default/dbPassword"),
    ]
    events.Rule(stack, "Rule", event_pattern=secret_event_pattern(watched))
    (rule,) = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    detail = rule["Properties"]["EventPattern"]["detail"]
    assert detail["requestParameters"]["secretId"] == [
        "wms/main/dbInfo",
        {"prefix": arn + "wms/main/dbInfo"},
        "wms/default/dbPassword",
        {"prefix": arn + "wms/default/dbPassword"},
    ]
    assert detail["eventName"] == list(VALUE_CHANGING_CALLS)


CLUSTER = "arn:aws:kafka:eu-west-1:210987654321:cluster/bigmac/11112222-3333-4444-5555-666677778888-2"


@pytest.mark.parametrize(
    "raw", [CLUSTER, f'"{CLUSTER}"', f'{{"arn": "{CLUSTER}"}}', f'{{"mskClusterArn": "{CLUSTER}"}}']
)
def test_the_cluster_secret_is_an_arn_plain_or_json(raw: str) -> None:
    cluster = MSK_CLUSTER_ARN.parse(raw)
    assert (cluster.region, cluster.account) == ("eu-west-1", "210987654321")
    assert cluster.cluster_path == "bigmac/11112222-3333-4444-5555-666677778888-2"


@pytest.mark.parametrize(
    "raw",
    [
        "bigmac",
        "arn:aws:kafka:eu-west-1:210987654321:topic/bigmac/x/t",
        "arn:aws:kafka:eu-west-1:1:cluster/a/b",
    ],
)
def test_anything_but_a_cluster_arn_is_refused_by_rule(raw: str) -> None:
    with pytest.raises(SecretShapeError, match="must be an MSK cluster ARN") as caught:
        parse_secret(MSK_CLUSTER_ARN, "wms/main/mskClusterArn", raw)
    assert raw not in str(caught.value)


def test_grants_without_the_cluster_arn_fall_back_to_any_cluster_with_exact_groups() -> None:
    names = names_for(Stage("main"))
    scoped = msk_resources(
        names,
        partition="aws",
        region="us-east-1",
        account="123456789012",
        cluster=MSK_CLUSTER_ARN.parse(CLUSTER),
    )
    loose = msk_resources(names, partition="aws", region="us-east-1", account="123456789012")
    assert loose["MskConnect"] == ["arn:aws:kafka:us-east-1:123456789012:cluster/*/*"]
    # The cluster's own region and account win over the stack's.
    assert scoped["MskConnect"] == [CLUSTER]
    for granted in (scoped, loose):
        assert not [g for g in granted["MskStageGroups"] if g.endswith("*")]
    assert cluster_scope_warning(names, None) is not None
    assert cluster_scope_warning(names, MSK_CLUSTER_ARN.parse(CLUSTER)) is None
    assert cluster_scope_warning(names_for(Stage("feature-x")), None) is None
