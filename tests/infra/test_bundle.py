"""The Lambda bundle builds itself for a branch-stage synth when it is missing or stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wms_connector.errors import WmsError
from wms_connector.infra import bundle, inputs
from wms_connector.stages import Stage

CONSTRAINTS = inputs.REPO_ROOT / "constraints.txt"


def test_missing_or_stale_bundles_are_rebuilt_current_ones_kept(tmp_path: Path) -> None:
    built: list[Path] = []

    def builder(target: Path, constraints: Path) -> None:
        built.append(target)
        target.mkdir(parents=True, exist_ok=True)
        (target / bundle.STAMP).write_text(bundle.fingerprint(constraints, package) + "\n")

    package = tmp_path / "pkg"
    (package / "lambdas").mkdir(parents=True)
    (package / "lambdas" / "h.py").write_text("x = 1\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("pydantic==2\n")
    target = tmp_path / "bundle"
    assert not bundle.is_current(target, constraints, package)
    builder(target, constraints)
    assert bundle.is_current(target, constraints, package)
    (package / "lambdas" / "h.py").write_text("x = 2\n")  # our source changed
    assert not bundle.is_current(target, constraints, package)
    builder(target, constraints)
    constraints.write_text("pydantic==3\n")  # a pin changed
    assert not bundle.is_current(target, constraints, package)
    (package / "infra").mkdir()
    before = bundle.fingerprint(constraints, package)
    (package / "infra" / "stack.py").write_text("y = 1\n")  # the CDK code is not in the bundle
    assert bundle.fingerprint(constraints, package) == before


def test_a_failed_build_is_one_line_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "pip_command", lambda target, constraints: [sys.executable, "-c", "exit(3)"])
    with pytest.raises(WmsError, match=r"run `make lambda-bundle`"):
        bundle.build(tmp_path / "b", CONSTRAINTS)


def test_the_pip_command_is_the_one_make_runs() -> None:
    make = subprocess.run(
        ["make", "-n", "lambda-bundle"], cwd=inputs.REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "-m wms_connector.infra.bundle build/lambda" in make.stdout


def test_branch_synth_inputs_build_the_default_bundle_for_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip downloads the manylinux wheels (needs PyPI); the result is what deploy uploads."""
    target = tmp_path / "lambda"
    monkeypatch.setattr(inputs, "DEFAULT_LAMBDA_BUNDLE_DIR", target)
    assert inputs.check_lambda_bundle(Stage("feature-x"), target) == target
    assert (target / "wms_connector" / "lambdas" / "topics.py").is_file()
    assert (target / "confluent_kafka").is_dir() and (target / "pydantic_core").is_dir()
    assert not (target / "wms_connector" / "infra").exists() and not (target / "botocore").exists()
    assert not list(target.rglob("__pycache__"))
    stamp = (target / bundle.STAMP).stat().st_mtime_ns
    inputs.check_lambda_bundle(Stage("feature-x"), target)  # current: not rebuilt
    assert (target / bundle.STAMP).stat().st_mtime_ns == stamp
    # Named stages deploy the topics and redeploy Lambdas too: the same current bundle, not rebuilt.
    assert inputs.check_lambda_bundle(Stage("main"), target) == target
    assert (target / bundle.STAMP).stat().st_mtime_ns == stamp


def test_a_relative_out_lands_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The jsii kernel keeps the directory the process had when it started; --out is ours."""
    import aws_cdk  # noqa: F401 - the kernel starts here, in the suite's directory

    from wms_connector.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--stage", "main", "--offline", "--out", "rel"]) == 0
    capsys.readouterr()
    assert (tmp_path / "rel" / "manifest.json").is_file()
