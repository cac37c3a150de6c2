"""Checks of the database as a whole: connection, CDB/PDB, log mode, minimal supplemental logging."""

from __future__ import annotations

from wms_connector.preflight.checks.common import (
    fix,
    one,
    unreadable,
    values,
    variant,
)
from wms_connector.preflight.fixes import grants_fix
from wms_connector.preflight.model import Answer, CheckResult, Expectations, QueryFailed, Status


def check_connection(session: Answer, target: str, expect: Expectations) -> CheckResult:
    title = "Connect (python-oracledb thin mode)"
    if isinstance(session, QueryFailed):
        return CheckResult("connection", title, Status.FAIL, f"{target}: {session}")
    row = one(session)
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
    mode = one(database).get("LOG_MODE")
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
    row = one(database)
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
    is_cdb = one(database).get("CDB") == "YES"
    container = "" if isinstance(session, QueryFailed) else str(one(session).get("CON_NAME", ""))
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
