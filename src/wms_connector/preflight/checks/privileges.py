"""Checks of what the CDC user may do, as its session really has it."""

from __future__ import annotations

from typing import Any

from wms_connector.preflight.checks.common import (
    BASE_SYSTEM_PRIVILEGES,
    CDB_SYSTEM_PRIVILEGES,
    OPTIONAL_SYSTEM_PRIVILEGES,
    REQUIRED_OBJECT_PRIVILEGES,
    REQUIRED_ROLES,
    names_in,
    unreadable,
    values,
    variant,
)
from wms_connector.preflight.fixes import grants_fix
from wms_connector.preflight.model import Answer, CheckResult, Expectations, QueryFailed, Status
from wms_connector.preflight.queries import LOGMINER_PACKAGES, LOGMINER_VIEWS


def check_system_privileges(session_privs: Answer, expect: Expectations) -> CheckResult:
    title = "System privileges (effective, SESSION_PRIVS)"
    if isinstance(session_privs, QueryFailed):
        return unreadable("system_privileges", title, "SESSION_PRIVS", session_privs, expect, needs=None)
    have = names_in(session_privs, "PRIVILEGE")
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
    have = names_in(session_roles, "ROLE")
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
    enabled = None if isinstance(session_roles, QueryFailed) else names_in(session_roles, "ROLE")
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
