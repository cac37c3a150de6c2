"""CLI wiring: exit codes, JSON contract, and that secret values never reach the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wms_connector.cli import main
from wms_connector.naming import names_for
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE
from wms_connector.stages import Stage


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_json_for_ephemeral_stage_namespaces_every_topic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--stage", "feature-x", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["kind"] == "ephemeral"
    topics = [t["name"] for t in plan["topics"]]
    assert topics == list(names_for(Stage("feature-x")).all_topics)
    assert all(t.startswith("--wms--feature-x--") for t in topics)
    assert plan["sizing"]["worker_count"] == 1
    assert plan["secrets"][0]["paths"] == ["wms/feature-x/brokerString", "wms/default/brokerString"]


def test_plan_json_keys_are_stable(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "plan", "--stage", "production", "--json")
    plan = json.loads(out)
    assert list(plan) == [
        "stage",
        "kind",
        "topic_namespace",
        "sizing",
        "alarms",
        "kafka",
        "log_retention_days",
        "retain_on_destroy",
        "names",
        "topics",
        "secrets",
    ]
    assert plan["topic_namespace"] == ""
    assert plan["sizing"]["worker_count"] == 2


def test_plan_for_people_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--stage", "main")
    assert code == 0
    assert "wms.MMDL.PLAN_BASE_WVR_TBL" in out
    assert "named stage" in out


@pytest.mark.parametrize("stage", ["Main", "feature--x", "", "a" * 40])
def test_bad_stage_exits_2_with_the_rule(capsys: pytest.CaptureFixture[str], stage: str) -> None:
    code, out, err = run(capsys, "plan", "--stage", stage)
    assert code == 2
    assert out == ""
    assert f"invalid stage {stage!r}" in err


def test_stage_for_branch_prints_the_bare_stage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stage-for-branch", "feature/ABC_12")
    assert code == 0
    assert out.strip().startswith("feature-abc-12-")
    code, out, _ = run(capsys, "stage-for-branch", "PRODUCTION", "--json")
    assert json.loads(out)["kind"] == "ephemeral"


def test_stage_for_branch_of_symbols_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stage-for-branch", "///")
    assert code == 2
    assert "no ASCII letter" in err


def test_secrets_shows_paths_never_values(capsys: pytest.CaptureFixture[str]) -> None:
    password = json.loads(EXAMPLE_SECRETS_FILE.read_text())["wms/default/dbPassword"]
    code, out, _ = run(capsys, "secrets", "--stage", "production", "--offline", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["alertEmails"]["resolved_path"] == "wms/production/alertEmails"
    assert rows["dbInfo"]["resolved_path"] == "wms/default/dbInfo"
    assert password not in out
    code, out, _ = run(capsys, "secrets", "--stage", "production", "--offline")
    assert password not in out


def test_secrets_with_missing_required_secret_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "s.json"
    path.write_text("{}")
    code, _, err = run(capsys, "secrets", "--stage", "main", "--secrets-file", str(path))
    assert code == 2  # missing is bad input, as in every other command that reads secrets
    assert "brokerString" in err


def test_secrets_against_aws_endpoint(
    capsys: pytest.CaptureFixture[str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("WMS_AWS_ENDPOINT_URL", moto_endpoint)
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint)
    client.create_secret(Name="wms/cli-aws/brokerString", SecretString="b.example.com:9094")
    try:
        code, out, _ = run(capsys, "secrets", "--stage", "cli-aws", "--json")
    finally:
        client.delete_secret(SecretId="wms/cli-aws/brokerString", ForceDeleteWithoutRecovery=True)
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 2  # the other required secrets are missing there (bad input)
    assert rows["brokerString"]["resolved_path"] == "wms/cli-aws/brokerString"
    assert rows["brokerString"]["backend"] == "aws-secretsmanager"
    assert rows["dbInfo"]["problem"] == "missing"


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "wms-connector"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "stage-for-branch" in done.stdout


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "--stage", "main", "--nope")
    assert code == 2
    assert "--nope" in err
