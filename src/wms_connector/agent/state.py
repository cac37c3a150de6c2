"""The restart record on disk, so an agent restart neither resets the budget nor bursts restarts.

In ECS the file lives on a task volume shared by nothing but the agent container: it survives the
agent's own restarts (ECS container restart policy) and ends with the task. A replacement task
starts with a fresh record; its worker is new too, and the stage's alarms sum restarts across tasks.
A missing or unreadable file is an empty record (logged by the caller), never a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from wms_connector.agent.policy import RestartRecord


@dataclass(frozen=True)
class RecordFile:
    path: Path

    def load(self) -> tuple[RestartRecord, str | None]:
        """The stored record, and a problem to report when the file could not be used."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return (
                RestartRecord(
                    count=int(data["count"]),
                    last_restart=None if data["last_restart"] is None else float(data["last_restart"]),
                    recent=tuple(float(t) for t in data["recent"]),
                ),
                None,
            )
        except FileNotFoundError:
            return RestartRecord(), None
        except (OSError, ValueError, KeyError, TypeError) as error:
            return (
                RestartRecord(),
                f"restart record {self.path} unreadable ({type(error).__name__}); starting empty",
            )

    def save(self, record: RestartRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        body = {"count": record.count, "last_restart": record.last_restart, "recent": list(record.recent)}
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, self.path)
