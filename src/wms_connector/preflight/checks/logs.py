"""Checks of redo logs, archive destination and retention, and undo retention."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from wms_connector.preflight.checks.common import (
    fix,
    unreadable,
)
from wms_connector.preflight.model import Answer, CheckResult, Expectations, QueryFailed, Status


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
