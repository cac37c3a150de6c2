"""The connect-agent's decisions (pure): observations and ``now`` in, a typed decision out.

Everything that decides what the agent does lives in this module, and this module does no I/O:
the shell (``loop.py``) reads the worker's REST API and JMX exporter, calls :func:`decide` and
carries out the actions it returns. Time is always passed in (``now``, seconds since the epoch).

Verdicts (first matching row wins)
----------------------------------

=====================================================  ===================  =========================
observation                                            verdict              action
=====================================================  ===================  =========================
the worker's REST API does not answer                  WORKER_UNREACHABLE   none (ECS owns the worker)
the connector does not exist                           MISSING              none here; reconcile
                                                                            creates it
a FAILED connector/task whose trace is an               UNRECOVERABLE        none: alarm + runbook
unrecoverable class (:data:`UNRECOVERABLE_CLASSES`)
connector or task PAUSED / STOPPED                     PAUSED               none (a person chose it)
connector or task FAILED                               FAILED               restart, gated
task UNASSIGNED / RESTARTING, or no task yet           STARTING             none
task RUNNING on another worker                         ELSEWHERE            none (that agent acts)
task RUNNING here, a snapshot running                  SNAPSHOT             none
task RUNNING here, ``Connected=0`` or no streaming     DISCONNECTED         none until
MBean at all (Debezium unregisters it while it                              ``restart_after_unhealthy``
retries a lost database inside a RUNNING task)                              then STALLED
Oracle: ``OffsetScn`` flat while ``CurrentScn``        STALLED              restart, gated
advances for ``scn_stall``
task RUNNING here and connected                        HEALTHY              none
=====================================================  ===================  =========================

A DISCONNECTED verdict older than ``restart_after_unhealthy`` becomes STALLED, which counts as
FAILED: "RUNNING but not progressing" is a state, not a success.

Restarts (Strimzi's auto-restart, with ``now`` passed in)
---------------------------------------------------------
Only the agent whose own worker holds the failed connector or task restarts it (``worker_id`` in
the status equals its worker's advertised ``host:port``): two agents never restart the same task.
The first restart is immediate; restart ``n+1`` waits :func:`next_backoff_ms` (``base * 2**(n-1)``
up to the cap: 0, 10, 20, 40, 80, 160, 300, 300 ... s with the defaults). At most
``restart_budget`` restarts fall in any rolling ``restart_budget_window``; past it the verdict
stays and the gate says EXHAUSTED (an alarm). ``restart_reset_after`` of health clears the
back-off count (:func:`should_reset`); the budget window only rolls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from wms_connector.stages import StageSettings


class Verdict(StrEnum):
    HEALTHY = "healthy"
    SNAPSHOT = "snapshot"
    ELSEWHERE = "running-elsewhere"
    STARTING = "starting"
    DISCONNECTED = "disconnected"
    STALLED = "stalled"
    FAILED = "failed"
    UNRECOVERABLE = "unrecoverable"
    PAUSED = "paused"
    MISSING = "missing"
    WORKER_UNREACHABLE = "worker-unreachable"


#: Verdicts that count as healthy for ``status`` (exit 0) and the ``Healthy`` metric.
HEALTHY_VERDICTS: Final = frozenset({Verdict.HEALTHY, Verdict.SNAPSHOT, Verdict.ELSEWHERE})
#: Verdicts a restart may cure.
RESTARTABLE: Final = frozenset({Verdict.FAILED, Verdict.STALLED})


class Unrecoverable(StrEnum):
    """Failures a restart cannot cure: classified from the task's trace, never retried in a loop."""

    OFFSET_NOT_IN_LOGS = "offset-not-in-logs"
    SCHEMA_HISTORY_LOST = "schema-history-lost"
    CREDENTIALS_REJECTED = "credentials-rejected"
    REPLICATION_SLOT_LOST = "replication-slot-lost"


#: Trace patterns of each class (case-insensitive), from Debezium's own messages.
UNRECOVERABLE_CLASSES: Final[tuple[tuple[Unrecoverable, re.Pattern[str]], ...]] = (
    (
        Unrecoverable.OFFSET_NOT_IN_LOGS,
        # Streaming's own check, and the task's start-up check of the stored offset (Debezium 3.6.1
        # AbstractLogMinerStreamingChangeEventSource, BaseSourceTask; see
        # tests/fixtures/oracle/failure_texts.json).
        re.compile(
            r"do(es)? not contain the offset scn|perform a new snapshot|no longer available on the server",
            re.IGNORECASE,
        ),
    ),
    (
        Unrecoverable.SCHEMA_HISTORY_LOST,
        re.compile(r"(db|schema) history topic( or its content)? is (fully or partially )?missing", re.I),
    ),
    (Unrecoverable.CREDENTIALS_REJECTED, re.compile(r"ORA-01017|password authentication failed", re.I)),
    (Unrecoverable.REPLICATION_SLOT_LOST, re.compile(r"replication slot .* does not exist", re.I)),
)


