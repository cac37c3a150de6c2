"""A deterministic simulator of the connect-agent in production: scripted timelines through the
real loop (``Agent.cycle``: reconcile, status, scrape, ``decide``, execute, persist, EMF) with a
fake clock, a stateful in-memory Kafka Connect (:class:`FakeConnect`, real 404 and PUT semantics)
and a scripted JMX exporter page (:class:`World`), so hours of a situation replay in well under a
second.

The exporter page is Prometheus text as ``runtime/jmx-exporter.yaml`` renders Debezium's MBeans:
``debezium_metrics_<attribute lowercased>{context, plugin, server}``, with the attribute names of
Debezium 3.6.1's ``LogMinerStreamingChangeEventSourceMetricsMXBean`` and the snapshot metrics
(:data:`STREAMING_ATTRIBUTES`, :data:`SNAPSHOT_ATTRIBUTES`), and parsed by the agent's own
``connect.exposition``. A timeline is a function ``(world, now)`` called before each cycle: it
sets what the database, Debezium and the exporter do at ``now``, and can read what the agent did
(``world.connect.calls``) to react to a restart as Debezium would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from wms_connector.agent.loop import Agent, CycleReport
from wms_connector.agent.policy import Policy
from wms_connector.agent.state import RecordFile
from wms_connector.connect.rest import ConnectRestError, ConnectUnreachableError
from wms_connector.naming import StageNames, names_for
from wms_connector.stages import Stage, settings_for

STAGE: Final = Stage("production")
NAMES: Final[StageNames] = names_for(STAGE)
ME: Final = "10.0.1.5:8083"
OTHER: Final = "10.0.2.7:8083"
#: The MXBean attributes the timelines set (Debezium 3.6.1 ``LogMinerStreamingChangeEventSourceMetricsMXBean``
#: and its parents); the exporter serves each as ``debezium_metrics_<name lowercased>``.
STREAMING_ATTRIBUTES: Final = (
    "Connected",
    "MilliSecondsBehindSource",
    "MilliSecondsSinceLastEvent",
    "QueueRemainingCapacity",
    "CurrentScn",
    "OffsetScn",
    "OldestScnAgeInMilliseconds",
    "NumberOfActiveTransactions",
    "ScnFreezeCount",
)
SNAPSHOT_ATTRIBUTES: Final = (
    "SnapshotRunning",
    "SnapshotCompleted",
    "TotalTableCount",
    "RemainingTableCount",
    "TotalNumberOfEventsSeen",
)


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Task:
    state: str = "RUNNING"
    worker: str = ME
    trace: str = ""


@dataclass
class FakeConnect:
    """Kafka Connect's REST API as the agent uses it, in memory. ``calls`` records every write
    (``put``, ``restart``) with the simulated time it happened."""

    clock: Clock
    configs: dict[str, dict[str, str]] = field(default_factory=dict)
    tasks: dict[str, list[Task]] = field(default_factory=dict)
    worker_up: bool = True
    calls: list[tuple[float, str, str]] = field(default_factory=list)

    def _known(self, name: str) -> None:
        if name not in self.configs:
            raise ConnectRestError(404, f"Connector {name} not found")

    def root(self) -> dict[str, Any]:
        if not self.worker_up:
            raise ConnectUnreachableError("Kafka Connect at http://localhost:8083 does not answer")
        return {"version": "4.3.0"}

    def status(self, name: str) -> dict[str, Any]:
        self._known(name)
        tasks = self.tasks[name]
        return {
            "name": name,
            "connector": {"state": "RUNNING", "worker_id": tasks[0].worker if tasks else ME},
            "tasks": [
                {"id": i, "state": t.state, "worker_id": t.worker, "trace": t.trace}
                for i, t in enumerate(tasks)
            ],
        }

    def list_connectors(self) -> dict[str, Any]:
        if not self.worker_up:
            raise ConnectUnreachableError("Kafka Connect at http://localhost:8083 does not answer")
        return {name: {"status": self.status(name)} for name in self.configs}

    def get_config(self, name: str) -> dict[str, str]:
        self._known(name)
        return dict(self.configs[name])

    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        # Connect stores the config and restarts the connector and its task with it.
        self.calls.append((self.clock.now, "put", name))
        self.configs[name] = dict(config)
        self.tasks.setdefault(name, [Task()])
        return {"name": name, "config": dict(config)}

    def create(self, name: str, config: Mapping[str, str], initial_state: str = "RUNNING") -> dict[str, Any]:
        if name in self.configs:
            raise ConnectRestError(409, f"Connector {name} already exists")
        return self.put_config(name, config)

    def restart(self, name: str, include_tasks: bool = False, only_failed: bool = False) -> None:
        self._known(name)
        self.calls.append((self.clock.now, "restart", "connector"))

    def restart_task(self, name: str, task: int) -> None:
        self._known(name)
        self.calls.append((self.clock.now, "restart", f"task {task}"))
        self.tasks[name][task].state = "RUNNING"
        self.tasks[name][task].trace = ""

    def __getattr__(self, method: str) -> Any:
        raise AttributeError(f"the agent does not call {method}")

    # -- what happened --------------------------------------------------------------------------
    def restarts(self) -> list[float]:
        return [at for at, kind, _ in self.calls if kind == "restart"]

    def last_restart(self) -> float | None:
        restarts = self.restarts()
        return restarts[-1] if restarts else None

    def writes(self) -> list[float]:
        return [at for at, kind, _ in self.calls if kind == "put"]


def render_page(
    server: str, streaming: Mapping[str, float] | None, snapshot: Mapping[str, float] | None
) -> str:
    """The exporter's page for Debezium's MBeans (absent MBean: no line at all)."""
    lines = []
    for context, attributes in (("streaming", streaming), ("snapshot", snapshot)):
        for name, value in (attributes or {}).items():
            metric = f"debezium_metrics_{name.lower()}"
            lines.append(
                f'{metric}{{context="{context}",plugin="oracle",server="{server}"}} {float(value)!r}'
            )
    lines.append("jvm_threads_current 42.0")
    return "\n".join(lines) + "\n"


class ExporterGoneError(OSError):
    pass


@dataclass
class World:
    """What the database, Debezium and the exporter do right now (a timeline edits it)."""

    connect: FakeConnect
    clock: Clock
    streaming: dict[str, float] | None = None
    snapshot: dict[str, float] | None = None
    exporter_up: bool = True
    scrapes: int = 0

    def page(self) -> str:
        self.scrapes += 1
        if not self.exporter_up:
            raise ExporterGoneError(111, "Connection refused")
        return render_page(NAMES.topic_prefix, self.streaming, self.snapshot)

    @property
    def task(self) -> Task:
        return self.connect.tasks[NAMES.connector][0]


Timeline = Callable[[World, float], None]


def connected(current_scn: float, offset_scn: float, **more: float) -> dict[str, float]:
    """A streaming Oracle task with no open transaction (values as the exporter serves them)."""
    return {
        "Connected": 1.0,
        "MilliSecondsBehindSource": 800.0,
        "MilliSecondsSinceLastEvent": 1500.0,
        "QueueRemainingCapacity": 8192.0,
        "CurrentScn": current_scn,
        "OffsetScn": offset_scn,
        "OldestScnAgeInMilliseconds": 0.0,
        "NumberOfActiveTransactions": 0.0,
        "ScnFreezeCount": 0.0,
        **more,
    }


DESIRED: Final = {
    "connector.class": "io.debezium.connector.oracle.OracleConnector",
    "topic.prefix": NAMES.topic_prefix,
    "tasks.max": "1",
}


@dataclass
class Run:
    world: World
    agents: list[Agent]
    reports: list[CycleReport]
    logs: list[dict[str, Any]]

    @property
    def connect(self) -> FakeConnect:
        return self.world.connect

    def verdicts(self) -> list[tuple[float, str]]:
        """Each verdict change: ``(time, verdict)``."""
        changes: list[tuple[float, str]] = []
        for report in self.reports:
            verdict = report.decision.assessment.verdict.value
            if not changes or changes[-1][1] != verdict:
                changes.append((report.at, verdict))
        return changes

    def gates(self) -> list[tuple[float, str | None]]:
        changes: list[tuple[float, str | None]] = []
        for report in self.reports:
            gate = report.decision.gate.value if report.decision.gate else None
            if not changes or changes[-1][1] != gate:
                changes.append((report.at, gate))
        return changes

    def metric(self, name: str) -> list[tuple[float, float]]:
        """``(time, value)`` of one EMF metric, every cycle that reported it."""
        found = []
        for report in self.reports:
            line = json.loads(report.emf)
            if name in line:
                found.append((report.at, float(line[name])))
        return found

    def metric_at(self, name: str, at: float) -> float | None:
        return dict(self.metric(name)).get(at)

    def events(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.logs if entry.get("event") == event]


def new_agent(
    world: World,
    logs: list[dict[str, Any]],
    *,
    record_file: Path | None = None,
    policy: Policy | None = None,
    own_worker: str = ME,
) -> Agent:
    return Agent(
        api=world.connect,  # type: ignore[arg-type]
        scrape=world.page,
        names=NAMES,
        connector=NAMES.connector,
        desired=DESIRED,
        own_worker=own_worker,
        policy=policy or Policy.from_settings(settings_for(STAGE)),
        record_file=RecordFile(record_file) if record_file is not None else None,
        clock=world.clock,
        emit=lambda _line: None,
        log=logs.append,
    )


def new_world(streaming: dict[str, float] | None = None) -> World:
    clock = Clock()
    connect = FakeConnect(clock)
    connect.put_config(NAMES.connector, {**DESIRED, "name": NAMES.connector})
    connect.calls.clear()
    return World(connect, clock, streaming=streaming)


def replay(
    timeline: Timeline,
    *,
    until_s: float,
    poll_s: float = 2.0,
    world: World | None = None,
    agent: Agent | None = None,
    record_file: Path | None = None,
    policy: Policy | None = None,
    restart_agent_at: float | None = None,
) -> Run:
    """Cycle the agent every ``poll_s`` from 0 to ``until_s`` (simulated), calling ``timeline``
    before each cycle. ``restart_agent_at``: the agent process is replaced then (same record file)."""
    world = world or new_world()
    logs: list[dict[str, Any]] = []
    agents = [agent or new_agent(world, logs, record_file=record_file, policy=policy)]
    reports: list[CycleReport] = []
    steps = int(until_s / poll_s) + 1
    for step in range(steps):
        now = step * poll_s
        world.clock.now = now
        if restart_agent_at is not None and now >= restart_agent_at and len(agents) == 1:
            agents.append(new_agent(world, logs, record_file=record_file, policy=policy))
        timeline(world, now)
        reports.append(agents[-1].cycle())
    return Run(world, agents, reports, logs)
