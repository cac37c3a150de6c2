"""Every test a spec scenario names exists (so specs cannot point at nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "openspec" / "specs").glob("*/spec.md"))
TEST_LINE = re.compile(r"^Test: (?P<file>tests/\S+\.py)::(?P<name>\w+)\s*$", re.MULTILINE)


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_there_are_specs() -> None:
    assert any(spec.parent.name == "environment-and-topics" for spec in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_every_scenario_names_existing_tests(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    scenarios = text.count("### Scenario:")
    named = TEST_LINE.findall(text)
    assert scenarios > 0
    assert len(named) >= scenarios, "every scenario names at least one test"
    for block in text.split("### Scenario:")[1:]:
        assert TEST_LINE.search(block), f"a scenario in {spec} names no test: {block[:80]!r}"
    missing = [f"{f}::{n}" for f, n in named if not (ROOT / f).exists() or n not in _test_functions(ROOT / f)]
    assert not missing, f"{spec} names tests that do not exist: {missing}"
