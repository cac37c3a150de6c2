"""The opt-in Oracle suite's one grammar (tests/integration/oracle_target.py), its one-line refusal
(``make test-oracle`` without a database), and the SQL*Plus reading of the DBA's scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.oracle_target import (
    CDC_PASSWORD_ENV,
    DBA_PASSWORD_ENV,
    DSN_ENV,
    PDB_ENV,
    MissingOracleError,
    OracleTarget,
)
from tests.integration.sqlplus_script import Kind, ScriptError, split

ROOT = Path(__file__).resolve().parents[2]
FULL = {
    DSN_ENV: "db.example.internal:1521/WMSCDB",
    PDB_ENV: "WMSPDB",
    CDC_PASSWORD_ENV: "cdc-secret-1",
    DBA_PASSWORD_ENV: "dba-secret-2",
}


def test_one_dsn_names_the_database_for_every_opt_in_test() -> None:
    target = OracleTarget.from_env(FULL)
    assert (target.host, target.port, target.service, target.pdb) == (
        "db.example.internal",
        1521,
        "WMSCDB",
        "WMSPDB",
    )
    assert (target.cdc_user, target.dba_user) == ("C##WMS_CDC", "SYSTEM")
    assert target.cdc_spec().shown == "C##WMS_CDC@db.example.internal:1521/WMSCDB"
    info = target.db_info()
    assert (info.db, info.pdb_name, info.user) == ("WMSCDB", "WMSPDB", "C##WMS_CDC")
    non_cdb = OracleTarget.from_env({**FULL, PDB_ENV: ""})
    assert (non_cdb.pdb, non_cdb.cdc_user) == (None, "WMS_CDC")
    assert "secret" not in target.describe()


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({}, f"set {DSN_ENV}=host:port/service"),
        ({DSN_ENV: "h:1521/S"}, f"{CDC_PASSWORD_ENV} and {DBA_PASSWORD_ENV} not"),
        ({**FULL, DSN_ENV: "u/pw@h:1521/S"}, "without a user or password"),
        ({**FULL, DSN_ENV: "h:99999/S"}, "port 99999"),
        ({**FULL, DSN_ENV: "just-a-host"}, "host:port/service"),
    ],
)
def test_an_incomplete_environment_is_one_line_naming_what_is_missing(
    environ: dict[str, str], says: str
) -> None:
    with pytest.raises(MissingOracleError) as error:
        OracleTarget.from_env(environ)
    message = str(error.value)
    assert says in message
    assert "\n" not in message
    assert "pw" not in message.replace("password", "")


def test_make_test_oracle_without_a_database_says_what_it_needs_and_fails() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WMS_TEST_ORACLE_")}
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.oracle_target"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and DSN_ENV in lines[0], done.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert "test-oracle:" in makefile
    assert "-m tests.integration.oracle_target" in makefile


def test_the_splitter_reads_sqlplus_scripts() -> None:
    script = """-- a comment
WHENEVER SQLERROR EXIT SQL.SQLCODE
-- @fix x
CREATE TABLE &&CDC_USER..T (ID NUMBER(1),
  TS TIMESTAMP);
BEGIN
  dbms_output.put_line('a; b');
END;
/
GRANT SELECT ON S.T TO &&CDC_USER;
"""
    statements = split(script, {"CDC_USER": "C##U"})
    assert [(s.kind, s.line) for s in statements] == [
        (Kind.SQLPLUS, 2),
        (Kind.SQL, 4),
        (Kind.PLSQL, 6),
        (Kind.SQL, 10),
    ]
    assert statements[1].text == "CREATE TABLE C##U.T (ID NUMBER(1),\n  TS TIMESTAMP)"
    assert statements[2].text == "BEGIN\n  dbms_output.put_line('a; b');\nEND;"
    with pytest.raises(ScriptError, match="no value for &&CDC_USER"):
        split(script, {})
    with pytest.raises(ScriptError, match="no terminator"):
        split("GRANT SELECT ON S.T TO U\n")
