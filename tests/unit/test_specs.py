"""Every test a spec scenario names exists (so specs cannot point at nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "openspec" / "specs").glob("*/spec.md"))
TEST_LINE = re.compile(r"^(?:- )?Test: `?(?P<file>tests/\S+\.py)::(?P<name>\w+)`?\s*$", re.MULTILINE)
SCENARIO = re.compile(r"^#{3,4} Scenario:", re.MULTILINE)


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def spec_problems(text: str) -> list[str]:
    """What is wrong with a spec: scenarios without a test, and named tests that do not exist."""
    blocks = SCENARIO.split(text)[1:]
    if not blocks:
        return ["no scenario"]
    problems = [f"scenario names no test: {b.strip()[:60]!r}" for b in blocks if not TEST_LINE.search(b)]
    for file, name in TEST_LINE.findall(text):
        path = ROOT / file
        if not path.exists() or name not in _test_functions(path):
            problems.append(f"missing test {file}::{name}")
    return problems


def test_there_are_specs() -> None:
    assert {"environment-and-topics"} <= {spec.parent.name for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_every_scenario_names_existing_tests(spec: Path) -> None:
    assert spec_problems(spec.read_text(encoding="utf-8")) == []


def test_the_checker_catches_a_missing_test_and_a_scenario_without_one() -> None:
    text = (
        "### Scenario: one\n- GIVEN x\nTest: tests/unit/test_specs.py::test_there_are_specs\n"
        "### Scenario: two\n- GIVEN y\nTest: tests/unit/test_specs.py::test_that_does_not_exist\n"
        "#### Scenario: three\n- GIVEN z\n"
    )
    assert spec_problems(text) == [
        "scenario names no test: 'three\\n- GIVEN z'",
        "missing test tests/unit/test_specs.py::test_that_does_not_exist",
    ]
