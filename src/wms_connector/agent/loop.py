"""The agent's cycle: read -> decide -> execute -> emit. The I/O shell around ``policy``.

Every dependency is passed in (the Connect client, the exporter scrape, the clock, the outputs),
so tests drive the same loop against the real local workers. One bad cycle never kills the
agent: an unexpected error is logged as a structured line and the next cycle runs.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from wms_connector.agent.emf import Sample, cycle_metrics, render
from wms_connector.agent.generation import GENERATION_KEY, Generation, Verdict, verdict
from wms_connector.agent.policy import (
    ConnectorStatus,
    Decision,
    Memory,
    Observation,
    Policy,
    RestartConnector,
    RestartTask,
    Streaming,
    decide,
)
from wms_connector.agent.state import RecordFile
from wms_connector.connect import exposition
from wms_connector.connect.rest import (
    ConnectApi,
    ConnectRestError,
    ConnectUnreachableError,
    DatabaseUnreachableError,
    reconcile,
)
from wms_connector.errors import WmsError
from wms_connector.hold.record import HoldState, HoldView
from wms_connector.naming import AgentMetric, StageNames

Scrape = Callable[[], str]
Log = Callable[[Mapping[str, Any]], None]
#: The operator hold as of now (``hold.store.HoldStore.current`` bound to the connector).
HoldSource = Callable[[], HoldView]
NO_HOLD = HoldView(HoldState.NONE)


def json_log(record: Mapping[str, Any]) -> None:
    """A structured log line on stderr (stdout carries the EMF lines)."""
    sys.stderr.write(json.dumps({"ts": round(time.time(), 3), **record}, default=str) + "\n")
    sys.stderr.flush()


def stdout_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


#: Back-off of the reconcile step while the database (or Connect) refuses the config.
RECONCILE_BACKOFF_BASE_S = 5.0
RECONCILE_BACKOFF_MAX_S = 120.0


@dataclass(frozen=True)
class CycleReport:
    at: float
    observation: Observation
    decision: Decision
    reconcile: str
    restarts_issued: int
    emf: str
    hold: HoldView = NO_HOLD


@dataclass
class Agent:
    """One connect-agent beside one worker. ``own_worker`` is that worker's ``host:port`` as it
    appears in ``worker_id`` of the connector status."""

    api: ConnectApi
    scrape: Scrape
    names: StageNames
    connector: str
    desired: Mapping[str, str] | None
    own_worker: str
    policy: Policy
    record_file: RecordFile | None = None
    clock: Callable[[], float] = time.time
    emit: Callable[[str], None] = stdout_line
    log: Log = json_log
    reconcile_enabled: bool = True
    #: The stage's operator hold; ``None``: no hold topic (an agent wired without Kafka).
    hold: HoldSource | None = None
    #: This agent's generation; ``desired`` carries its stamp. ``None``: unstamped (every
    #: difference is written, the behaviour of a single generation).
    generation: Generation | None = None
    memory: Memory = field(default_factory=Memory)
    last: CycleReport | None = None
    _reconcile_failures: int = 0
    _next_reconcile: float = 0.0

    def __post_init__(self) -> None:
        if self.record_file is not None:
            record, problem = self.record_file.load()
            if problem:
                self.log({"level": "warning", "event": "restart-record", "message": problem})
            self.memory = replace(self.memory, restarts=record)

    # -- read ------------------------------------------------------------------------------
    def _reconcile(self, now: float) -> str:
        if not self.reconcile_enabled or self.desired is None or now < self._next_reconcile:
            return "skipped"
        own = self.generation
        desired = self.desired

        def newer_owns(live: Mapping[str, str]) -> bool:
            return own is not None and verdict(own, desired, live) is Verdict.DEFER

        try:
            result = reconcile(
                self.api,
                self.connector,
                self.desired,
                ignore=frozenset({GENERATION_KEY}),
                defer=newer_owns,
            )
        except (DatabaseUnreachableError, ConnectRestError) as error:
            self._reconcile_failures += 1
            wait = min(
                RECONCILE_BACKOFF_BASE_S * 2 ** (self._reconcile_failures - 1), RECONCILE_BACKOFF_MAX_S
            )
            # From when the attempt ended: the client's own retries inside reconcile can outlast
            # the wait, and the next cycle would then try again at once instead of backing off.
            self._next_reconcile = self.clock() + wait
            kind = "database-unreachable" if isinstance(error, DatabaseUnreachableError) else "refused"
            self.log(
                {
                    "level": "warning",
                    "event": "reconcile",
                    "outcome": kind,
                    "worker": self.own_worker,
                    "retry_in_s": wait,
                    "message": str(error),
                }
            )
            return kind
        self._reconcile_failures = 0
        self._next_reconcile = 0.0
        if result.action.value == "deferred":
            if self.last is None or self.last.reconcile != "deferred":
                self.log(
                    {
                        "level": "info",
                        "event": "reconcile",
                        "outcome": "deferred",
                        "connector": self.connector,
                        "worker": self.own_worker,
                        "generation": own.render() if own else None,
                        "message": "a newer task generation owns the config; this agent will not write it",
                    }
                )
            return result.action.value
        if result.action.value != "unchanged":
            # Two agents may both act on the same change; each says that it did.
            self.log(
                {
                    "level": "info",
                    "event": "reconcile",
                    "outcome": result.action.value,
                    "connector": self.connector,
                    "by_worker": self.own_worker,
                    "changed_keys": list(result.changed_keys),
                    "generation": own.render() if own else None,
                }
            )
        return result.action.value

    def _status(self) -> ConnectorStatus | None:
        listed = self.api.list_connectors()
        entry = listed.get(self.connector)
        if not entry:
            return None
        return ConnectorStatus.from_rest(entry.get("status") or {})

    def _metrics(self) -> tuple[bool, Streaming | None, bool]:
        try:
            samples = exposition.parse(self.scrape())
        except (WmsError, OSError) as error:
            self.log({"level": "warning", "event": "scrape", "message": str(error)})
            return False, None, False
        except Exception as error:
            self.log({"level": "warning", "event": "scrape", "message": f"{type(error).__name__}: {error}"})
            return False, None, False
        server = self.names.topic_prefix
        streaming = Streaming.from_attributes(exposition.debezium(samples, server=server))
        snapshot = exposition.debezium(samples, server=server, context=exposition.SNAPSHOT)
        return True, streaming, snapshot.get("snapshotrunning", 0.0) >= 1.0

    def _hold(self) -> HoldView:
        if self.hold is None:
            return HoldView(HoldState.NONE)
        try:
            return self.hold()
        except Exception as error:  # the source reports unknown itself; this is the last guard
            return HoldView(HoldState.UNKNOWN, problem=f"hold source failed ({type(error).__name__})")

    def observe(self, now: float, hold: HoldView | None = None) -> tuple[Observation, str]:
        try:
            self.api.root()
        except (ConnectUnreachableError, ConnectRestError):
            return Observation(worker_reachable=False, status=None), "skipped"
        outcome = "held" if hold is not None and hold.hands_off else self._reconcile(now)
        try:
            status = self._status()
        except (ConnectUnreachableError, ConnectRestError):
            return Observation(worker_reachable=False, status=None), outcome
        read, streaming, snapshot = self._metrics()
        return Observation(True, status, read, streaming, snapshot), outcome

    # -- execute ---------------------------------------------------------------------------
    def _execute(self, decision: Decision) -> int:
        issued = 0
        for action in decision.actions:
            try:
                if isinstance(action, RestartTask):
                    self.api.restart_task(self.connector, action.task)
                    target = f"task {action.task}"
                else:
                    assert isinstance(action, RestartConnector)
                    self.api.restart(self.connector)
                    target = "connector"
                issued += 1
                self.log(
                    {
                        "level": "warning",
                        "event": "restart",
                        "connector": self.connector,
                        "target": target,
                        "by_worker": self.own_worker,
                        "reason": decision.assessment.reason,
                        "restart_count": decision.memory.restarts.count,
                        "next_allowed_at": decision.next_restart_at,
                    }
                )
            except WmsError as error:
                # Recorded, not thrown: the restart counts against the budget and the gate retries it.
                self.log({"level": "error", "event": "restart-failed", "message": str(error)})
        return issued

    # -- one cycle ---------------------------------------------------------------------------
    def cycle(self) -> CycleReport:
        now = self.clock()
        hold = self._hold()
        obs, reconciled = self.observe(now, hold)
        decision = decide(obs, self.memory, self.own_worker, now, self.policy)
        if hold.hands_off:
            # Watch only: no restart is issued, and none is recorded (the budget and back-off
            # stay as they were, so a release does not meet a spent budget).
            decision = replace(
                decision,
                actions=(),
                memory=replace(decision.memory, restarts=self.memory.restarts),
            )
        self._log_hold_change(hold, now)
        issued = self._execute(decision)
        if self.record_file is not None and decision.memory.restarts != self.memory.restarts:
            self.record_file.save(decision.memory.restarts)
        previous = self.memory.verdict
        self.memory = decision.memory
        line = render(
            namespace=self.names.metric_namespace,
            dimensions=self.names.metric_dimensions(self.connector),
            samples=[
                *cycle_metrics(
                    obs,
                    decision,
                    restarts_issued=issued,
                    stale_event_ms=self.policy.stale_event_ms,
                    archive_retention_ms=self.policy.archive_retention_ms,
                ),
                Sample(AgentMetric.HOLD, float(hold.hands_off)),
            ],
            timestamp_ms=int(now * 1000),
        )
        self.emit(line)
        if decision.assessment.verdict != previous:
            self.log(
                {
                    "level": "info" if decision.assessment.healthy else "warning",
                    "event": "verdict",
                    "connector": self.connector,
                    "worker": self.own_worker,
                    "verdict": decision.assessment.verdict.value,
                    "reason": decision.assessment.reason,
                    "gate": decision.gate.value if decision.gate else None,
                }
            )
        self.last = CycleReport(now, obs, decision, reconciled, issued, line, hold)
        return self.last

    def _log_hold_change(self, hold: HoldView, now: float) -> None:
        previous = self.last.hold.state if self.last is not None else HoldState.NONE
        if hold.state is previous:
            return
        self.log(
            {
                "level": "warning" if hold.hands_off else "info",
                "event": "hold",
                "connector": self.connector,
                "worker": self.own_worker,
                "state": hold.state.value,
                "detail": hold.describe(now),
            }
        )

    def run(self, stop: threading.Event, poll_s: float) -> None:
        """Cycles at a fixed rate until ``stop`` is set (SIGTERM); an error ends one cycle only."""
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                self.cycle()
            except Exception as error:
                self.log(
                    {"level": "error", "event": "cycle-failed", "message": f"{type(error).__name__}: {error}"}
                )
            next_at += poll_s
            stop.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - poll_s)
