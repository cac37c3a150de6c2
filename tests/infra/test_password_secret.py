"""``dbPassword`` in the synthesized stacks: the legacy layout warns, the audit task reads the
resolved secret itself, and the documented deploy role does not read the password."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import IAM_VARIANT, LEGACY, STAGES, TARGET, Synthesized
from tests.infra.helpers import as_list, flatten, statements
from wms_connector.naming import names_for
from wms_connector.stages import Stage

DOCS = Path(__file__).resolve().parents[2] / "docs" / "infrastructure.md"


def _warnings(synthesized: Synthesized, stage: str) -> list[str]:
    path = synthesized.outdir / f"{names_for(Stage(stage)).connector_stack}.metadata.json"
    metadata = json.loads(path.read_text())
    return [
        str(e["data"]) for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"
    ]


def test_the_legacy_layout_synthesizes_and_warns_in_the_assembly(synthesized: Synthesized) -> None:
    inputs = synthesized.inputs[LEGACY]
    assert inputs.secrets.password_source.legacy
    [warning] = [w for w in inputs.warnings if "password" in w]
    assert "deploy role" in warning and "dbPassword" in warning
    # The CDK CLI shows it (cloud assembly metadata), and only for that stage.
    assert [w for w in _warnings(synthesized, LEGACY) if "must be able to read the password" in w]
    for stage in (*STAGES, IAM_VARIANT):
        assert not [w for w in _warnings(synthesized, stage) if "password" in w], stage


@pytest.mark.parametrize("stage", [*STAGES, IAM_VARIANT, LEGACY])
def test_the_audit_task_reads_the_resolved_db_password_itself(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    secrets = synthesized.inputs[stage].secrets
    template = synthesized.template(names.connector_stack)
    [task] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition" and r["Properties"]["Family"] == names.audit_task_family
    ]
    [container] = task["ContainerDefinitions"]
    command: list[Any] = container["Command"]
    source = secrets.password_source
    if source.legacy:
        assert "--password-secret" not in command  # dbInfo holds it (--db-secret)
    else:
        assert command[command.index("--password-secret") + 1] == source.path
    # The audit's task role reads exactly dbInfo and, unless legacy, dbPassword.
    role = {
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == names.audit_task_role
    }
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {ref.get("Ref") for ref in r["Properties"]["Roles"]} & role
    ]
    arns = f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:"
    read = {
        flatten(resource)
        for policy in policies
        for statement in statements({"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": policy}}})
        if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert read == {f"{arns}{path}-??????" for path in {secrets.db_info.path, source.path}}


def _row(principal: str) -> str:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith(f"| {principal}")]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_documented_deploy_role_does_not_read_the_password() -> None:
    deploy = _row("deploy role")
    may_read = deploy.split("|")[2]
    assert "`secretsmanager:GetSecretValue` on `dbInfo`" in may_read
    assert "`secretsmanager:DescribeSecret` on `dbPassword`" in may_read
    may_not = deploy.split("|")[4]
    assert "`secretsmanager:GetSecretValue` on `dbPassword`" in may_not
    # Only the execution role (and the scheduled audit, which connects) read dbPassword.
    readers = [
        line.split("|")[1].strip()
        for line in DOCS.read_text().splitlines()
        if line.startswith("| ")
        and re.search(r"reads? `dbPassword`", line.split("|")[2] if line.count("|") > 3 else "")
    ]
    assert readers == ["execution role (`-exec`; ECS itself)", "audit task role (`-audit`)"], readers


def test_the_deploy_workflow_says_its_role_does_not_read_the_password() -> None:
    workflow = (DOCS.parents[1] / ".github" / "workflows" / "deploy.yml").read_text()
    header = "\n".join(line for line in workflow.splitlines() if line.startswith("#"))
    assert "never reads the Oracle password" in header and "DescribeSecret only on dbPassword" in header
