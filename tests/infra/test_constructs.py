"""Pure parts of the constructs, and guards that need no synth."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2

from wms_connector.infra.connect_service import connect_environment
from wms_connector.infra.network import broker_ports
from wms_connector.infra.topic_cleanup import TopicCleanup
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import BrokerString, DbInfo
from wms_connector.stages import Stage, settings_for

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


def test_topic_cleanup_refuses_a_named_stage(tmp_path: object) -> None:
    stack = Stack(App(), "bare")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-12345678",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-1"],
    )
    stage = Stage("main")
    with pytest.raises(ValueError, match="ephemeral stages only"):
        TopicCleanup(
            stack,
            "Cleanup",
            names=names_for(stage),
            settings=settings_for(stage),
            brokers=BROKERS,
            vpc=vpc,
            bundle_dir=tmp_path,  # type: ignore[arg-type]
            alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:t",
            alerts_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
            logs_key=None,  # type: ignore[arg-type]
            iam_path=None,
        )