def classify(trace: str) -> Unrecoverable | None:
    for kind, pattern in UNRECOVERABLE_CLASSES:
        if pattern.search(trace):
            return kind
    return None


# -- observations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskStatus:
    id: int
    state: str
    worker_id: str
    trace: str = ""


@dataclass(frozen=True)
class ConnectorStatus:
    state: str
    worker_id: str
    tasks: tuple[TaskStatus, ...]
    trace: str = ""

    @classmethod
    def from_rest(cls, body: Mapping[str, Any]) -> ConnectorStatus:
        """From ``GET /connectors/<name>/status``."""
        connector = body.get("connector") or {}
        tasks = tuple(
            TaskStatus(
                int(t.get("id", 0)),
                str(t.get("state", "")),
                str(t.get("worker_id", "")),
                str(t.get("trace", "")),
            )
            for t in body.get("tasks") or []
        )
        return cls(
            str(connector.get("state", "")),
            str(connector.get("worker_id", "")),
            tasks,
            str(connector.get("trace", "")),
        )


def _known(value: float | None) -> float | None:
    """Debezium reports -1 for "never" (no event yet); that is no value."""
    return None if value is None or value < 0 else value


@dataclass(frozen=True)
class Streaming:
    """Debezium's streaming MBean on this worker (``None`` fields: attribute absent or -1)."""

    connected: bool
    ms_behind_source: float | None = None
    ms_since_last_event: float | None = None
    queue_remaining: float | None = None
    offset_scn: float | None = None
    current_scn: float | None = None
    oldest_scn_age_ms: float | None = None
    active_transactions: float | None = None
    scn_freeze_count: float | None = None

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, float]) -> Streaming | None:
        """From ``exposition.debezium(..., context="streaming")``; ``None`` when the MBean is absent."""
        if not attributes:
            return None
        a = attributes
        return cls(
            connected=a.get("connected", 0.0) >= 1.0,
            ms_behind_source=_known(a.get("millisecondsbehindsource")),
            ms_since_last_event=_known(a.get("millisecondssincelastevent")),
            queue_remaining=_known(a.get("queueremainingcapacity")),
            offset_scn=_known(a.get("offsetscn")),
            current_scn=_known(a.get("currentscn")),
            oldest_scn_age_ms=_known(a.get("oldestscnageinmilliseconds")),
            active_transactions=_known(a.get("numberofactivetransactions")),
            scn_freeze_count=_known(a.get("scnfreezecount")),
        )


@dataclass(frozen=True)
class Observation:
    """One cycle's reading. ``status`` ``None``: the connector does not exist. ``metrics_read``:
    the exporter page was read (then ``streaming`` ``None`` means the MBean is absent here)."""

    worker_reachable: bool
    status: ConnectorStatus | None
    metrics_read: bool = False
    streaming: Streaming | None = None
    snapshot_running: bool = False


# -- policy settings and memory ----------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The thresholds, in milliseconds, taken from the stage (:meth:`from_settings`)."""

    restart_after_unhealthy_ms: int
    scn_stall_ms: int
    backoff_base_ms: int
    backoff_max_ms: int
    budget: int
    budget_window_ms: int
    reset_after_ms: int
    stale_event_ms: int
    #: The DBA's archive-log retention: ``OldestScnAgeInMilliseconds`` is measured against it.
    archive_retention_ms: int = 86_400_000

    @classmethod
    def from_settings(cls, settings: StageSettings) -> Policy:
        return cls(
            restart_after_unhealthy_ms=settings.restart_after_unhealthy_ms,
            scn_stall_ms=settings.scn_stall_ms,
            backoff_base_ms=settings.restart_backoff_base_ms,
            backoff_max_ms=settings.restart_backoff_max_ms,
            budget=settings.restart_budget,
            budget_window_ms=settings.restart_budget_window_ms,
            reset_after_ms=settings.restart_reset_after_ms,
            stale_event_ms=settings.stale_event_alarm_ms,
            archive_retention_ms=settings.archive_log_retention_ms,
        )


@dataclass(frozen=True)
class RestartRecord:
    """What survives an agent restart (``state.py`` keeps it in a file on the task's volume)."""

    count: int = 0
    last_restart: float | None = None
    recent: tuple[float, ...] = ()


