"""The pinned OpenSpec CLI (package.json, installed by ``make specs``) on copies of ``openspec/``.

A change written the way this project writes them (a new capability with its Purpose, a
MODIFIED requirement repeated in full, ``- Test:`` lines) validates strictly, archives with
``openspec archive <id> --yes``, and leaves specs that the CLI and our checker both accept and
that the archived changes still replay to. A new capability without a Purpose is the one trap:
archive writes a placeholder that strict validation then refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.unit.spec_checker import ROOT, main_specs, replay_archive, spec_files, spec_problems

OPENSPEC = ROOT / "node_modules" / ".bin" / "openspec"

PROPOSAL = """\
## Why

The connector needs a sidecar that keeps it registered, healthy and measured in every task.

## What Changes

- A sample change in the shape every change of this project has.

## Capabilities

### New Capabilities

- `sample-monitoring`: health and recovery.

### Modified Capabilities

- `cdc-connector-deployment`: one more stand-in scenario.

## Impact

- Tests only.
"""

TASKS = "# Tasks\n\n## 1. Sample\n\n- [x] 1.1 Write the sample (tests/unit/test_openspec_cli.py)\n"

NEW_CAPABILITY = """\
{purpose}## ADDED Requirements

### Requirement: A failed task is restarted
The agent SHALL restart a failed task with a back-off and within a budget.

#### Scenario: one failure
- **GIVEN** a task in state FAILED
- **WHEN** the agent runs
- **THEN** the task is restarted once
- Test: tests/unit/test_openspec_cli.py::test_a_change_in_our_shape_validates_and_archives
"""

PURPOSE = """\
## Purpose

How a running connector is watched: health, recovery, metrics and the alarms that reach a person.

"""

EXTRA_SCENARIO = """
#### Scenario: one more stand-in scenario
- **WHEN** the sample change is archived
- **THEN** the requirement keeps its earlier scenarios and gains this one
- Test: tests/unit/test_openspec_cli.py::test_a_change_in_our_shape_validates_and_archives
"""


def _openspec(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not OPENSPEC.exists():
        pytest.fail(f"{OPENSPEC} is missing: run `make specs` (npm ci installs the pinned OpenSpec CLI)")
    env = {
        **os.environ,
        "OPENSPEC_TELEMETRY": "0",
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "home" / ".config"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(OPENSPEC), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _copy_openspec(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "openspec", tmp_path / "openspec")
    return tmp_path


def _write_change(root: Path, change: str, *, purpose: str) -> None:
    directory = root / "openspec" / "changes" / change
    (directory / "specs" / "sample-monitoring").mkdir(parents=True)
    (directory / "specs" / "cdc-connector-deployment").mkdir(parents=True)
    (directory / "proposal.md").write_text(PROPOSAL, encoding="utf-8")
    (directory / "tasks.md").write_text(TASKS, encoding="utf-8")
    (directory / "specs" / "sample-monitoring" / "spec.md").write_text(
        NEW_CAPABILITY.format(purpose=purpose), encoding="utf-8"
    )
    main = (root / "openspec" / "specs" / "cdc-connector-deployment" / "spec.md").read_text(encoding="utf-8")
    start = main.index("### Requirement: The stand-in source")
    end = main.index("### Requirement:", start + 1)
    modified = "## MODIFIED Requirements\n\n" + main[start:end].rstrip() + "\n" + EXTRA_SCENARIO
    (directory / "specs" / "cdc-connector-deployment" / "spec.md").write_text(modified, encoding="utf-8")


def _validate(root: Path) -> dict[str, object]:
    result = _openspec(root, "validate", "--all", "--strict", "--json", "--no-interactive")
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _failed_items(report: dict[str, object]) -> list[str]:
    items = report["items"]
    assert isinstance(items, list)
    return sorted(str(item["id"]) for item in items if not item["valid"])


def test_the_repository_root_is_healthy() -> None:
    result = _openspec(ROOT, "doctor", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["root"]["healthy"] is True


def test_a_change_in_our_shape_validates_and_archives(tmp_path: Path) -> None:
    root = _copy_openspec(tmp_path)
    _write_change(root, "sample-agent", purpose=PURPOSE)
    assert _failed_items(_validate(root)) == []

    archived = _openspec(root, "archive", "sample-agent", "--yes")
    assert archived.returncode == 0, archived.stdout + archived.stderr

    target = root / "openspec" / "changes" / "archive" / f"{date.today().isoformat()}-sample-agent"
    assert (target / "proposal.md").is_file()
    assert not (root / "openspec" / "changes" / "sample-agent").exists()
    created = (root / "openspec" / "specs" / "sample-monitoring" / "spec.md").read_text(encoding="utf-8")
    assert "How a running connector is watched" in created
    modified = (root / "openspec" / "specs" / "cdc-connector-deployment" / "spec.md").read_text(
        encoding="utf-8"
    )
    assert "#### Scenario: one more stand-in scenario" in modified
    assert "#### Scenario: the stand-in holds the four tables" in modified

    assert _failed_items(_validate(root)) == []
    for spec in spec_files(root):
        assert spec_problems(spec.read_text(encoding="utf-8")) == [], spec
    assert replay_archive(root) == main_specs(root)
    assert "A failed task is restarted" in main_specs(root)["sample-monitoring"]


def test_a_new_capability_without_a_purpose_fails_strict_validation_after_archive(tmp_path: Path) -> None:
    root = _copy_openspec(tmp_path)
    _write_change(root, "sample-agent", purpose="")
    assert _failed_items(_validate(root)) == []  # while the change is open, nothing shows it

    archived = _openspec(root, "archive", "sample-agent", "--yes")
    assert archived.returncode == 0, archived.stdout + archived.stderr
    created = root / "openspec" / "specs" / "sample-monitoring" / "spec.md"
    assert "TBD - created by archiving change sample-agent" in created.read_text(encoding="utf-8")
    assert _failed_items(_validate(root)) == ["sample-monitoring"]


def test_the_cli_does_not_read_three_hash_scenarios_and_neither_does_our_checker(tmp_path: Path) -> None:
    root = _copy_openspec(tmp_path)
    spec = root / "openspec" / "specs" / "cdc-connector-deployment" / "spec.md"
    text = spec.read_text(encoding="utf-8").replace("#### Scenario:", "### Scenario:")
    spec.write_text(text, encoding="utf-8")
    assert _failed_items(_validate(root)) == ["cdc-connector-deployment"]
    assert "scenario heading needs four '#': 'snapshot once'" in spec_problems(text)
