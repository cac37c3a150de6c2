"""The DBA's SQL (``docs/sql``) read by a maintained parser with an Oracle dialect (sqlglot).

Every script is split the way SQL*Plus reads it (``tests/integration/sqlplus_script.py``, the
splitter the opt-in Oracle suite applies them with), then each SQL statement goes to
``sqlglot.parse_one(..., dialect="oracle")``. What sqlglot 30 understands, it parses into a tree,
and the test checks the tree (grants go to the four captured tables, the CDC user, Oracle's V$
views and LogMiner packages; the tables the scripts create are the heartbeat and signal tables).

What it cannot parse is listed, not hidden (:data:`OPAQUE`): sqlglot keeps those statements as an
opaque ``Command`` (a warning, no tree), so for them only our splitting and the real database of
``make test-oracle`` vouch. PL/SQL blocks (the RDS scripts) and SQL*Plus commands
(``WHENEVER``, ``SET``, ``ACCEPT``, ``SHUTDOWN``, ``STARTUP``) are not SQL and are not given to it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Final

import pytest
import sqlglot
from sqlglot import exp

from tests.integration.sqlplus_script import SQLPLUS_COMMANDS, Kind, Statement, split, variables
from wms_connector.naming import CAPTURED_TABLES

ROOT: Final = Path(__file__).resolve().parents[2]
SCRIPTS: Final = sorted((ROOT / "docs" / "sql").rglob("*.sql"))
#: A value for every variable the scripts document (a common user, as in a CDB).
VALUES: Final = {
    "CDC_USER": "C##WMS_CDC",
    "CDC_PASSWORD": "not-a-password",
    "PDB_NAME": "WMSPDB",
    "REDO_SIZE": "1G",
    "FRA_DIR": "/u01/fra",
    "FRA_SIZE": "500G",
    "ARCHIVE_HOURS": "72",
    "UNDO_SECONDS": "3600",
}
#: Statements sqlglot 30.30 (Oracle dialect) keeps as an opaque Command: Oracle's DDL for
#: sessions, containers, tablespaces, users, the database and the instance, supplemental logging,
#: and GRANTs of system privileges and roles (with or without CONTAINER=ALL).
OPAQUE: Final = (
    re.compile(r"ALTER SESSION SET CONTAINER = \S+$"),
    re.compile(r"ALTER TABLE \S+ ADD SUPPLEMENTAL LOG DATA \(ALL\) COLUMNS$"),
    re.compile(r"CREATE TABLESPACE "),
    re.compile(r"CREATE USER "),
    re.compile(r"ALTER DATABASE "),
    re.compile(r"ALTER SYSTEM SET "),
    re.compile(r"GRANT [A-Z_ ]+ TO \S+( CONTAINER=ALL)?$"),
    re.compile(r"GRANT \S+ ON \S+ TO \S+ CONTAINER=ALL$"),
)
CDC_USER: Final = VALUES["CDC_USER"]
OWN_TABLES: Final = {f"{CDC_USER}.WMS_CDC_HEARTBEAT", f"{CDC_USER}.WMS_CDC_SIGNAL"}
CAPTURED: Final = {t.qualified for t in CAPTURED_TABLES}


def _statements() -> list[tuple[Path, Statement]]:
    return [(path, s) for path in SCRIPTS for s in split(path.read_text(), VALUES)]


@pytest.fixture(autouse=True)
def _quiet_sqlglot() -> None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)


def test_every_variable_of_every_script_has_a_value() -> None:
    used = set().union(*(variables(p.read_text()) for p in SCRIPTS))
    assert used == set(VALUES)


def test_scripts_hold_only_sql_plsql_and_known_sqlplus_commands() -> None:
    kinds = {(p.relative_to(ROOT).as_posix(), s.kind) for p, s in _statements()}
    plsql = sorted(path for path, kind in kinds if kind is Kind.PLSQL)
    assert plsql == ["docs/sql/rds/01_archivelog_logging.sql", "docs/sql/rds/04_cdc_user.sql"]
    for _, statement in _statements():
        if statement.kind is Kind.SQLPLUS:
            assert statement.text.split()[0].upper() in SQLPLUS_COMMANDS


@pytest.mark.parametrize(
    "path", SCRIPTS, ids=[p.relative_to(ROOT / "docs" / "sql").as_posix() for p in SCRIPTS]
)
def test_each_sql_statement_parses_or_is_a_listed_gap(path: Path) -> None:
    for statement in split(path.read_text(), VALUES):
        if statement.kind is not Kind.SQL:
            continue
        tree = sqlglot.parse_one(statement.text, dialect="oracle")
        listed = any(p.match(statement.text) for p in OPAQUE)
        if isinstance(tree, exp.Command):
            assert listed, f"{path.name}:{statement.line}: sqlglot cannot parse {statement.text!r}"
        else:
            assert not listed, f"{path.name}:{statement.line}: now parsed, take it off OPAQUE"


def _trees() -> list[exp.Expression]:
    trees = []
    for _, statement in _statements():
        if statement.kind is Kind.SQL:
            tree = sqlglot.parse_one(statement.text, dialect="oracle")
            if not isinstance(tree, exp.Command):
                trees.append(tree)
    return trees


def _table(node: exp.Expression) -> str:
    return f"{node.args['db'].name}.{node.name}" if node.args.get("db") else node.name


def test_object_grants_go_to_the_cdc_user_on_the_captured_tables_and_logminer_objects() -> None:
    grants = [t for t in _trees() if isinstance(t, exp.Grant)]
    assert grants
    on_tables: dict[str, set[str]] = {}
    for grant in grants:
        assert [p.name for p in grant.args["principals"]] == [CDC_USER]
        target = _table(grant.args["securable"])
        privileges = {
            p.this.name if isinstance(p.this, exp.Var) else p.sql() for p in grant.args["privileges"]
        }
        if target.startswith("SYS."):
            assert re.fullmatch(r"SYS\.(V_\$\w+|DBMS_LOGMNR(_D)?)", target), target
            assert privileges <= {"SELECT", "EXECUTE"}
        else:
            on_tables.setdefault(target, set()).update(privileges)
    # Least privilege: exactly the four captured tables, each readable and flashback-queryable.
    assert on_tables == {table: {"SELECT", "FLASHBACK"} for table in CAPTURED}


def test_the_scripts_create_and_fill_only_the_cdc_users_own_tables() -> None:
    created = {_table(t.this.this) for t in _trees() if isinstance(t, exp.Create)}
    inserted = {_table(t.this.this) for t in _trees() if isinstance(t, exp.Insert)}
    assert created == OWN_TABLES
    assert inserted == {f"{CDC_USER}.WMS_CDC_HEARTBEAT"}
    for tree in _trees():
        if isinstance(tree, exp.Create):
            columns = [c.name for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
            assert columns in (["ID", "TS"], ["ID", "TYPE", "DATA"])
