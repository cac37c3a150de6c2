"""The connector-monitoring spec (from the connect-agent change) names existing tests, and the
runbook has every alarm."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_specs import spec_problems
from wms_connector.naming import AlarmKind

ROOT = Path(__file__).resolve().parents[2]
# The change was archived when it landed: its requirements are now the capability's spec.
SPEC = ROOT / "openspec" / "specs" / "connector-monitoring" / "spec.md"
RUNBOOK = ROOT / "docs" / "operations.md"


def test_the_change_spec_names_only_existing_tests() -> None:
    assert spec_problems(SPEC.read_text(encoding="utf-8")) == []


def test_every_alarm_has_a_runbook_section() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    alarms = text.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0]
    sections = re.findall(r"^### (\S+)$", alarms, re.MULTILINE)
    assert sorted(sections) == sorted(kind.value for kind in AlarmKind)