@dataclass(frozen=True)
class Memory:
    """The agent's memory between cycles: the restart record plus time-in-state bookkeeping."""

    restarts: RestartRecord = field(default_factory=RestartRecord)
    verdict: Verdict | None = None
    verdict_since: float | None = None
    unhealthy_since: float | None = None
    healthy_since: float | None = None
    #: Start of the current DISCONNECTED/STALLED streak (cleared by a restart).
    disconnected_since: float | None = None
    offset_scn: float | None = None
    offset_scn_since: float | None = None
    current_scn_at_offset: float | None = None


# -- restart policy (Strimzi-style small functions) -------------------------------------------


class Gate(StrEnum):
    ALLOWED = "allowed"
    BACKING_OFF = "backing-off"
    EXHAUSTED = "budget-exhausted"


def next_backoff_ms(count: int, policy: Policy) -> int:
    """Wait before the restart that follows ``count`` earlier ones: 0, then base * 2**(count-1), capped."""
    if count <= 0:
        return 0
    return int(min(policy.backoff_base_ms * 2 ** (count - 1), policy.backoff_max_ms))


def in_window(record: RestartRecord, now: float, policy: Policy) -> tuple[float, ...]:
    return tuple(t for t in record.recent if now - t < policy.budget_window_ms / 1000)


def should_restart(record: RestartRecord, now: float, policy: Policy) -> tuple[Gate, float | None]:
    """Whether a restart may happen ``now``, and when the next one may (``None``: now, or never
    within the window's current contents)."""
    recent = in_window(record, now, policy)
    if len(recent) >= policy.budget:
        return Gate.EXHAUSTED, min(recent) + policy.budget_window_ms / 1000
    if record.last_restart is not None:
        ready_at = record.last_restart + next_backoff_ms(record.count, policy) / 1000
        if now < ready_at:
            return Gate.BACKING_OFF, ready_at
    return Gate.ALLOWED, None


def should_reset(record: RestartRecord, healthy_since: float | None, now: float, policy: Policy) -> bool:
    """Healthy for ``reset_after`` since the last restart: the back-off starts again at immediate."""
    return (
        record.count > 0 and healthy_since is not None and now - healthy_since >= policy.reset_after_ms / 1000
    )


def record_restart(record: RestartRecord, now: float, policy: Policy) -> RestartRecord:
    return RestartRecord(record.count + 1, now, (*in_window(record, now, policy), now))


# -- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartConnector:
    """``POST /connectors/<n>/restart`` (the connector instance only)."""


@dataclass(frozen=True)
class RestartTask:
    task: int


