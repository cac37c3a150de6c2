"""Every statement the preflight sends to Oracle, in one place, and the guard that keeps them read-only.

Only ``SELECT`` (or ``WITH ... SELECT``) is sent, plus one exception: ``ALTER SESSION SET
CONTAINER`` to step from ``CDB$ROOT`` into the PDB, which changes nothing but the session.
:func:`ensure_read_only` enforces that at the boundary (``OracleDatabase.query``), so a future edit
cannot slip a write in.

Statements are assembled from constants: bind placeholders (``:schema0``...) and table names
from ``naming.CAPTURED_TABLES`` checked by :func:`identifier`, never from input (hence the
``noqa: S608`` marks).

Column names are Oracle's own (uppercase, ``GROUP#`` included); aliases are given where Oracle
would otherwise name a column after its expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from wms_connector.naming import HEARTBEAT_TABLE, SIGNAL_TABLE, TableId
from wms_connector.preflight.model import Expectations

#: Dictionary objects the CDC user reads or runs, owned by SYS (Debezium's documented list).
LOGMINER_VIEWS: Final = (
    "V_$DATABASE",
    "V_$LOG",
    "V_$LOG_HISTORY",
    "V_$LOGMNR_LOGS",
    "V_$LOGMNR_CONTENTS",
    "V_$LOGMNR_PARAMETERS",
    "V_$LOGFILE",
    "V_$ARCHIVED_LOG",
    "V_$ARCHIVE_DEST_STATUS",
    "V_$TRANSACTION",
    "V_$MYSTAT",
    "V_$STATNAME",
)
LOGMINER_PACKAGES: Final = ("DBMS_LOGMNR", "DBMS_LOGMNR_D")

_IDENTIFIER: Final = re.compile(r"^[A-Z][A-Z0-9_$#]{0,127}$")
_READ_ONLY: Final = re.compile(r"^(SELECT|WITH)\b", re.IGNORECASE)
_FOR_UPDATE: Final = re.compile(r"\bFOR\s+UPDATE\b", re.IGNORECASE)
_SET_CONTAINER: Final = re.compile(r"^ALTER SESSION SET CONTAINER = [A-Z][A-Z0-9_$#]{0,127}$")


class NotReadOnlyError(ValueError):
    """A statement that is neither a query nor a container switch: a bug in this package."""


def ensure_read_only(sql: str) -> None:
    text = " ".join(sql.split())
    # One statement only (python-oracledb sends one anyway), and no row locks.
    single = ";" not in text and not _FOR_UPDATE.search(text)
    if single and (_READ_ONLY.match(text) or _SET_CONTAINER.match(text)):
        return
    raise NotReadOnlyError(f"the preflight only reads; refusing to send: {text[:80]!r}")


def identifier(name: str) -> str:
    """An unquoted Oracle identifier (uppercase), or ``ValueError`` naming the value."""
    upper = name.upper()
    if not _IDENTIFIER.match(upper):
        raise ValueError(f"{name!r} is not a simple Oracle identifier (letters, digits, _ $ #)")
    return upper


@dataclass(frozen=True)
class Query:
    """One statement: a stable name (fixtures are keyed by it), its text, binds and column names.

    ``in_pdb`` queries run after the switch into the PDB (CDB) or in the one database (non-CDB).
    ``needs`` names the grant that lets the CDC user read it, for the fix when Oracle refuses.
    """

    name: str
    sql: str
    columns: tuple[str, ...]
    params: dict[str, Any]
    in_pdb: bool = False
    needs: str | None = None


def _in_list(prefix: str, values: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


def _quoted(table: TableId) -> str:
    return f'"{identifier(table.schema)}"."{identifier(table.table)}"'


def set_container(pdb_name: str) -> str:
    return f"ALTER SESSION SET CONTAINER = {identifier(pdb_name)}"


def catalog(expect: Expectations) -> dict[str, Query]:
    """All queries for these expectations, in the order the runner sends them."""
    schemas, schema_binds = _in_list("schema", expect.schemas)
    tables, table_binds = _in_list("table", tuple(sorted({t.table for t in expect.tables})))
    objects, object_binds = _in_list("object", LOGMINER_VIEWS + LOGMINER_PACKAGES)
    owned = {**schema_binds, **table_binds}
    queries = [
        Query(
            "session",
            "SELECT SYS_CONTEXT('USERENV', 'SESSION_USER') AS SESSION_USER_NAME, "
            "SYS_CONTEXT('USERENV', 'CON_NAME') AS CON_NAME FROM DUAL",
            ("SESSION_USER_NAME", "CON_NAME"),
            {},
        ),
        Query(
            "database",
            "SELECT NAME, LOG_MODE, CDB, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_ALL, CURRENT_SCN "
            "FROM V$DATABASE",
            (
                "NAME",
                "LOG_MODE",
                "CDB",
                "SUPPLEMENTAL_LOG_DATA_MIN",
                "SUPPLEMENTAL_LOG_DATA_ALL",
                "CURRENT_SCN",
            ),
            {},
            needs="SELECT ON SYS.V_$DATABASE",
        ),
        # Asked from inside the PDB, where a PDB always sees its own row: from the root, V$PDBS shows a
        # common user only the containers its CONTAINER_DATA attribute lists.
        Query(
            "pdbs",
            "SELECT NAME, OPEN_MODE FROM V$PDBS",
            ("NAME", "OPEN_MODE"),
            {},
            in_pdb=True,
            needs="SELECT_CATALOG_ROLE",
        ),
        Query("session_privs", "SELECT PRIVILEGE FROM SESSION_PRIVS", ("PRIVILEGE",), {}),
        Query("session_roles", "SELECT ROLE FROM SESSION_ROLES", ("ROLE",), {}),
        Query(
            "object_privs",
            "SELECT 'DIRECT' AS SOURCE, OWNER, TABLE_NAME, PRIVILEGE FROM USER_TAB_PRIVS "  # noqa: S608
            "WHERE GRANTEE = SYS_CONTEXT('USERENV', 'SESSION_USER') "
            f"AND OWNER = 'SYS' AND TABLE_NAME IN ({objects}) "
            "UNION ALL "
            "SELECT ROLE AS SOURCE, OWNER, TABLE_NAME, PRIVILEGE FROM ROLE_TAB_PRIVS "
            f"WHERE OWNER = 'SYS' AND TABLE_NAME IN ({objects})",
            ("SOURCE", "OWNER", "TABLE_NAME", "PRIVILEGE"),
            object_binds,
        ),
        Query(
            "redo_logs",
            "SELECT GROUP#, THREAD#, BYTES, MEMBERS, STATUS FROM V$LOG",
            ("GROUP#", "THREAD#", "BYTES", "MEMBERS", "STATUS"),
            {},
            needs="SELECT ON SYS.V_$LOG",
        ),
        Query(
            "log_switches",
            "SELECT TRUNC(FIRST_TIME, 'HH24') AS SWITCH_HOUR, COUNT(*) AS SWITCHES FROM V$LOG_HISTORY "
            "WHERE FIRST_TIME > SYSDATE - 1 GROUP BY TRUNC(FIRST_TIME, 'HH24')",
            ("SWITCH_HOUR", "SWITCHES"),
            {},
            needs="SELECT ON SYS.V_$LOG_HISTORY",
        ),
        Query(
            "archive_dests",
            "SELECT DEST_ID, DEST_NAME, STATUS, TYPE FROM V$ARCHIVE_DEST_STATUS "
            "WHERE STATUS = 'VALID' AND TYPE = 'LOCAL'",
            ("DEST_ID", "DEST_NAME", "STATUS", "TYPE"),
            {},
            needs="SELECT ON SYS.V_$ARCHIVE_DEST_STATUS",
        ),
        Query(
            "archived_logs",
            "SELECT DEST_ID, THREAD#, COUNT(*) AS LOGS, MIN(FIRST_TIME) AS OLDEST_TIME, "
            "MIN(FIRST_CHANGE#) AS OLDEST_CHANGE, MAX(SYSDATE) AS DB_NOW FROM V$ARCHIVED_LOG "
            "WHERE DELETED = 'NO' AND STATUS = 'A' AND STANDBY_DEST = 'NO' GROUP BY DEST_ID, THREAD#",
            ("DEST_ID", "THREAD#", "LOGS", "OLDEST_TIME", "OLDEST_CHANGE", "DB_NOW"),
            {},
            needs="SELECT ON SYS.V_$ARCHIVED_LOG",
        ),
        Query(
            "undo",
            "SELECT NAME, VALUE FROM V$PARAMETER WHERE NAME IN ('undo_retention', 'undo_management')",
            ("NAME", "VALUE"),
            {},
            in_pdb=True,
            needs="SELECT_CATALOG_ROLE",
        ),
        Query(
            "log_groups",
            "SELECT OWNER, TABLE_NAME, LOG_GROUP_TYPE, ALWAYS FROM ALL_LOG_GROUPS "  # noqa: S608
            f"WHERE OWNER IN ({schemas}) AND TABLE_NAME IN ({tables})",
            ("OWNER", "TABLE_NAME", "LOG_GROUP_TYPE", "ALWAYS"),
            owned,
            in_pdb=True,
        ),
        Query(
            "columns",
            "SELECT OWNER, TABLE_NAME, COLUMN_NAME FROM ALL_TAB_COLUMNS "  # noqa: S608
            f"WHERE OWNER IN ({schemas}) AND TABLE_NAME IN ({tables})",
            ("OWNER", "TABLE_NAME", "COLUMN_NAME"),
            owned,
            in_pdb=True,
        ),
        Query(
            "primary_keys",
            "SELECT OWNER, TABLE_NAME, CONSTRAINT_NAME, STATUS FROM ALL_CONSTRAINTS "  # noqa: S608
            f"WHERE CONSTRAINT_TYPE = 'P' AND OWNER IN ({schemas}) AND TABLE_NAME IN ({tables})",
            ("OWNER", "TABLE_NAME", "CONSTRAINT_NAME", "STATUS"),
            owned,
            in_pdb=True,
        ),
        Query(
            "aux_tables",
            "SELECT OWNER, TABLE_NAME FROM ALL_TABLES "
            "WHERE OWNER = :owner AND TABLE_NAME IN (:heartbeat, :signal)",
            ("OWNER", "TABLE_NAME"),
            {"owner": expect.user.upper(), "heartbeat": HEARTBEAT_TABLE, "signal": SIGNAL_TABLE},
            in_pdb=True,
        ),
    ]
    for table in expect.tables:
        queries.append(
            Query(
                f"select:{table.qualified}",
                f"SELECT COUNT(*) AS ROWS_SEEN FROM (SELECT 1 FROM {_quoted(table)} WHERE ROWNUM = 1)",  # noqa: S608
                ("ROWS_SEEN",),
                {},
                in_pdb=True,
            )
        )
        queries.append(
            Query(
                f"flashback:{table.qualified}",
                f"SELECT COUNT(*) AS ROWS_SEEN FROM (SELECT 1 FROM {_quoted(table)} AS OF SCN :scn "  # noqa: S608
                "WHERE ROWNUM = 1)",
                ("ROWS_SEEN",),
                {"scn": None},  # filled in from V$DATABASE.CURRENT_SCN by the runner
                in_pdb=True,
            )
        )
    if not expect.is_cdb:
        queries = [q for q in queries if q.name != "pdbs"]
    return {q.name: q for q in queries}
