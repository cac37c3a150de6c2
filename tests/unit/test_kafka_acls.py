"""The mtls principal's ACLs: exact names of the stage's own resources, delete only for a branch."""

from __future__ import annotations

import shlex

import pytest

from wms_connector.kafka.acls import AclPattern, AclResource, kafka_acls_commands, stage_acls
from wms_connector.naming import names_for
from wms_connector.stages import Stage


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_every_acl_names_the_stages_own_resources(stage: str) -> None:
    names = names_for(Stage(stage))
    acls = stage_acls(names)
    topics = {a.name for a in acls if a.resource is AclResource.TOPIC}
    assert topics == set(names.all_topics)
    assert {a.name for a in acls if a.resource is AclResource.GROUP} == {
        names.group_id,
        names.schema_history_consumer_group,
        names.signal_consumer_group,
        names.hold_reader_group,
    }
    transactional = {(a.name, a.pattern) for a in acls if a.resource is AclResource.TRANSACTIONAL_ID}
    assert transactional == {
        (f"{names.group_id}-", AclPattern.PREFIXED),
        (f"connect-cluster-{names.group_id}", AclPattern.LITERAL),
    }
    [cluster] = [a for a in acls if a.resource is AclResource.CLUSTER]
    assert cluster.operations == ("IdempotentWrite",)
    # Only the tasks' transactional ids are a prefix, and it is the stage's own group id.
    assert [a for a in acls if a.pattern is AclPattern.PREFIXED] == [
        a for a in acls if a.resource is AclResource.TRANSACTIONAL_ID and a.pattern is AclPattern.PREFIXED
    ]
    deletes = [a for a in acls if "Delete" in a.operations]
    assert bool(deletes) is names.stage.is_ephemeral
    assert all(not a.name.startswith("*") for a in acls)


def test_the_commands_grant_each_operation_to_the_principal() -> None:
    names = names_for(Stage("production"))
    principal = "User:CN=wms-connector-production,OU=cdc"
    lines = kafka_acls_commands(names, principal, "b-1:9094")
    assert len(lines) == len(stage_acls(names))
    words = shlex.split(lines[-1])
    assert words[:6] == [
        "kafka-acls.sh",
        "--bootstrap-server",
        "b-1:9094",
        "--add",
        "--allow-principal",
        principal,
    ]
    assert words[-1] == "--cluster" and "IdempotentWrite" in words
    prefixed = [shlex.split(line) for line in lines if "prefixed" in line]
    assert prefixed == [
        [
            *words[:6],
            "--operation",
            "Describe",
            "--operation",
            "Write",
            "--transactional-id",
            f"{names.group_id}-",
            "--resource-pattern-type",
            "prefixed",
        ]
    ]


def test_the_cli_prints_the_lines_for_a_principal_or_the_stored_certificates(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    from tests.certs import TestCa
    from wms_connector.cli import main

    names = names_for(Stage("val"))
    assert main(["kafka-cert", "acls", "--stage", "val", "--principal", "User:CN=a,OU=b"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == kafka_acls_commands(names, "User:CN=a,OU=b")
    ca = TestCa()
    secrets = Path(str(tmp_path)) / "secrets.json"
    secrets.write_text(json.dumps({"wms/val/kafkaClientCert": ca.issue(cn="wms-val", ou="cdc").secret()}))
    argv = ["kafka-cert", "acls", "--stage", "val", "--from-secret", "--secrets-file", str(secrets), "--json"]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["principal"] == "User:CN=wms-val,OU=cdc"
    assert len(answer["acls"]) == len(stage_acls(names))
    assert main(["kafka-cert", "acls", "--stage", "val"]) == 2
    assert main(["kafka-cert", "acls", "--stage", "val", "--principal", "CN=x"]) == 2
