"""Checks of the captured tables and the optional heartbeat and signal tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from wms_connector.naming import HEARTBEAT_TABLE, SIGNAL_TABLE, TableId
from wms_connector.preflight.checks.common import (
    MAX_NAME_LENGTH,
    fix,
    names_in,
    one,
    unreadable,
    values,
    variant,
)
from wms_connector.preflight.fixes import grants_fix
from wms_connector.preflight.model import Answer, CheckResult, Expectations, QueryFailed, Status


def _table_keep(tables: list[TableId]) -> Callable[[str], bool]:
    names = {t.qualified for t in tables}
    return lambda line: any(name in line.upper() for name in names)


def check_table_supplemental_logging(
    database: Answer, log_groups: Answer, expect: Expectations
) -> CheckResult:
    title = "Supplemental logging (ALL COLUMNS on each captured table)"
    if not isinstance(database, QueryFailed) and one(database).get("SUPPLEMENTAL_LOG_DATA_ALL") == "YES":
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


def check_heartbeat_signal_tables(aux_tables: Answer, expect: Expectations) -> CheckResult:
    title = "Heartbeat and signal tables (optional)"
    if isinstance(aux_tables, QueryFailed):
        return unreadable("heartbeat_signal_tables", title, "ALL_TABLES", aux_tables, expect, needs=None)
    have = names_in(aux_tables, "TABLE_NAME")
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
