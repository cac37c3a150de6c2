"""The local cluster's state file: which pids and ports belong to it, kept across CLI runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError

STATE_FORMAT: Final = 1


class ProcessEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    pid: int
    port: int
    log: str
    config: str


class WorkerEntry(ProcessEntry):
    index: int


class ClusterState(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: int = STATE_FORMAT
    tag: str
    stage: str
    cluster_id: str
    broker: ProcessEntry
    controller_port: int
    workers: tuple[WorkerEntry, ...]
    started_at: float

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker.port}"

    @property
    def rest_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{worker.port}" for worker in self.workers]


def state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def load_state(state_dir: Path) -> ClusterState | None:
    """The recorded cluster, or ``None``; an unreadable file counts as none (it is replaced)."""
    path = state_file(state_dir)
    try:
        return ClusterState.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        return None


def save_state(state_dir: Path, state: ClusterState) -> None:
    path = state_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=1) + "\n")
    tmp.replace(path)


def clear_state(state_dir: Path) -> None:
    state_file(state_dir).unlink(missing_ok=True)
