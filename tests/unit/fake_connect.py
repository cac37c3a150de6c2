"""A stateful in-memory Kafka Connect behind the ``ConnectApi`` protocol, for driving the real
agent loop without a cluster (the pattern of Strimzi's ConnectorMockTest). Real 404 and PUT
semantics; a PUT of a changed config restarts the connector, as Connect's herder does; every
write and restart is counted so tests assert exact numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wms_connector.connect.rest import ConnectRestError, ConnectUnreachableError


@dataclass
class FakeConnect:
    worker: str
    reachable: bool = True
    configs: dict[str, dict[str, str]] = field(default_factory=dict)
    connector_state: dict[str, str] = field(default_factory=dict)
    task_state: dict[str, str] = field(default_factory=dict)
    task_trace: dict[str, str] = field(default_factory=dict)
    #: every config write as (name, config), in order
    writes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    connector_restarts: int = 0
    task_restarts: int = 0

    def _up(self) -> None:
        if not self.reachable:
            raise ConnectUnreachableError("the fake worker is down")

    def root(self) -> dict[str, Any]:
        self._up()
        return {"version": "fake"}

    def list_connectors(self) -> dict[str, Any]:
        self._up()
        return {name: {"status": self.status(name)} for name in self.configs}

    def status(self, name: str) -> dict[str, Any]:
        self._up()
        if name not in self.configs:
            raise ConnectRestError(404, f"Connector {name} not found")
        return {
            "name": name,
            "connector": {"state": self.connector_state[name], "worker_id": self.worker},
            "tasks": [
                {
                    "id": 0,
                    "state": self.task_state[name],
                    "worker_id": self.worker,
                    "trace": self.task_trace.get(name, ""),
                }
            ],
        }

    def get_config(self, name: str) -> dict[str, str]:
        self._up()
        if name not in self.configs:
            raise ConnectRestError(404, f"Connector {name} not found")
        return dict(self.configs[name])

    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        self._up()
        existed = name in self.configs
        self.configs[name] = {**config, "name": name}
        self.writes.append((name, dict(config)))
        if existed:
            self.connector_restarts += 1
        self.connector_state[name] = "RUNNING"
        self.task_state[name] = "RUNNING"
        return {"name": name, "config": self.configs[name]}

    def restart(self, name: str, include_tasks: bool = False, only_failed: bool = False) -> None:
        self._up()
        self.connector_restarts += 1
        self.connector_state[name] = "RUNNING"

    def restart_task(self, name: str, task: int) -> None:
        self._up()
        self.task_restarts += 1
        self.task_state[name] = "RUNNING"
        self.task_trace.pop(name, None)

    # -- what an operator (or Connect) does to it ------------------------------------------
    def fail_task(
        self, name: str, trace: str = "org.apache.kafka.connect.errors.ConnectException: boom"
    ) -> None:
        self.task_state[name] = "FAILED"
        self.task_trace[name] = trace

    def edit_by_hand(self, name: str, **changes: str) -> None:
        """An operator's PUT (not counted as an agent's write)."""
        self.configs[name] = {**self.configs[name], **changes}
