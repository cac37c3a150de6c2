"""The GitHub workflows' own scripts, run for real with bash: the stage they derive is the CLI's
(``stage-for-branch``), the protected list is ``stages.NAMED_STAGES``, a named stage is never
destroyed, and promotion follows the named stages' order. ``make workflow-lint`` (inside
``make test``) runs the pinned actionlint with shellcheck over the same files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from wms_connector.stages import NAMED_STAGES, stage_for_branch

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def _workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def _step(workflow: dict[Any, Any], job: str, key: str, value: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in workflow["jobs"][job]["steps"] if s.get(key) == value)
    return step


def _run(script: str, env: dict[str, str], tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """The step's script under bash -e (as Actions runs it) from the repository root."""
    output = tmp_path / "github_output"
    output.write_text("")
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=ROOT,
        env={**os.environ, **env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done.returncode, outputs, done.stdout + done.stderr


BRANCHES = ("main", "production", "feature/ABC_12", "Main")


@pytest.mark.parametrize("branch", BRANCHES)
def test_deploy_derives_the_cli_stage_and_its_environment(branch: str, tmp_path: Path) -> None:
    step = _step(_workflow("deploy.yml"), "stage", "id", "stage")
    assert step["env"]["BRANCH"] == "${{ github.ref_name }}"
    code, outputs, log = _run(step["run"], {"BRANCH": branch}, tmp_path)
    assert code == 0, log
    stage = stage_for_branch(branch)
    assert outputs["stage"] == stage.name
    assert outputs["environment"] == (stage.name if stage.is_named else "branch")


def test_deploy_is_gated_serialized_per_stage_and_uses_oidc() -> None:
    deploy = _workflow("deploy.yml")["jobs"]["deploy"]
    assert set(deploy["needs"]) == {"stage", "test"}
    assert deploy["concurrency"] == {
        "group": "stage-${{ needs.stage.outputs.stage }}",
        "cancel-in-progress": False,
    }
    assert deploy["permissions"]["id-token"] == "write"
    assert deploy["environment"] == "${{ needs.stage.outputs.environment }}"
    runs = [s.get("run", "") for s in deploy["steps"]]
    assert any("wms-connector verify --stage" in r for r in runs)
    assert _workflow("deploy.yml")["jobs"]["test"]["steps"][-1]["run"] == "make test"


@pytest.mark.parametrize("branch", BRANCHES)
def test_destroy_refuses_named_stages_and_derives_the_cli_stage(branch: str, tmp_path: Path) -> None:
    workflow = _workflow("destroy.yml")
    assert workflow["env"]["PROTECTED_STAGES"].split() == list(NAMED_STAGES)
    step = _step(workflow, "stage", "id", "stage")
    assert "github.event.ref" in step["env"]["BRANCH"]  # not GITHUB_REF: that is the default branch
    env = {"BRANCH": branch, "PROTECTED_STAGES": workflow["env"]["PROTECTED_STAGES"]}
    code, outputs, log = _run(step["run"], env, tmp_path)
    stage = stage_for_branch(branch)
    if stage.is_named:
        assert code == 1
        assert f"refusing to destroy named stage {stage.name}" in log
        assert "stage" not in outputs
    else:
        assert code == 0, log
        assert outputs["stage"] == stage.name


def test_destroy_runs_on_branch_deletion_and_by_hand() -> None:
    workflow = _workflow("destroy.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"delete", "workflow_dispatch"}
    assert "github.event.ref_type == 'branch'" in workflow["jobs"]["stage"]["if"]
    run = _step(workflow, "destroy", "name", "cdk destroy (connector stack, then alerts stack)")["run"]
    assert run.index('destroy "$connector"') < run.index('destroy "$alerts"')


@pytest.mark.parametrize(("branch", "target"), [("main", "val"), ("val", "production"), ("production", None)])
def test_promotion_opens_the_next_named_stage_pull_request(
    branch: str, target: str | None, tmp_path: Path
) -> None:
    step = _step(_workflow("promote.yml"), "pull-request", "name", "open the promotion pull request")
    assert step["env"]["ORDER"].split() == list(NAMED_STAGES)
    # gh is the process edge: a stand-in on PATH that records its arguments (no open PR yet).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "gh-calls"
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$*" >> {calls}\ncase "$2" in list) echo 0;; esac\n')
    gh.chmod(0o755)
    env = {"FROM": branch, "ORDER": step["env"]["ORDER"], "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    code, _, log = _run(step["run"], env, tmp_path)
    assert code == 0, log
    made = calls.read_text().splitlines() if calls.exists() else []
    if target is None:
        assert made == []
    else:
        assert made[-1].startswith(f"pr create --base {target} --head {branch} ")


# -- oracle.yml: the Oracle suite where Oracle runs (issue 24) ---------------------------------------


def test_oracle_runs_on_main_and_weekly_against_a_pinned_free_database() -> None:
    workflow = _workflow("oracle.yml")
    triggers = workflow[True]
    assert triggers["push"] == {"branches": ["main"]}
    assert "cron" in triggers["schedule"][0]
    job = workflow["jobs"]["oracle"]
    image = job["services"]["oracle"]["image"]
    # Pinned: an exact version tag (a moving tag such as 23-slim or latest would change under us).
    assert re.fullmatch(r"gvenzl/oracle-free:\d+\.\d+(\.\d+)?-[a-z-]+(@sha256:[0-9a-f]{64})?", image), image
    assert job["services"]["oracle"]["env"] == {"ORACLE_RANDOM_PASSWORD": "yes"}
    assert job["steps"][-1]["run"] == "make test-oracle"
    text = (WORKFLOWS / "oracle.yml").read_text()
    assert "ORACLE_PASSWORD:" not in text.replace("ORACLE_RANDOM_PASSWORD:", "")
    assert not any(key.endswith("PASSWORD") for key in job["env"])


def test_oracle_steps_run_here_until_the_database_is_needed(tmp_path: Path) -> None:
    """The steps before the first `docker exec`, run for real: passwords generated and masked, the
    target they name is complete for the suite's grammar; without them the suite refuses in one line."""
    job = _workflow("oracle.yml")["jobs"]["oracle"]
    static_env = {k: v for k, v in job["env"].items() if "${{" not in str(v)}
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith("WMS_TEST_ORACLE_")}

    def run(step_name: str, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        step = next(s for s in job["steps"] if s.get("name") == step_name)
        script = step["run"].replace(".venv/bin/python", sys.executable)
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=ROOT,
            env={**base, **static_env, "GITHUB_ENV": str(github_env), **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    refused = run("the suite's target is complete (the same check make test-oracle starts with)", {})
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "WMS_TEST_ORACLE_CDC_PASSWORD" in refused.stderr
    generated = run("throwaway passwords (generated for this run, masked)", {})
    assert generated.returncode == 0, generated.stderr
    exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
    assert set(exported) == {"WMS_TEST_ORACLE_DBA_PASSWORD", "WMS_TEST_ORACLE_CDC_PASSWORD"}
    for password in exported.values():
        assert f"::add-mask::{password}" in generated.stdout
        assert len(password) >= 20 and password[0].isalpha()
    ready = run("the suite's target is complete (the same check make test-oracle starts with)", exported)
    assert ready.returncode == 0, ready.stderr
    assert "127.0.0.1:1521/FREE (CDB, PDB FREEPDB1)" in ready.stdout
    assert not any(password in ready.stdout + ready.stderr for password in exported.values())
