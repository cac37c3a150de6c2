"""What every check shares: the required privileges, the fix helpers, row helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from wms_connector.preflight.fixes import grants_fix, make_fix
from wms_connector.preflight.model import CheckResult, Expectations, Fix, QueryFailed, Status
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


def one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def names_in(rows: list[dict[str, Any]], column: str) -> set[str]:
    return {str(row[column]).upper() for row in rows}
