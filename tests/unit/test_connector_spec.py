"""Every scenario of the cdc-connector-deployment spec names a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openspec" / "specs" / "cdc-connector-deployment" / "spec.md"


def test_every_named_test_exists() -> None:
    text = SPEC.read_text(encoding="utf-8")
    scenarios = text.count("#### Scenario:")
    named = re.findall(r"^- Test: (tests/\S+\.py)::(\w+)$", text, flags=re.MULTILINE)
    assert scenarios > 0 and len(named) >= scenarios
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, flags=re.MULTILINE), f"{path}::{name}"


def test_every_scenario_names_a_test() -> None:
    blocks = SPEC.read_text(encoding="utf-8").split("#### Scenario:")[1:]
    for block in blocks:
        assert "- Test: tests/" in block.split("###")[0], block.splitlines()[0]
