"""Values the preflight passes around: verdicts, fixes, what the operator expects of the database."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wms_connector.naming import CAPTURED_TABLES, TableId


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Fix:
    """SQL for the DBA, cut from ``docs/sql/<file>`` with the user and PDB filled in."""

    file: str
    block: str
    sql: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "block": self.block, "sql": self.sql}


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one requirement. ``fix`` is set for every FAIL that SQL can repair."""

    id: str
    title: str
    status: Status
    detail: str
    fix: Fix | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix.as_dict() if self.fix else None,
        }


@dataclass(frozen=True)
class QueryFailed:
    """A query the database refused (or that never ran): the ORA/DPY code and the first line."""

    code: str
    message: str

    @property
    def is_missing_privilege(self) -> bool:
        # ORA-00942 is what Oracle answers for a view you may not read, not only for a missing one.
        return self.code in {"ORA-00942", "ORA-01031", "ORA-01039", "ORA-00980"}

    def __str__(self) -> str:
        return self.message if self.code in self.message else f"{self.code}: {self.message}"


#: What a query gave back: rows (dicts keyed by Oracle's uppercase column names) or a refusal.
Answer = list[dict[str, Any]] | QueryFailed


@dataclass(frozen=True)
class Expectations:
    """What the database must look like for this stage (from ``dbInfo`` and the stage)."""

    user: str
    pdb_name: str | None
    tables: tuple[TableId, ...] = CAPTURED_TABLES
    min_archive_hours: float = 24.0
    min_undo_seconds: int = 3600
    archive_destination: str | None = None
    min_redo_groups_per_thread: int = 3
    min_redo_bytes: int = 200 * 1024 * 1024
    max_log_switches_per_hour: int = 12

    @property
    def is_cdb(self) -> bool:
        return self.pdb_name is not None

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(sorted({t.schema for t in self.tables}))
