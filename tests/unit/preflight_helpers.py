"""Run the whole preflight (connect, runner, checks, fixes) over a connection
answering with documented shapes (oracle_doc_shapes)."""

from __future__ import annotations

from typing import Any

from tests.unit.oracle_doc_shapes import DocShapes, ShapedConnection
from wms_connector.preflight.database import ConnectSpec
from wms_connector.preflight.model import CheckResult
from wms_connector.preflight.runner import Report, preflight
from wms_connector.preflight.target import expectations

_UNSET: Any = object()

#: Every check, in the order the report lists them.
ALL_CHECKS = [
    "connection",
    "cdb",
    "log_mode",
    "db_supplemental_logging",
    "table_supplemental_logging",
    "system_privileges",
    "roles",
    "object_privileges",
    "table_access",
    "long_names",
    "primary_keys",
    "redo_logs",
    "archive_destination",
    "archive_retention",
    "undo_retention",
    "heartbeat_signal_tables",
]


def run(
    shapes: DocShapes, *, user: str | None = None, pdb: Any = _UNSET, **options: Any
) -> tuple[Report, ShapedConnection]:
    expect = expectations(
        user or shapes.target["user"],
        shapes.target["pdb_name"] if pdb is _UNSET else pdb,
        stage=None,
        **options,
    )
    connection = shapes.connection(expect)
    spec = ConnectSpec(expect.user, "shapes-not-a-password", "127.0.0.1", 1521, "WMSCDB")
    report = preflight(spec, expect, timeout_s=30, connector=lambda _spec, _timeout: connection)
    return report, connection


def result(report: Report, check: str) -> CheckResult:
    found = [r for r in report.results if r.id == check]
    assert len(found) == 1, f"{check} not in {[r.id for r in report.results]}"
    return found[0]
