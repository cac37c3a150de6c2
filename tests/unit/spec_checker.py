"""Reading our specs: scenarios and the tests they name, and the requirement names changes build.

Read here: the main specs (``openspec/specs/<capability>/spec.md``) and the delta specs of every
change, open or archived (``openspec/changes/**/specs/**/spec.md``), in the OpenSpec CLI's
format: ``### Requirement: <name>``, ``#### Scenario: <name>``, then one or more lines
``- Test: tests/<path>.py::<test_name>``. The OpenSpec CLI itself (``make specs``) checks the
rest of the format; this reads what it cannot check: that the named tests exist, and that
replaying the archived changes' deltas gives exactly the main specs' requirements.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<title>.*?)\s*$")
TEST_LINE = re.compile(r"^\s*(?:[-*]\s+)?Test:\s*`?(?P<file>tests/\S+?\.py)::(?P<name>\w+)`?\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
REQUIREMENT = re.compile(r"^Requirement:\s*(?P<name>.+)$")
SCENARIO = re.compile(r"^Scenario:\s*(?P<name>.+)$")
#: The sections whose requirements carry scenarios (REMOVED and RENAMED name requirements only).
SECTIONS_WITH_SCENARIOS = {"requirements", "added requirements", "modified requirements"}
RENAME = re.compile(r"^\s*[-*+]?\s*(?P<side>FROM|TO):\s*`?###\s*Requirement:\s*(?P<name>.+?)`?\s*$")
REMOVED_BULLET = re.compile(r"^\s*[-*+]\s*`?###\s*Requirement:\s*(?P<name>.+?)`?\s*$")


@dataclass
class Scenario:
    name: str
    line: int
    level: int
    tests: list[tuple[str, str]]


@dataclass
class Requirement:
    name: str
    section: str
    level: int
    scenarios: list[Scenario]


@dataclass
class Parsed:
    requirements: list[Requirement]
    sections: list[str]
    lines: list[tuple[str, str]]  # (section, line) outside code fences, for REMOVED/RENAMED


def spec_files(root: Path = ROOT) -> list[Path]:
    """The main specs and every change's delta specs under ``root``."""
    main = sorted((root / "openspec" / "specs").glob("*/spec.md"))
    deltas = sorted((root / "openspec" / "changes").glob("**/specs/**/spec.md"))
    return main + deltas


def parse(text: str) -> Parsed:
    """Requirements and their scenarios; a scenario ends at the next heading of level 4 or above."""
    requirements: list[Requirement] = []
    sections: list[str] = []
    lines: list[tuple[str, str]] = []
    section = ""
    scenario: Scenario | None = None
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = HEADING.match(line)
        if heading:
            level, title = len(heading["level"]), heading["title"]
            if level <= 4:
                scenario = None
            requirement = REQUIREMENT.match(title)
            scenario_match = SCENARIO.match(title)
            if scenario_match and requirements:
                scenario = Scenario(scenario_match["name"], number, level, [])
                requirements[-1].scenarios.append(scenario)
            elif requirement and level in (2, 3):
                requirements.append(Requirement(requirement["name"].strip(), section, level, []))
            elif level == 2:
                section = title.lower()
                sections.append(section)
            continue
        lines.append((section, line))
        test = TEST_LINE.match(line)
        if test and scenario is not None:
            scenario.tests.append((test["file"], test["name"]))
    return Parsed(requirements, sections, lines)


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def spec_problems(text: str, root: Path = ROOT) -> list[str]:
    """What is wrong with a spec: misplaced headings, scenarios without a test, missing tests."""
    parsed = parse(text)
    problems: list[str] = []
    scenarios = [s for r in parsed.requirements for s in r.scenarios]
    if not scenarios and SECTIONS_WITH_SCENARIOS & set(parsed.sections):
        problems.append("no scenario")
    for requirement in parsed.requirements:
        if requirement.level != 3:
            problems.append(f"requirement heading needs three '#': {requirement.name!r}")
        needs_scenario = requirement.section in SECTIONS_WITH_SCENARIOS
        if needs_scenario and not requirement.scenarios:
            problems.append(f"requirement has no scenario: {requirement.name!r}")
        for scenario in requirement.scenarios:
            if scenario.level != 4:
                problems.append(f"scenario heading needs four '#': {scenario.name!r}")
            if not scenario.tests:
                problems.append(f"scenario names no test: {scenario.name!r}")
    for scenario in scenarios:
        for file, name in scenario.tests:
            path = root / file
            if not path.is_file() or name not in _test_functions(path):
                problems.append(f"missing test {file}::{name}")
    return problems


# ---- the history: replaying the archived changes' deltas gives the main specs' requirements


def main_requirements(text: str) -> set[str]:
    return {r.name for r in parse(text).requirements if r.section == "requirements"}


def apply_delta(current: set[str], text: str) -> set[str]:
    """The requirement names after one delta spec, in the order archive applies it."""
    parsed = parse(text)
    names = set(current)
    renames: list[tuple[str, str]] = []
    pending: str | None = None
    for section, line in parsed.lines:
        match = RENAME.match(line)
        if section == "renamed requirements" and match:
            if match["side"] == "FROM":
                pending = match["name"].strip()
            elif pending is not None:
                renames.append((pending, match["name"].strip()))
                pending = None
    for old, new in renames:
        names.discard(old)
        names.add(new)
    removed = {r.name for r in parsed.requirements if r.section == "removed requirements"}
    removed |= {
        m["name"].strip()
        for section, line in parsed.lines
        if section == "removed requirements" and (m := REMOVED_BULLET.match(line))
    }
    names -= removed
    names |= {
        r.name for r in parsed.requirements if r.section in {"added requirements", "modified requirements"}
    }
    return names


def _takes_away(change: Path) -> bool:
    """Whether a change removes or renames a requirement (it must then come after the adders)."""
    for delta in (change / "specs").glob("**/spec.md"):
        sections = parse(delta.read_text(encoding="utf-8")).sections
        if {"removed requirements", "renamed requirements"} & set(sections):
            return True
    return False


def archive_order(archive: Path) -> list[Path]:
    """Archived changes by date; on one date, changes that only add or modify come first.

    Archive names are ``YYYY-MM-DD-<id>``, so two changes of one day sort by id, which says
    nothing about which came first; taking removals and renames last keeps them from acting on
    a requirement a same-day change has not added yet.
    """
    changes = [p for p in archive.iterdir() if p.is_dir()] if archive.is_dir() else []
    return sorted(changes, key=lambda p: (p.name[:10], _takes_away(p), p.name))


def replay_archive(root: Path = ROOT) -> dict[str, set[str]]:
    """Each capability's requirement names, built from the archived changes in their order."""
    built: dict[str, set[str]] = {}
    for change in archive_order(root / "openspec" / "changes" / "archive"):
        for delta in sorted((change / "specs").glob("**/spec.md")):
            capability = delta.parent.relative_to(change / "specs").as_posix()
            built[capability] = apply_delta(built.get(capability, set()), delta.read_text(encoding="utf-8"))
    return {capability: names for capability, names in built.items() if names}


def main_specs(root: Path = ROOT) -> dict[str, set[str]]:
    specs = sorted((root / "openspec" / "specs").glob("*/spec.md"))
    return {p.parent.name: main_requirements(p.read_text(encoding="utf-8")) for p in specs}