Action = RestartConnector | RestartTask


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    reason: str
    #: This agent's worker holds the connector/task the verdict is about.
    owner: bool = False
    unrecoverable: Unrecoverable | None = None
    #: Task ids (and ``-1`` for the connector instance) this agent would restart.
    targets: tuple[int, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.verdict in HEALTHY_VERDICTS


@dataclass(frozen=True)
class Decision:
    assessment: Assessment
    actions: tuple[Action, ...]
    memory: Memory
    gate: Gate | None = None
    #: When the gate opens again (epoch seconds), for reports.
    next_restart_at: float | None = None

    @property
    def restarted(self) -> bool:
        return bool(self.actions)


CONNECTOR_TARGET: Final = -1


def _down_states(status: ConnectorStatus, states: frozenset[str]) -> list[tuple[int, str, str]]:
    """``(target, worker, trace)`` of the connector (-1) and tasks in one of ``states``."""
    found = []
    if status.state in states:
        found.append((CONNECTOR_TARGET, status.worker_id, status.trace))
    found += [(t.id, t.worker_id, t.trace) for t in status.tasks if t.state in states]
    return found


def _scn_stalled(obs: Streaming, memory: Memory, now: float, policy: Policy) -> bool:
    if obs.offset_scn is None or obs.current_scn is None or memory.offset_scn_since is None:
        return False
    flat_for = now - memory.offset_scn_since
    advanced = memory.current_scn_at_offset is not None and obs.current_scn > memory.current_scn_at_offset
    return obs.offset_scn == memory.offset_scn and advanced and flat_for >= policy.scn_stall_ms / 1000


def assess(obs: Observation, memory: Memory, own_worker: str, now: float, policy: Policy) -> Assessment:
    """The verdict of one connector as this agent sees it (the table in the module docstring)."""
    if not obs.worker_reachable:
        return Assessment(Verdict.WORKER_UNREACHABLE, "the worker's REST API does not answer")
    status = obs.status
    if status is None:
        return Assessment(Verdict.MISSING, "the connector does not exist")
    failed = _down_states(status, frozenset({"FAILED"}))
    for target, worker, trace in failed:
        kind = classify(trace)
        if kind is not None:
            what = "connector" if target == CONNECTOR_TARGET else f"task {target}"
            return Assessment(
                Verdict.UNRECOVERABLE,
                f"{what} FAILED with {kind.value}: a restart cannot cure it",
                owner=worker == own_worker,
                unrecoverable=kind,
            )
    paused = _down_states(status, frozenset({"PAUSED", "STOPPED"}))
    if paused:
        return Assessment(Verdict.PAUSED, f"connector {status.state}, set by a person; left alone")
    if failed:
        mine = tuple(target for target, worker, _ in failed if worker == own_worker)
        listed = ", ".join("connector" if t == CONNECTOR_TARGET else f"task {t}" for t, _, _ in failed)
        return Assessment(Verdict.FAILED, f"{listed} FAILED", owner=bool(mine), targets=mine)
    running_here = tuple(t.id for t in status.tasks if t.state == "RUNNING" and t.worker_id == own_worker)
    if not status.tasks or any(t.state in {"UNASSIGNED", "RESTARTING"} for t in status.tasks):
        return Assessment(Verdict.STARTING, "task not assigned or restarting yet")
    if not running_here:
        workers = ", ".join(sorted({t.worker_id for t in status.tasks}))
        return Assessment(Verdict.ELSEWHERE, f"task RUNNING on {workers}")
    if not obs.metrics_read:
        # Without the exporter nothing proves the task is stuck: never restart on missing evidence.
        return Assessment(Verdict.HEALTHY, "task RUNNING here (exporter unreadable: status only)", owner=True)
    if obs.snapshot_running:
        return Assessment(Verdict.SNAPSHOT, "task RUNNING here, initial snapshot in progress", owner=True)
    streaming = obs.streaming
    if streaming is None or not streaming.connected:
        why = "no streaming metrics (not streaming)" if streaming is None else "Connected=0"
        age = 0.0 if memory.disconnected_since is None else now - memory.disconnected_since
        if age >= policy.restart_after_unhealthy_ms / 1000:
            return Assessment(
                Verdict.STALLED,
                f"task RUNNING but {why} for {age:.0f} s: counts as failed",
                owner=True,
                targets=running_here,
            )
        return Assessment(Verdict.DISCONNECTED, f"task RUNNING but {why} for {age:.0f} s", owner=True)
    if _scn_stalled(streaming, memory, now, policy):
        return Assessment(
            Verdict.STALLED,
            "OffsetScn has not moved while CurrentScn advanced: not progressing",
            owner=True,
            targets=running_here,
        )
    return Assessment(Verdict.HEALTHY, "task RUNNING here and connected", owner=True)


def _keep(since: float | None, now: float) -> float:
    return now if since is None else since


def _track(obs: Observation, verdict: Verdict, memory: Memory, now: float) -> Memory:
    """Time-in-state bookkeeping for the next cycle."""
    unhealthy = verdict not in HEALTHY_VERDICTS
    updates: dict[str, Any] = {
        "verdict": verdict,
        "verdict_since": memory.verdict_since if memory.verdict == verdict else now,
        "unhealthy_since": _keep(memory.unhealthy_since, now) if unhealthy else None,
        "healthy_since": None if unhealthy else _keep(memory.healthy_since, now),
        "disconnected_since": _keep(memory.disconnected_since, now)
        if verdict in {Verdict.DISCONNECTED, Verdict.STALLED}
        else None,
    }
    streaming = obs.streaming
    if (
        streaming is not None
        and streaming.offset_scn is not None
        and streaming.offset_scn != memory.offset_scn
    ):
        updates |= {
            "offset_scn": streaming.offset_scn,
            "offset_scn_since": now,
            "current_scn_at_offset": streaming.current_scn,
        }
    return replace(memory, **updates)


def decide(obs: Observation, memory: Memory, own_worker: str, now: float, policy: Policy) -> Decision:
    """Read -> **decide**: the verdict, the restarts to issue now, and the memory for next time."""
    assessment = assess(obs, memory, own_worker, now, policy)
    tracked = _track(obs, assessment.verdict, memory, now)
    record = tracked.restarts
    if should_reset(record, tracked.healthy_since, now, policy):
        record = RestartRecord(0, record.last_restart, record.recent)
    tracked = replace(tracked, restarts=record)
    if assessment.verdict not in RESTARTABLE or not assessment.targets:
        return Decision(assessment, (), tracked)
    gate, ready_at = should_restart(record, now, policy)
    if gate is not Gate.ALLOWED:
        return Decision(assessment, (), tracked, gate, ready_at)
    actions: tuple[Action, ...] = tuple(
        RestartConnector() if target == CONNECTOR_TARGET else RestartTask(target)
        for target in assessment.targets
    )
    after = record_restart(record, now, policy)
    # A restart starts a new streak: the threshold is measured again from the next observation.
    tracked = replace(tracked, restarts=after, disconnected_since=None)
    return Decision(assessment, actions, tracked, Gate.ALLOWED, should_restart(after, now, policy)[1])
