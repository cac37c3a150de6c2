"""checkov over every synthesized template: zero failed checks; each acknowledged check is one we
know, on the resource it is about, with its reason in the template (``infra.nag.checkov_skip``).

checkov runs from its own virtualenv (``make checkov-deps``, pinned by tools/checkov-requirements.txt)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "tools" / "checkov-requirements.txt"

#: (check, the CloudFormation type it may be acknowledged on): anything else must pass.
ACKNOWLEDGED = {
    ("CKV_AWS_115", "AWS::Lambda::Function"),  # reserved concurrency
    ("CKV_AWS_173", "AWS::Lambda::Function"),  # environment encryption with a CMK
    ("CKV_AWS_116", "AWS::Lambda::Function"),  # DLQ: the topics function is synchronous
    ("CKV_AWS_117", "AWS::Lambda::Function"),  # VPC: the redeploy function reaches only AWS APIs
    ("CKV_AWS_111", "AWS::IAM::Policy"),  # the VPC Lambda's ENI actions on *
}


def checkov_binary() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    binary = ROOT / ".cache" / "checkov" / digest / "bin" / "checkov"
    if not binary.is_file():
        pytest.fail(f"checkov is not installed at {binary}: run `make checkov-deps` (make test does)")
    return binary


def run_checkov(directory: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            str(checkov_binary()),
            "--directory",
            str(directory),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(directory), "BC_SKIP_MAPPING": "TRUE"},
    )
    # exit 1 means "some check failed": the report says which
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout) if done.stdout.strip() else []
    return report if isinstance(report, list) else [report]


@pytest.fixture(scope="module")
def templates_only(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The templates alone (the cloud assembly's assets hold the Lambda bundle's Python files)."""
    directory = tmp_path_factory.mktemp("checkov")
    for name, path in synthesized.templates.items():
        shutil.copy(path, directory / f"{name}.template.json")
    return directory


@pytest.fixture(scope="module")
def reports(templates_only: Path) -> list[dict[str, Any]]:
    return run_checkov(templates_only)


def test_checkov_finds_no_failed_check_in_any_template(
    reports: list[dict[str, Any]], synthesized: Synthesized
) -> None:
    failed = [
        (c["check_id"], c["resource"], c["file_path"])
        for report in reports
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    scanned = {Path(c["file_path"]).name for r in reports for c in r["results"]["passed_checks"]}
    assert len(scanned) == len(synthesized.templates) >= 10
    assert sum(r["summary"]["passed"] for r in reports) > len(scanned) * 20


def test_every_acknowledged_check_is_known_and_reasoned(reports: list[dict[str, Any]]) -> None:
    skipped = [c for r in reports for c in r["results"].get("skipped_checks", [])]
    assert skipped, "the known acknowledgements (Lambda concurrency, ENI actions) must show up"
    for check in skipped:
        kind = check["resource"].split(".")[0]
        assert (check["check_id"], kind) in ACKNOWLEDGED, check["check_id"]
        assert len(check["check_result"].get("suppress_comment", "")) >= 60, check


def test_the_harness_reports_a_failed_check(synthesized: Synthesized, tmp_path: Path) -> None:
    """The REST credential without the stage's key is a finding (so the clean result above means
    something)."""
    name = next(n for n in synthesized.templates if n.startswith("wms-connector-"))
    template = synthesized.template(name)
    secrets = [r for r in template["Resources"].values() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert secrets and all("KmsKeyId" in s["Properties"] for s in secrets)
    for secret in secrets:
        del secret["Properties"]["KmsKeyId"]
    (tmp_path / "broken.template.json").write_text(json.dumps(template))
    failed = {c["check_id"] for r in run_checkov(tmp_path) for c in r["results"]["failed_checks"]}
    assert "CKV_AWS_149" in failed


def test_an_acknowledgement_names_a_real_check_id() -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_sns as sns

    from wms_connector.infra.nag import checkov_skip

    topic = sns.Topic(Stack(App(), "S"), "T")
    with pytest.raises(ValueError, match="not a checkov AWS check id: 'AwsSolutions-SNS2'"):
        checkov_skip(topic, "AwsSolutions-SNS2", "x" * 60)
    checkov_skip(topic, "CKV_AWS_26", "first reason")
    checkov_skip(topic, "CKV_AWS_26", "second reason, replacing the first")
    resource = topic.node.default_child
    assert resource is not None
    assert resource.get_metadata("checkov") == {  # type: ignore[attr-defined]
        "skip": [{"id": "CKV_AWS_26", "comment": "second reason, replacing the first"}]
    }
