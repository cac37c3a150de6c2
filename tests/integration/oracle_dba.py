"""TEST ONLY, opt-in Oracle suite: what the WMS application and the DBA do to a fresh database.

The WMS application owns schemas WMS and MMDL with the four tables (their columns mirror the
stand-in's, in Oracle types: every type ``docs/stream.md`` maps that the waiver tables use). The
DBA then runs ``docs/sql`` (split by ``sqlplus_script``) through python-oracledb. ARCHIVELOG
(``docs/sql/common/01_archivelog.sql``) needs SQL*Plus's ``SHUTDOWN``/``STARTUP``, which no SQL
driver sends: it is applied before the suite (``oracle.yml`` runs it with SQL*Plus as SYSDBA in
the database's container) and only checked here.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import oracledb

from tests.integration.oracle_target import OracleTarget
from tests.integration.sqlplus_script import Kind, split
from wms_connector.naming import CAPTURED_TABLES, SCHEMAS

ROOT: Final = Path(__file__).resolve().parents[2]
SQL_DIR: Final = ROOT / "docs" / "sql"

#: The application's tables in Oracle types (TEST ONLY: production's exist, owned by WMS).
TABLE_DDL: Final = {
    "PLAN_BASE_WVR_TBL": """
        PLAN_BASE_WVR_ID NUMBER(18) PRIMARY KEY,
        WVR_NUM VARCHAR2(20) NOT NULL,
        STATE_CD CHAR(2) NOT NULL,
        WVR_STATUS_CD VARCHAR2(10) NOT NULL,
        WVR_TYPE_CD VARCHAR2(10),
        EFF_DT DATE,
        END_DT DATE,
        WVR_AMT NUMBER(14, 2),
        SLOT_CNT NUMBER(9),
        CREATED_BY VARCHAR2(30),
        WVR_RATE NUMBER(38, 18),
        SBMT_TS TIMESTAMP(6) WITH TIME ZONE,
        LAST_UPDT_TS TIMESTAMP(6) DEFAULT LOCALTIMESTAMP NOT NULL
    """,
    "PLAN_WVR_RVSN_TBL": """
        PLAN_WVR_RVSN_ID NUMBER(18) PRIMARY KEY,
        PLAN_BASE_WVR_ID NUMBER(18) NOT NULL,
        WVR_NUM VARCHAR2(20) NOT NULL,
        RVSN_NUM NUMBER(9) NOT NULL,
        RVSN_TYPE_CD VARCHAR2(10),
        RVSN_STATUS_CD VARCHAR2(10) NOT NULL,
        RVSN_EFF_DT DATE,
        APRVL_DT DATE,
        RVSN_AMT NUMBER(14, 2),
        CMNT_TXT VARCHAR2(400),
        RVSN_FACTOR NUMBER,
        APRVL_TS TIMESTAMP(6),
        LAST_UPDT_TS TIMESTAMP(6) DEFAULT LOCALTIMESTAMP NOT NULL
    """,
}
#: Scripts the DBA runs, in order, per kind of database (01 is checked, see the module docstring;
#: 05 only where the environment sizes it, :func:`scripts_for`).
CDB_SCRIPTS: Final = (
    "common/02_database_supplemental_logging.sql",
    "cdb/03_table_supplemental_logging.sql",
    "cdb/04_cdc_user.sql",
    "common/06_undo_retention.sql",
    "cdb/07_heartbeat_signal_tables.sql",
)
NON_CDB_SCRIPTS: Final = tuple(s.replace("cdb/", "non-cdb/") for s in CDB_SCRIPTS)
#: Oracle errors that mean "already done" when a script runs a second time on the same database.
ALREADY_DONE: Final = {
    955,  # name is already used by an existing object
    1430,  # column being added already exists (supplemental log group)
    1920,  # user name conflicts with another user or role name
    1543,  # tablespace already exists
    32588,  # supplemental logging attribute already exists
    1,  # unique constraint (the heartbeat row)
    1184,  # logfile group already exists (05's redo groups)
}


def connect_dba(target: OracleTarget) -> Any:
    """The DBA's session (``SYS`` connects AS SYSDBA; others as themselves)."""
    spec = target.dba_spec()
    mode = oracledb.AUTH_MODE_SYSDBA if spec.user.upper() == "SYS" else oracledb.AUTH_MODE_DEFAULT
    return oracledb.connect(
        user=spec.user,
        password=spec.password,
        dsn=f"{spec.host}:{spec.port}/{spec.service}",
        mode=mode,
    )


