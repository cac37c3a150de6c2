"""The local cluster's state file: which pids and ports belong to it, kept across CLI runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from wms_connector.errors import WmsError

STATE_FORMAT: Final = 1


class ProcessEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    pid: int
    port: int
    log: str
    config: str


class BrokerEntry(ProcessEntry):
    #: KRaft ``node.id`` (1..N).
    node_id: int = 1
    #: The broker's ``log.dirs`` (emptied by a broker-loss drill).
    data_dir: str = ""


class WorkerEntry(ProcessEntry):
    index: int
    #: Port of the worker's Prometheus JMX exporter (runtime/jmx-exporter.yaml rules).
    metrics_port: int


class ClusterState(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: int = STATE_FORMAT
    tag: str
    stage: str
    cluster_id: str
    #: Every broker, node 1 first (one for the default cluster, N for ``local up --brokers N``).
    brokers: tuple[BrokerEntry, ...]
    #: The controller-only node of a multi-broker cluster; ``None`` when the one node is both.
    controller: BrokerEntry | None = None
    controller_port: int
    workers: tuple[WorkerEntry, ...]
    started_at: float

    @model_validator(mode="before")
    @classmethod
    def _one_broker(cls, data: Any) -> Any:
        """Accept the one-broker form (``broker=...``, state files written before ``brokers``)."""
        if isinstance(data, dict) and "broker" in data and "brokers" not in data:
            data = dict(data)
            broker = data.pop("broker")
            data["brokers"] = (broker.model_dump() if isinstance(broker, BaseModel) else broker,)
        return data

    @property
    def broker(self) -> BrokerEntry:
        """Node 1 (the only broker of a default cluster)."""
        return self.brokers[0]

    @property
    def nodes(self) -> tuple[BrokerEntry, ...]:
        """Every Kafka process: the brokers, then the controller-only node if any."""
        return (*self.brokers, *((self.controller,) if self.controller is not None else ()))

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{broker.port}" for broker in self.brokers)

    @property
    def rest_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{worker.port}" for worker in self.workers]

    @property
    def metrics_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{worker.metrics_port}/metrics" for worker in self.workers]


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


#: How long a second ``local`` command waits for the one holding the state directory.
LOCK_WAIT_S: Final = 60.0


@contextlib.contextmanager
def locked(state_dir: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the state directory's lock: one ``up``/``down`` at a time per directory."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / ".lock"
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    raise WmsError(
                        f"another wms-connector command (pid {holder}) holds {path} for over {wait_s:g} s; "
                        "wait for it to finish, or stop it"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
