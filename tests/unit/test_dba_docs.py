"""The DBA's document and scripts agree with the code: tables, grants, fix blocks, variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wms_connector.naming import CAPTURED_TABLES, TableId
from wms_connector.preflight import checks
from wms_connector.preflight.fixes import SQL_DIR, VARIANTS, blocks_for, grant_items, parse_blocks, substitute
from wms_connector.preflight.queries import LOGMINER_PACKAGES, LOGMINER_VIEWS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "wms-config-details.md"
SQL_FILES = sorted(SQL_DIR.rglob("*.sql"))
ALTER_TABLE = re.compile(
    r"^ALTER TABLE (\w+)\.(\w+) ADD SUPPLEMENTAL LOG DATA \(ALL\) COLUMNS;$", re.MULTILINE
)
TABLE_GRANT = re.compile(r"^GRANT (SELECT|FLASHBACK) ON (MMDL|WMS)\.(\w+) TO ", re.MULTILINE)
KNOWN_VARIABLES = {
    "CDC_USER",
    "CDC_PASSWORD",
    "PDB_NAME",
    "REDO_SIZE",
    "FRA_DIR",
    "FRA_SIZE",
    "ARCHIVE_HOURS",
    "UNDO_SECONDS",
}
#: Every fix block a check can print; each must exist for a CDB and for a non-CDB.
FIX_BLOCKS = [
    "archivelog",
    "database_supplemental_logging",
    "table_supplemental_logging",
    "redo_logs",
    "archive_destination",
    "archive_retention",
    "undo_retention",
    "heartbeat_signal_tables",
]


def test_doc_lists_exactly_the_captured_tables() -> None:
    text = DOC.read_text()
    section = text[text.index("<!-- captured-tables -->") : text.index("<!-- /captured-tables -->")]
    rows = re.findall(r"^\| (\w+) \| (\w+) \|$", section, re.MULTILINE)
    assert [TableId(s, t) for s, t in rows if s != "schema"] == list(CAPTURED_TABLES)


@pytest.mark.parametrize(
    "path",
    [p for p in SQL_FILES if "supplemental" in p.name or "archivelog_logging" in p.name],
    ids=lambda p: str(p.relative_to(SQL_DIR)),
)
def test_supplemental_logging_scripts_name_exactly_the_captured_tables(path: Path) -> None:
    found = [TableId(s, t) for s, t in ALTER_TABLE.findall(path.read_text()) if s in ("MMDL", "WMS")]
    if path.name.startswith("02_database"):
        assert found == []
    else:
        assert found == list(CAPTURED_TABLES)


@pytest.mark.parametrize(
    "path", [p for p in SQL_FILES if "cdc_user" in p.name], ids=lambda p: str(p.relative_to(SQL_DIR))
)
def test_table_grants_name_exactly_the_captured_tables(path: Path) -> None:
    grants = TABLE_GRANT.findall(path.read_text())
    for privilege in ("SELECT", "FLASHBACK"):
        assert [TableId(s, t) for p, s, t in grants if p == privilege] == list(CAPTURED_TABLES)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_grant_a_check_requires_has_a_statement(variant: str) -> None:
    available = {item for item, _ in grant_items(variant)}
    required = {
        *checks.BASE_SYSTEM_PRIVILEGES,
        *checks.OPTIONAL_SYSTEM_PRIVILEGES,
        *checks.REQUIRED_ROLES,
        *checks.REQUIRED_OBJECT_PRIVILEGES,
        *(f"{p} ON {t.qualified}" for t in CAPTURED_TABLES for p in ("SELECT", "FLASHBACK")),
    }
    if variant == "cdb":
        required |= set(checks.CDB_SYSTEM_PRIVILEGES)
    assert required <= available, sorted(required - available)
    assert available == required, sorted(available - required)


def test_cdb_grants_are_for_all_containers_and_non_cdb_grants_are_not() -> None:
    for line in (SQL_DIR / "cdb" / "04_cdc_user.sql").read_text().splitlines():
        if line.startswith("GRANT") and " ON MMDL." not in line and " ON WMS." not in line:
            assert line.endswith("CONTAINER=ALL;"), line
    assert "CONTAINER" not in (SQL_DIR / "non-cdb" / "04_cdc_user.sql").read_text().replace("-- ", "")


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_fix_a_check_prints_exists(variant: str) -> None:
    assert set(FIX_BLOCKS) <= set(blocks_for(variant))


def test_rds_script_grants_every_logminer_object() -> None:
    text = (SQL_DIR / "rds" / "04_cdc_user.sql").read_text()
    granted = re.findall(r"grant_sys_object\('(\w+\$?\w*)', '&&CDC_USER', '(\w+)'\)", text)
    assert sorted(o for o, _ in granted) == sorted(LOGMINER_VIEWS + LOGMINER_PACKAGES)
    assert {o: p for o, p in granted if p == "EXECUTE"}.keys() == set(LOGMINER_PACKAGES)


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_scripts_use_only_documented_variables(path: Path) -> None:
    used = set(re.findall(r"&&(\w+?)(?:\.|\b)", path.read_text()))
    assert used <= KNOWN_VARIABLES
    doc = DOC.read_text()
    for variable in used - {"CDC_PASSWORD"}:
        assert f"`{variable}`" in doc, variable


def test_substitution_ends_at_the_sqlplus_period() -> None:
    text = "CREATE TABLE &&CDC_USER..WMS_CDC_HEARTBEAT; GRANT X TO &&CDC_USER; &&UNKNOWN"
    assert (
        substitute(text, {"CDC_USER": "C##A"})
        == "CREATE TABLE C##A.WMS_CDC_HEARTBEAT; GRANT X TO C##A; &&UNKNOWN"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-- @fix a\nX;\n", "never closed"),
        ("-- @fix a\n-- @fix b\n-- @end\n", "opens inside"),
        ("X;\n-- @end\n", "without a block"),
    ],
)
def test_malformed_fix_blocks_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_blocks(text, "x.sql")


def test_doc_links_to_every_script() -> None:
    doc = DOC.read_text()
    for path in SQL_FILES:
        assert str(path.relative_to(SQL_DIR.parent)) in doc, path


@pytest.mark.parametrize("variant", VARIANTS)
def test_heartbeat_and_signal_scripts_create_the_named_tables(variant: str) -> None:
    from wms_connector.naming import HEARTBEAT_TABLE, SIGNAL_TABLE

    sql = "\n".join(blocks_for(variant)["heartbeat_signal_tables"].lines)
    created = re.findall(r"^CREATE TABLE &&CDC_USER\.\.(\w+) ", sql, re.MULTILINE)
    assert created == [HEARTBEAT_TABLE, SIGNAL_TABLE]
    for table in (HEARTBEAT_TABLE, SIGNAL_TABLE):
        assert f"ALTER TABLE &&CDC_USER..{table} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;" in sql
