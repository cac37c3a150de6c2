"""The one structured line every ``ops`` command writes: who, what, when, result (pure).

It goes to stderr (in a deployed task that is the ECS Exec session, recorded in the stage's exec
log group) and is appended to the operations log file (``ops --help`` says where).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

AUDIT_KIND: Final = "wms-connector.ops"


def audit_record(
    *,
    by: str,
    command: str,
    stage: str,
    connector: str,
    started: float,
    ended: float,
    result: str,
    exit_code: int,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "kind": AUDIT_KIND,
        "by": by,
        "command": command,
        "stage": stage,
        "connector": connector,
        "at": datetime.fromtimestamp(started, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "duration_s": round(max(0.0, ended - started), 3),
        "result": result,
        "exit_code": exit_code,
        "detail": dict(detail or {}),
    }


def audit_line(record: Mapping[str, Any]) -> str:
    """One JSON line (no newline inside, whatever the detail holds)."""
    return json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