@contextmanager
def dba_session(target: OracleTarget) -> Iterator[Any]:
    connection = connect_dba(target)
    try:
        yield connection
    finally:
        connection.close()


def execute(connection: Any, statements: Sequence[str], *, tolerate: set[int] | None = None) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            try:
                cursor.execute(sql)
            except oracledb.DatabaseError as error:
                (detail,) = error.args
                if tolerate is None or detail.code not in tolerate:
                    raise


def in_pdb(target: OracleTarget, statements: Sequence[str]) -> list[str]:
    if not target.pdb:
        return list(statements)
    return [
        f"ALTER SESSION SET CONTAINER = {target.pdb}",
        *statements,
        "ALTER SESSION SET CONTAINER = CDB$ROOT",
    ]


def create_application_tables(target: OracleTarget) -> None:
    """What the WMS application has: schemas WMS and MMDL (as users) and the four tables, empty."""
    # The schemas are users nobody logs in as here: a random password, never printed.
    statements = [
        f'CREATE USER {schema} IDENTIFIED BY "W{secrets.token_hex(12)}" QUOTA UNLIMITED ON USERS'
        for schema in SCHEMAS
    ]
    for table in CAPTURED_TABLES:
        statements.append(f"CREATE TABLE {table.qualified} ({TABLE_DDL[table.table]})")
    with dba_session(target) as connection:
        execute(connection, in_pdb(target, statements), tolerate={955, 1920})
        execute(connection, in_pdb(target, [f"TRUNCATE TABLE {t.qualified}" for t in CAPTURED_TABLES]))


#: docs/sql/common/05_redo_and_archive.sql runs only where the environment sizes it (a test
#: database's disk is not production's): the fast recovery area's directory (it must exist on the
#: database host), its size, and the size of the redo groups it adds (Oracle-managed files).
FRA_DIR_ENV: Final = "WMS_TEST_ORACLE_FRA_DIR"
FRA_SIZE_ENV: Final = "WMS_TEST_ORACLE_FRA_SIZE"
REDO_SIZE_ENV: Final = "WMS_TEST_ORACLE_REDO_SIZE"


def script_values(target: OracleTarget, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {
        "CDC_USER": target.cdc_user,
        "CDC_PASSWORD": target.cdc_password.get_secret_value(),
        "PDB_NAME": target.pdb or "",
        "UNDO_SECONDS": "3600",
        "ARCHIVE_HOURS": "24",
        "FRA_DIR": env.get(FRA_DIR_ENV, ""),
        "FRA_SIZE": env.get(FRA_SIZE_ENV, "10G"),
        "REDO_SIZE": env.get(REDO_SIZE_ENV, "200M"),
    }


def scripts_for(target: OracleTarget, environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    scripts = list(CDB_SCRIPTS if target.is_cdb else NON_CDB_SCRIPTS)
    if env.get(FRA_DIR_ENV):
        scripts.insert(3, "common/05_redo_and_archive.sql")
    return scripts


def apply_scripts(target: OracleTarget) -> list[str]:
    """Run the DBA's scripts for this kind of database; the names of the scripts run."""
    scripts = scripts_for(target)
    with dba_session(target) as connection:
        for name in scripts:
            statements = split((SQL_DIR / name).read_text(), script_values(target))
            sql = [s.text for s in statements if s.kind is not Kind.SQLPLUS]
            execute(connection, sql, tolerate=ALREADY_DONE)
        connection.commit()
    return list(scripts)


def log_mode(target: OracleTarget) -> str:
    with dba_session(target) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT LOG_MODE FROM V$DATABASE")
        (mode,) = cursor.fetchone()
        return str(mode)
