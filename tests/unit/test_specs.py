"""Every scenario of every spec names tests that exist, and the specs are what the changes built.

The checker (``tests/unit/spec_checker.py``) is tested here too: it must report a missing test, a
scenario without one and headings the OpenSpec CLI would not read, in main and delta specs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.spec_checker import (
    ROOT,
    apply_delta,
    archive_order,
    main_requirements,
    main_specs,
    replay_archive,
    spec_files,
    spec_problems,
)


def _spec_id(path: Path) -> str:
    return path.relative_to(ROOT / "openspec").as_posix()


def test_there_are_specs_and_the_original_change() -> None:
    names = {_spec_id(p) for p in spec_files()}
    assert {
        "specs/cdc-connector-deployment/spec.md",
        "specs/environment-and-topics/spec.md",
        "specs/oracle-cdc-prerequisites/spec.md",
        "changes/archive/2026-12-02-plan-connector-services-and-code/specs/environment-and-topics/spec.md",
    } <= names


@pytest.mark.parametrize("spec", spec_files(), ids=_spec_id)
def test_every_scenario_names_existing_tests(spec: Path) -> None:
    assert spec_problems(spec.read_text(encoding="utf-8")) == []


def test_the_specs_are_what_the_archived_changes_built() -> None:
    assert replay_archive() == main_specs()


def test_the_checker_catches_a_missing_test_a_scenario_without_one_and_wrong_levels() -> None:
    text = (
        "## Requirements\n"
        "### Requirement: first\nThe system SHALL x.\n"
        "#### Scenario: one\n- **WHEN** x\n"
        "- Test: tests/unit/test_specs.py::test_there_are_specs_and_the_original_change\n"
        "#### Scenario: two\n- **WHEN** y\n- Test: tests/unit/test_specs.py::test_that_does_not_exist\n"
        "#### Scenario: three\n- **WHEN** z\n"
        "### Requirement: second\nThe system SHALL y.\n"
        "- Test: tests/unit/test_specs.py::test_there_are_specs_and_the_original_change\n"
        "## Requirement: old style\nThe system SHALL z.\n"
        "### Scenario: also old style\n- Test: tests/nowhere.py::test_x\n"
        "```\n#### Scenario: in a fence, not a scenario\n```\n"
    )
    assert spec_problems(text) == [
        "scenario names no test: 'three'",
        "requirement has no scenario: 'second'",
        "requirement heading needs three '#': 'old style'",
        "scenario heading needs four '#': 'also old style'",
        "missing test tests/unit/test_specs.py::test_that_does_not_exist",
        "missing test tests/nowhere.py::test_x",
    ]


SAMPLE_DELTA = """\
## Purpose

How a running connector is watched: health, recovery and the alarms that reach a person.

## ADDED Requirements

### Requirement: A failed task is restarted
The agent SHALL restart a failed task with a back-off and within a budget.

#### Scenario: one failure
- **GIVEN** a task in state FAILED
- **WHEN** the agent runs
- **THEN** the task is restarted once
- Test: tests/unit/test_specs.py::{test}

## REMOVED Requirements

### Requirement: An old rule
**Reason**: replaced
"""


def test_the_checker_reads_change_deltas(tmp_path: Path) -> None:
    delta = tmp_path / "openspec" / "changes" / "connect-agent" / "specs" / "connector-monitoring" / "spec.md"
    delta.parent.mkdir(parents=True)
    delta.write_text(SAMPLE_DELTA.format(test="test_the_checker_reads_change_deltas"), encoding="utf-8")
    (tmp_path / "openspec" / "specs" / "x").mkdir(parents=True)
    assert spec_files(tmp_path) == [delta]
    assert spec_problems(delta.read_text(encoding="utf-8")) == []
    assert spec_problems(SAMPLE_DELTA.format(test="test_gone")) == [
        "missing test tests/unit/test_specs.py::test_gone"
    ]
    without_scenario = SAMPLE_DELTA.split("#### Scenario", maxsplit=1)[0]
    assert spec_problems(without_scenario) == [
        "no scenario",
        "requirement has no scenario: 'A failed task is restarted'",
    ]


def test_replay_applies_added_modified_removed_and_renamed() -> None:
    first = "## ADDED Requirements\n### Requirement: a\nx\n### Requirement: b\ny\n### Requirement: c\nz\n"
    second = (
        "## RENAMED Requirements\n- FROM: `### Requirement: a`\n- TO: `### Requirement: a2`\n"
        "## REMOVED Requirements\n### Requirement: b\n- `### Requirement: c`\n"
        "## MODIFIED Requirements\n### Requirement: a2\nchanged\n"
        "## ADDED Requirements\n### Requirement: d\nnew\n"
    )
    assert apply_delta(apply_delta(set(), first), second) == {"a2", "d"}
    assert main_requirements(
        "## Purpose\np\n## Requirements\n### Requirement: a\nx\n#### Scenario: s\n- y\n"
    ) == {"a"}


def test_on_one_day_removals_and_renames_come_after_the_adders(tmp_path: Path) -> None:
    archive = tmp_path / "openspec" / "changes" / "archive"
    changes = {
        "2026-12-01-zeta": "## ADDED Requirements\n### Requirement: z\nx\n",
        "2026-12-02-alpha": "## REMOVED Requirements\n### Requirement: a\n",
        "2026-12-02-beta": "## MODIFIED Requirements\n### Requirement: a\nx\n",
        "2026-12-02-plan": "## ADDED Requirements\n### Requirement: a\nx\n### Requirement: b\ny\n",
    }
    for name, text in changes.items():
        (archive / name / "specs" / "cap").mkdir(parents=True)
        (archive / name / "specs" / "cap" / "spec.md").write_text(text, encoding="utf-8")
    order = [p.name for p in archive_order(archive)]
    assert order == ["2026-12-01-zeta", "2026-12-02-beta", "2026-12-02-plan", "2026-12-02-alpha"]
    assert replay_archive(tmp_path) == {"cap": {"z", "b"}}
