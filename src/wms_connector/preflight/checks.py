"""One pure function per requirement: query answers in, a PASS / WARN / FAIL verdict out.

Nothing here talks to Oracle. Each function receives the rows (or the :class:`QueryFailed`) the
runner got, and the :class:`Expectations` of the stage, and says what is wrong and how to fix it.
The fix SQL is cut from ``docs/sql`` (see :mod:`fixes`), with the user and PDB filled in.

Where Debezium is lenient the preflight is not: a captured table without ALL COLUMNS
supplemental logging, or a column name over 30 characters, only makes Debezium log a warning
and then silently lose data, so both are FAIL here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from wms_connector.naming import HEARTBEAT_TABLE, SIGNAL_TABLE, TableId
from wms_connector.preflight.fixes import grants_fix, make_fix
from wms_connector.preflight.model import Answer, CheckResult, Expectations, Fix, QueryFailed, Status
from wms_connector.preflight.queries import LOGMINER_PACKAGES, LOGMINER_VIEWS

#: LogMiner stops capturing a table or column whose name is longer than this (Debezium only warns).
MAX_NAME_LENGTH: Final = 30
BASE_SYSTEM_PRIVILEGES: Final = ("CREATE SESSION", "LOGMINING", "CREATE TABLE", "CREATE SEQUENCE")
CDB_SYSTEM_PRIVILEGES: Final = ("SET CONTAINER",)
#: Listed by Debezium, documented as optional from Oracle 12c: missing is a WARN.
OPTIONAL_SYSTEM_PRIVILEGES: Final = ("SELECT ANY TRANSACTION",)
REQUIRED_ROLES: Final = ("SELECT_CATALOG_ROLE", "EXECUTE_CATALOG_ROLE")
REQUIRED_OBJECT_PRIVILEGES: Final = tuple(f"SELECT ON SYS.{v}" for v in LOGMINER_VIEWS) + tuple(
    f"EXECUTE ON SYS.{p}" for p in LOGMINER_PACKAGES
)


def variant(expect: Expectations) -> str:
    return "cdb" if expect.is_cdb else "non-cdb"


def values(expect: Expectations) -> dict[str, str]:
    """SQL*Plus variables the preflight knows; the others (sizes, paths) stay for the DBA to fill."""
    found = {
        "CDC_USER": expect.user.upper(),
        "ARCHIVE_HOURS": f"{expect.min_archive_hours:g}",
        "UNDO_SECONDS": str(expect.min_undo_seconds),
    }
    if expect.pdb_name:
        found["PDB_NAME"] = expect.pdb_name.upper()
    return found


def fix(expect: Expectations, block: str, keep: Callable[[str], bool] | None = None) -> Fix:
    return make_fix(variant(expect), block, values(expect), keep)


def unreadable(
    check: str, title: str, what: str, failed: QueryFailed, expect: Expectations, *, needs: str | None
) -> CheckResult:
    """A FAIL for a check whose query Oracle refused, with the grant that would let it read."""
    detail = f"cannot read {what}: {failed}"
    grant = None
    if failed.is_missing_privilege and needs:
        detail += f" (the CDC user needs {needs})"
        grant = grants_fix(variant(expect), {needs}, values(expect))
    return CheckResult(check, title, Status.FAIL, detail, grant)


def _one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _names(rows: list[dict[str, Any]], column: str) -> set[str]:
    return {str(row[column]).upper() for row in rows}


# -- the database as a whole ----------------------------------------------------------------------


def check_connection(session: Answer, target: str, expect: Expectations) -> CheckResult:
    title = "Connect (python-oracledb thin mode)"
    if isinstance(session, QueryFailed):
        return CheckResult("connection", title, Status.FAIL, f"{target}: {session}")
    row = _one(session)
    return CheckResult(
        "connection",
        title,
        Status.PASS,
        f"connected as {row.get('SESSION_USER_NAME')} to container {row.get('CON_NAME')}",
    )


def check_log_mode(database: Answer, expect: Expectations) -> CheckResult:
    title = "Archive log mode"
    if isinstance(database, QueryFailed):
        return unreadable(
            "log_mode", title, "V$DATABASE", database, expect, needs="SELECT ON SYS.V_$DATABASE"
        )
    mode = _one(database).get("LOG_MODE")
    if mode == "ARCHIVELOG":
        return CheckResult("log_mode", title, Status.PASS, "LOG_MODE is ARCHIVELOG")
    return CheckResult(
        "log_mode",
        title,
        Status.FAIL,
        f"LOG_MODE is {mode}: LogMiner reads archived redo, and Debezium refuses to start without it",
        fix(expect, "archivelog"),
    )


def check_database_supplemental_logging(database: Answer, expect: Expectations) -> CheckResult:
    title = "Supplemental logging (database, minimal)"
    if isinstance(database, QueryFailed):
        return unreadable(
            "db_supplemental_logging",
            title,
            "V$DATABASE",
            database,
            expect,
            needs="SELECT ON SYS.V_$DATABASE",
        )
    row = _one(database)
    minimal, full = row.get("SUPPLEMENTAL_LOG_DATA_MIN"), row.get("SUPPLEMENTAL_LOG_DATA_ALL")
    if minimal in ("YES", "IMPLICIT") or full == "YES":
        return CheckResult(
            "db_supplemental_logging",
            title,
            Status.PASS,
            f"SUPPLEMENTAL_LOG_DATA_MIN={minimal}, SUPPLEMENTAL_LOG_DATA_ALL={full}",
        )
    return CheckResult(
        "db_supplemental_logging",
        title,
        Status.FAIL,
        f"SUPPLEMENTAL_LOG_DATA_MIN={minimal}: Debezium refuses to start without minimal "
        "supplemental logging",
        fix(expect, "database_supplemental_logging"),
    )


def check_cdb(database: Answer, session: Answer, pdbs: Answer | None, expect: Expectations) -> CheckResult:
    """The database kind must match dbInfo: a CDB needs ``pdb_name``, a non-CDB must not have one."""
    title = "CDB / PDB matches dbInfo"
    if isinstance(database, QueryFailed):
        return unreadable("cdb", title, "V$DATABASE", database, expect, needs="SELECT ON SYS.V_$DATABASE")
    is_cdb = _one(database).get("CDB") == "YES"
    container = "" if isinstance(session, QueryFailed) else str(_one(session).get("CON_NAME", ""))
    if is_cdb and not expect.is_cdb:
        return CheckResult(
            "cdb",
            title,
            Status.FAIL,
            "the database is a CDB (V$DATABASE.CDB=YES) but dbInfo has no pdb_name: set pdb_name to the PDB "
            "that holds the WMS and MMDL schemas, db to the CDB's root service, and user to a common user "
            "(C##...)",
        )
    if not is_cdb and expect.is_cdb:
        return CheckResult(
            "cdb",
            title,
            Status.FAIL,
            f"dbInfo names PDB {expect.pdb_name!r} but the database is not a CDB (V$DATABASE.CDB=NO): "
            "remove pdb_name from dbInfo (Debezium must not get database.pdb.name for a non-CDB)",
        )
    if not is_cdb:
        return CheckResult("cdb", title, Status.PASS, "non-CDB, and dbInfo has no pdb_name")
    if container and container != "CDB$ROOT":
        return CheckResult(
            "cdb",
            title,
            Status.FAIL,
            f"connected to container {container}, not CDB$ROOT: dbInfo.db must name the CDB's root service "
            "(LogMiner runs in the root; Debezium switches to the PDB itself)",
        )
    pdb = (expect.pdb_name or "").upper()
    if isinstance(pdbs, QueryFailed):
        # Usually the switch into the PDB failed: ORA-65011 (no such PDB) or ORA-01031 (no SET CONTAINER).
        return CheckResult(
            "cdb",
            title,
            Status.FAIL,
            f"PDB {pdb} (dbInfo.pdb_name): {pdbs}",
            grants_fix(variant(expect), {"SET CONTAINER"}, values(expect))
            if "ORA-01031" in str(pdbs)
            else None,
        )
    known = {str(r["NAME"]).upper(): str(r["OPEN_MODE"]) for r in pdbs or []}
    if pdb not in known:
        return CheckResult(
            "cdb",
            title,
            Status.FAIL,
            f"no PDB named {pdb} (inside it, V$PDBS shows {', '.join(sorted(known)) or 'nothing'}): "
            "fix pdb_name in dbInfo",
        )
    if known[pdb] != "READ WRITE":
        return CheckResult(
            "cdb", title, Status.FAIL, f"PDB {pdb} is open {known[pdb]}, not READ WRITE: the DBA must open it"
        )
    if not expect.user.upper().startswith("C##"):
        return CheckResult(
            "cdb",
            title,
            Status.WARN,
            f"CDB with PDB {pdb} READ WRITE, but user {expect.user} does not look like a common user "
            "(C##...): "
            "Debezium needs a common user unless the site changed COMMON_USER_PREFIX",
        )
    return CheckResult("cdb", title, Status.PASS, f"CDB, PDB {pdb} is READ WRITE, connected to CDB$ROOT")


# -- privileges -----------------------------------------------------------------------------------


def check_system_privileges(session_privs: Answer, expect: Expectations) -> CheckResult:
    title = "System privileges (effective, SESSION_PRIVS)"
    if isinstance(session_privs, QueryFailed):
        return unreadable("system_privileges", title, "SESSION_PRIVS", session_privs, expect, needs=None)
    have = _names(session_privs, "PRIVILEGE")
    required = BASE_SYSTEM_PRIVILEGES + (CDB_SYSTEM_PRIVILEGES if expect.is_cdb else ())
    missing = [p for p in required if p not in have]
    optional = [p for p in OPTIONAL_SYSTEM_PRIVILEGES if p not in have]
    if missing:
        return CheckResult(
            "system_privileges",
            title,
            Status.FAIL,
            f"missing: {', '.join(missing)}",
            grants_fix(variant(expect), set(missing), values(expect)),
        )
    if optional:
        return CheckResult(
            "system_privileges",
            title,
            Status.WARN,
            f"all required present; missing {', '.join(optional)} (listed by Debezium, optional from 12c)",
            grants_fix(variant(expect), set(optional), values(expect)),
        )
    return CheckResult("system_privileges", title, Status.PASS, f"{', '.join(required)} present")


def check_roles(session_roles: Answer, expect: Expectations) -> CheckResult:
    title = "Roles (enabled, SESSION_ROLES)"
    if isinstance(session_roles, QueryFailed):
        return unreadable("roles", title, "SESSION_ROLES", session_roles, expect, needs=None)
    have = _names(session_roles, "ROLE")
    missing = [r for r in REQUIRED_ROLES if r not in have]
    if missing:
        return CheckResult(
            "roles",
            title,
            Status.FAIL,
            f"not enabled in the session: {', '.join(missing)} (granted roles must also be DEFAULT roles)",
            grants_fix(variant(expect), set(missing), values(expect)),
        )
    if "DBA" in have:
        return CheckResult(
            "roles", title, Status.WARN, "the CDC user has the DBA role: far more than it needs"
        )
    return CheckResult("roles", title, Status.PASS, f"{', '.join(REQUIRED_ROLES)} enabled")


def _select_or(privilege: Any) -> str:
    return "SELECT" if str(privilege).upper() == "READ" else str(privilege)


def check_object_privileges(object_privs: Answer, session_roles: Answer, expect: Expectations) -> CheckResult:
    """EXECUTE on the LogMiner packages and SELECT on the V_$ views, directly or via an enabled role."""
    title = "Object privileges (LogMiner packages, V$ views)"
    if isinstance(object_privs, QueryFailed):
        return unreadable(
            "object_privileges", title, "USER_TAB_PRIVS/ROLE_TAB_PRIVS", object_privs, expect, needs=None
        )
    enabled = None if isinstance(session_roles, QueryFailed) else _names(session_roles, "ROLE")
    have = {
        # Since 12.2 the catalog roles hold READ (not SELECT) on the V_$ views; READ is enough to query.
        f"{_select_or(row['PRIVILEGE'])} ON {row['OWNER']}.{row['TABLE_NAME']}".upper()
        for row in object_privs
        if row["SOURCE"] == "DIRECT" or enabled is None or str(row["SOURCE"]).upper() in enabled
    }
    missing = [item for item in REQUIRED_OBJECT_PRIVILEGES if item not in have]
    if missing:
        return CheckResult(
            "object_privileges",
            title,
            Status.FAIL,
            f"missing: {', '.join(missing)}",
            grants_fix(variant(expect), set(missing), values(expect)),
        )
    return CheckResult(
        "object_privileges",
        title,
        Status.PASS,
        f"EXECUTE on {len(LOGMINER_PACKAGES)} packages, SELECT on {len(LOGMINER_VIEWS)} views",
    )


# -- the captured tables --------------------------------------------------------------------------


def _table_keep(tables: list[TableId]) -> Callable[[str], bool]:
    names = {t.qualified for t in tables}
    return lambda line: any(name in line.upper() for name in names)


def check_table_supplemental_logging(
    database: Answer, log_groups: Answer, expect: Expectations
) -> CheckResult:
    title = "Supplemental logging (ALL COLUMNS on each captured table)"
    if not isinstance(database, QueryFailed) and _one(database).get("SUPPLEMENTAL_LOG_DATA_ALL") == "YES":
        return CheckResult(
            "table_supplemental_logging", title, Status.PASS, "database-wide ALL COLUMNS logging is on"
        )
    if isinstance(log_groups, QueryFailed):
        return unreadable(
            "table_supplemental_logging", title, "ALL_LOG_GROUPS", log_groups, expect, needs=None
        )
    logged = {
        TableId(str(r["OWNER"]), str(r["TABLE_NAME"]))
        for r in log_groups
        if r["LOG_GROUP_TYPE"] == "ALL COLUMN LOGGING"
    }
    missing = [t for t in expect.tables if t not in logged]
    if missing:
        return CheckResult(
            "table_supplemental_logging",
            title,
            Status.FAIL,
            f"no ALL COLUMNS logging on {', '.join(t.qualified for t in missing)}: Debezium only warns, then "
            "emits updates that lack the unchanged columns (ALL_LOG_GROUPS shows only tables the CDC user "
            "can read: if table access FAILs too, fix that first)",
            fix(expect, "table_supplemental_logging", _table_keep(missing)),
        )
    return CheckResult(
        "table_supplemental_logging", title, Status.PASS, f"ALL COLUMNS on all {len(expect.tables)} tables"
    )


def check_table_access(
    selects: Mapping[TableId, Answer], flashbacks: Mapping[TableId, Answer | None], expect: Expectations
) -> CheckResult:
    """Reading each table now (SELECT) and at an SCN (FLASHBACK, what the initial snapshot does)."""
    title = "Table access (SELECT and AS OF SCN)"
    problems: list[str] = []
    need: set[str] = set()
    for table in expect.tables:
        selected = selects.get(table)
        if isinstance(selected, QueryFailed):
            if selected.code == "ORA-00942":
                problems.append(f"{table.qualified}: does not exist or is not visible ({selected.code})")
            else:
                problems.append(f"{table.qualified}: {selected}")
            need |= {f"SELECT ON {table.qualified}", f"FLASHBACK ON {table.qualified}"}
            continue
        flashed = flashbacks.get(table)
        if flashed is None:
            problems.append(f"{table.qualified}: flashback not tried (no SCN from V$DATABASE)")
        elif isinstance(flashed, QueryFailed):
            problems.append(f"{table.qualified}: AS OF SCN refused: {flashed}")
            need.add(f"FLASHBACK ON {table.qualified}")
    if problems:
        return CheckResult(
            "table_access",
            title,
            Status.FAIL,
            "; ".join(problems),
            grants_fix(variant(expect), need, values(expect)) if need else None,
        )
    return CheckResult(
        "table_access", title, Status.PASS, f"SELECT and AS OF SCN work on all {len(expect.tables)} tables"
    )


def check_long_names(columns: Answer, expect: Expectations) -> CheckResult:
    title = f"Names of at most {MAX_NAME_LENGTH} characters"
    if isinstance(columns, QueryFailed):
        return unreadable("long_names", title, "ALL_TAB_COLUMNS", columns, expect, needs=None)
    wanted = set(expect.tables)
    seen: set[TableId] = set()
    too_long: list[str] = []
    for row in columns:
        table = TableId(str(row["OWNER"]), str(row["TABLE_NAME"]))
        if table not in wanted:
            continue
        seen.add(table)
        if len(table.table) > MAX_NAME_LENGTH:
            too_long.append(table.qualified)
        if len(str(row["COLUMN_NAME"])) > MAX_NAME_LENGTH:
            too_long.append(f"{table.qualified}.{row['COLUMN_NAME']}")
    if too_long:
        return CheckResult(
            "long_names",
            title,
            Status.FAIL,
            f"LogMiner does not capture names over {MAX_NAME_LENGTH} characters (Debezium only warns): "
            + ", ".join(sorted(set(too_long))),
        )
    unseen = [t.qualified for t in expect.tables if t not in seen]
    if unseen:
        return CheckResult(
            "long_names", title, Status.WARN, f"no columns visible for {', '.join(unseen)} (see table access)"
        )
    return CheckResult(
        "long_names", title, Status.PASS, f"all table and column names are <= {MAX_NAME_LENGTH}"
    )


def check_primary_keys(primary_keys: Answer, expect: Expectations) -> CheckResult:
    title = "Primary keys (keyed topics, incremental snapshots)"
    if isinstance(primary_keys, QueryFailed):
        return unreadable("primary_keys", title, "ALL_CONSTRAINTS", primary_keys, expect, needs=None)
    keyed = {TableId(str(r["OWNER"]), str(r["TABLE_NAME"])): str(r["STATUS"]) for r in primary_keys}
    missing = [t.qualified for t in expect.tables if t not in keyed]
    disabled = [t.qualified for t in expect.tables if keyed.get(t, "ENABLED") != "ENABLED"]
    if missing or disabled:
        parts = []
        if missing:
            parts.append(f"no primary key on {', '.join(missing)}")
        if disabled:
            parts.append(f"primary key disabled on {', '.join(disabled)}")
        return CheckResult(
            "primary_keys",
            title,
            Status.WARN,
            "; ".join(parts) + ": records get a null key, and incremental snapshots need "
            "message.key.columns for these tables",
        )
    return CheckResult(
        "primary_keys", title, Status.PASS, f"all {len(expect.tables)} tables have an enabled primary key"
    )


# -- redo, archive, undo ----------------------------------------------------------------------


def _mib(value: Any) -> int:
    return int(Decimal(value)) // (1024 * 1024)


def check_redo_logs(redo_logs: Answer, log_switches: Answer, expect: Expectations) -> CheckResult:
    title = "Online redo logs (groups, sizes, switch rate)"
    if isinstance(redo_logs, QueryFailed):
        return unreadable("redo_logs", title, "V$LOG", redo_logs, expect, needs="SELECT ON SYS.V_$LOG")
    threads: dict[int, list[int]] = defaultdict(list)
    for row in redo_logs:
        threads[int(row["THREAD#"])].append(int(Decimal(row["BYTES"])))
    if not threads:
        return CheckResult("redo_logs", title, Status.FAIL, "V$LOG returned no redo log groups")
    notes = [
        f"thread {t}: {len(sizes)} groups, smallest {_mib(min(sizes))} MiB"
        for t, sizes in sorted(threads.items())
    ]
    worries = []
    for thread, sizes in sorted(threads.items()):
        if len(sizes) < expect.min_redo_groups_per_thread:
            worries.append(f"thread {thread} has {len(sizes)} groups (< {expect.min_redo_groups_per_thread})")
        if min(sizes) < expect.min_redo_bytes:
            worries.append(f"thread {thread} has a group under {_mib(expect.min_redo_bytes)} MiB")
    if isinstance(log_switches, QueryFailed):
        notes.append(f"switch rate unknown ({log_switches.code} on V$LOG_HISTORY)")
    else:
        peak = max((int(r["SWITCHES"]) for r in log_switches), default=0)
        notes.append(f"peak {peak} switches/hour in the last day")
        if peak > expect.max_log_switches_per_hour:
            worries.append(f"{peak} log switches in one hour (> {expect.max_log_switches_per_hour})")
    if worries:
        return CheckResult(
            "redo_logs",
            title,
            Status.WARN,
            "; ".join(worries) + " (" + "; ".join(notes) + "): undersized redo makes LogMiner fall behind",
            fix(expect, "redo_logs"),
        )
    return CheckResult("redo_logs", title, Status.PASS, "; ".join(notes))


def chosen_destination(archive_dests: Answer, expect: Expectations) -> dict[str, Any] | None:
    """The destination Debezium will read, as it picks it: the named one, else the only one."""
    if isinstance(archive_dests, QueryFailed):
        return None
    if expect.archive_destination:
        named = [
            r for r in archive_dests if str(r["DEST_NAME"]).upper() == expect.archive_destination.upper()
        ]
        return named[0] if named else None
    return archive_dests[0] if len(archive_dests) == 1 else None


def check_archive_destinations(archive_dests: Answer, expect: Expectations) -> CheckResult:
    title = "Archive log destination (LOCAL, VALID)"
    if isinstance(archive_dests, QueryFailed):
        return unreadable(
            "archive_destination",
            title,
            "V$ARCHIVE_DEST_STATUS",
            archive_dests,
            expect,
            needs="SELECT ON SYS.V_$ARCHIVE_DEST_STATUS",
        )
    names = [str(r["DEST_NAME"]) for r in archive_dests]
    chosen = chosen_destination(archive_dests, expect)
    if not archive_dests:
        return CheckResult(
            "archive_destination",
            title,
            Status.FAIL,
            "no archive destination is LOCAL and VALID: Debezium finds no archived logs",
            fix(expect, "archive_destination"),
        )
    if chosen is not None:
        how = "archive.destination.name" if expect.archive_destination else "the only LOCAL VALID destination"
        return CheckResult(
            "archive_destination",
            title,
            Status.PASS,
            f"{chosen['DEST_NAME']} (DEST_ID {chosen['DEST_ID']}), {how}",
        )
    if expect.archive_destination:
        return CheckResult(
            "archive_destination",
            title,
            Status.FAIL,
            f"archive.destination.name={expect.archive_destination} is not among the LOCAL VALID "
            "destinations "
            f"({', '.join(names)})",
        )
    return CheckResult(
        "archive_destination",
        title,
        Status.FAIL,
        f"{len(names)} LOCAL VALID destinations ({', '.join(names)}): Debezium would pick one at random; set "
        "archive.destination.name in the connector (preflight: --archive-destination)",
    )


def check_archive_retention(
    archived_logs: Answer, destination: dict[str, Any] | None, expect: Expectations
) -> CheckResult:
    """How far back the archived logs on disk reach: the longest outage a restart can bridge."""
    title = "Archive log retention window"
    if isinstance(archived_logs, QueryFailed):
        return unreadable(
            "archive_retention",
            title,
            "V$ARCHIVED_LOG",
            archived_logs,
            expect,
            needs="SELECT ON SYS.V_$ARCHIVED_LOG",
        )
    if destination is None:
        return CheckResult(
            "archive_retention", title, Status.FAIL, "not evaluated: no single archive destination (above)"
        )
    rows = [r for r in archived_logs if int(r["DEST_ID"]) == int(destination["DEST_ID"])]
    if not rows:
        return CheckResult(
            "archive_retention",
            title,
            Status.FAIL,
            f"no archived logs on disk at {destination['DEST_NAME']}: archiving is not working yet",
        )
    hours = min(_hours(r["DB_NOW"], r["OLDEST_TIME"]) for r in rows)
    logs = sum(int(r["LOGS"]) for r in rows)
    detail = (
        f"{logs} archived logs on disk, oldest {hours:.1f} h ago "
        f"(policy for this stage: {expect.min_archive_hours:g} h)"
    )
    if hours < expect.min_archive_hours:
        return CheckResult(
            "archive_retention",
            title,
            Status.WARN,
            detail
            + ": a connector stopped longer than the window cannot resume (expected while archiving is new)",
            fix(expect, "archive_retention"),
        )
    return CheckResult("archive_retention", title, Status.PASS, detail)


def _hours(now: Any, then: Any) -> float:
    if not isinstance(now, datetime) or not isinstance(then, datetime):
        raise TypeError(f"expected DATE values, got {type(now).__name__} and {type(then).__name__}")
    return (now - then).total_seconds() / 3600


def check_undo_retention(undo: Answer, expect: Expectations) -> CheckResult:
    title = "Undo retention (initial snapshot)"
    if isinstance(undo, QueryFailed):
        return unreadable("undo_retention", title, "V$PARAMETER", undo, expect, needs="SELECT_CATALOG_ROLE")
    params = {str(r["NAME"]).lower(): r["VALUE"] for r in undo}
    retention = int(params.get("undo_retention") or 0)
    management = str(params.get("undo_management") or "").upper()
    if management and management != "AUTO":
        return CheckResult(
            "undo_retention",
            title,
            Status.WARN,
            f"UNDO_MANAGEMENT={management}: flashback queries need AUTO undo",
        )
    if retention < expect.min_undo_seconds:
        return CheckResult(
            "undo_retention",
            title,
            Status.WARN,
            f"UNDO_RETENTION={retention} s < {expect.min_undo_seconds} s: an initial snapshot that runs "
            "longer "
            "fails with ORA-01555 (raise it for the snapshot, or snapshot incrementally)",
            fix(expect, "undo_retention"),
        )
    return CheckResult("undo_retention", title, Status.PASS, f"UNDO_RETENTION={retention} s")


def check_heartbeat_signal_tables(aux_tables: Answer, expect: Expectations) -> CheckResult:
    title = "Heartbeat and signal tables (optional)"
    if isinstance(aux_tables, QueryFailed):
        return unreadable("heartbeat_signal_tables", title, "ALL_TABLES", aux_tables, expect, needs=None)
    have = _names(aux_tables, "TABLE_NAME")
    missing = [t for t in (HEARTBEAT_TABLE, SIGNAL_TABLE) if t not in have]
    owner = expect.user.upper()
    if missing:
        why = (
            "the heartbeat keeps the offset fresh on a quiet PDB"
            if expect.is_cdb
            else "used only if configured"
        )
        return CheckResult(
            "heartbeat_signal_tables",
            title,
            Status.WARN,
            f"missing {', '.join(f'{owner}.{t}' for t in missing)} ({why}; the signal table is needed for "
            "incremental snapshots)",
            fix(expect, "heartbeat_signal_tables"),
        )
    return CheckResult(
        "heartbeat_signal_tables", title, Status.PASS, f"{owner}.{HEARTBEAT_TABLE}, {owner}.{SIGNAL_TABLE}"
    )
