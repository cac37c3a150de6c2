"""Which connector states each operation accepts, and the steps of each procedure (pure).

Every command decides here, from the connector's status as Connect reports it, whether it may act
(``Go``), has nothing to do (``Already``) or must refuse (``Refuse``), before anything is changed.
The steps are shown to the operator before confirmation, and are the order the shell follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Final

from wms_connector.naming import StageNames
from wms_connector.operations.tables import ORACLE


class Exit(IntEnum):
    """The documented exit codes of every ``ops`` command."""

    OK = 0  # done (or nothing to do), state after shown
    FAILED = 1  # failed part-way: what was done is printed, a hold (if any) is kept until it expires
    REFUSED = 2  # bad input or a refusal before any change: nothing was changed
    NOT_CONFIRMED = 3  # the operator did not confirm (no --yes without a terminal): nothing changed
    OTHER_TASK = 4  # inside a task (--remote): the connector's task runs on the other worker; nothing changed


class Action(StrEnum):
    STOP = "stop"
    RESUME = "resume"
    PAUSE = "pause"
    RESTART = "restart"
    SNAPSHOT = "snapshot"
    STOP_SNAPSHOT = "stop-snapshot"
    OFFSETS_RESET = "offsets-reset"
    OFFSETS_RESTORE = "offsets-restore"
    RECOVER_HISTORY = "recover-history"
    DROP_TRANSACTION = "drop-transaction"


@dataclass(frozen=True)
class ConnectorState:
    """The connector's and its tasks' states from ``GET /connectors/<n>/status``."""

    connector: str
    tasks: tuple[str, ...]

    @classmethod
    def of(cls, status: Mapping[str, Any]) -> ConnectorState:
        tasks = tuple(str(t.get("state", "UNASSIGNED")) for t in status.get("tasks", []))
        return cls(str(status.get("connector", {}).get("state", "UNASSIGNED")), tasks)

    @property
    def running(self) -> bool:
        return self.connector == "RUNNING" and bool(self.tasks) and all(t == "RUNNING" for t in self.tasks)

    @property
    def failed(self) -> bool:
        return self.connector == "FAILED" or "FAILED" in self.tasks

    def describe(self) -> str:
        tasks = ", ".join(self.tasks) or "no task"
        return f"connector {self.connector}, task {tasks}"

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector, "tasks": list(self.tasks)}


@dataclass(frozen=True)
class Verdict:
    go: bool
    reason: str = ""
    #: True when the connector is already where the action would put it (exit 0, nothing done).
    already: bool = False


def go() -> Verdict:
    return Verdict(True)


def already(reason: str) -> Verdict:
    return Verdict(False, reason, already=True)


def refuse(reason: str) -> Verdict:
    return Verdict(False, reason)


#: Where each lifecycle action leaves the connector (what the shell waits for).
TARGET_STATE: Final = {
    Action.STOP: "STOPPED",
    Action.RESUME: "RUNNING",
    Action.PAUSE: "PAUSED",
    Action.RESTART: "RUNNING",
}


def lifecycle_verdict(action: Action, state: ConnectorState) -> Verdict:
    """May ``action`` (stop, resume, pause, restart) act on a connector in ``state``?"""
    current = state.connector
    if action is Action.STOP:
        if current == "STOPPED":
            return already("the connector is already STOPPED")
        return go() if current in ("RUNNING", "PAUSED", "FAILED") else refuse(_unsettled(state))
    if action is Action.PAUSE:
        if current == "PAUSED":
            return already("the connector is already PAUSED")
        if current == "STOPPED":
            return refuse(
                "the connector is STOPPED; `ops resume` first (a stopped connector has no task to pause)"
            )
        return go() if current == "RUNNING" else refuse(_unsettled(state))
    if action is Action.RESUME:
        if state.running:
            return already("the connector and its task are already RUNNING")
        if current in ("STOPPED", "PAUSED"):
            return go()
        if state.failed:
            return refuse(
                f"{state.describe()}: a failed connector is not resumed but restarted (`ops restart`)"
            )
        return refuse(_unsettled(state))
    if action is Action.RESTART:
        if current in ("STOPPED", "PAUSED"):
            return refuse(
                f"the connector is {current}, set by a person: `ops resume` it instead of restarting"
            )
        return go() if current in ("RUNNING", "FAILED") else refuse(_unsettled(state))
    raise ValueError(f"not a lifecycle action: {action}")  # pragma: no cover - programming error


def _unsettled(state: ConnectorState) -> str:
    return f"{state.describe()}: wait until it settles (RUNNING, PAUSED, STOPPED or FAILED) and try again"


def streaming_verdict(action: Action, state: ConnectorState) -> Verdict:
    """Signals (snapshot, stop-snapshot, drop-transaction) are read by a RUNNING task only."""
    if state.running:
        return go()
    return refuse(
        f"{state.describe()}: Debezium reads signals only while its task RUNS, so the {action.value} "
        "signal would wait unseen; resume or restart the connector first"
    )


def reset_verdict(state: ConnectorState) -> Verdict:
    """``offsets reset``: any settled state (it stops the connector itself)."""
    if state.connector in ("RUNNING", "PAUSED", "STOPPED", "FAILED"):
        return go()
    return refuse(_unsettled(state))


def recovery_verdict(state: ConnectorState, live: Mapping[str, str], overrides: Mapping[str, str]) -> Verdict:
    if state.connector in {"STOPPED", "PAUSED"}:
        return refuse(
            f"the connector is {state.connector}: `ops resume` it first, the recovery runs in its task"
        )
    if all(live.get(k) == v for k, v in overrides.items()):
        return refuse(
            "the connector already carries the recovery settings "
            f"({', '.join(f'{k}={v}' for k, v in overrides.items())}): a recovery is under way or was "
            "left half-done; check `ops status`/the hold, then put the desired config back (`release`)"
        )
    return go()


def recovery_overrides(source: str) -> dict[str, str]:
    """The settings of a schema-history recovery. Oracle: ``snapshot.mode=recovery`` (rebuild the
    history from the current schema, then stream from the stored offset). The stand-in's
    PostgreSQL connector keeps no schema history and has no ``recovery`` mode: ``no_data`` (schema
    only, never data) drives the same procedure for the local tests."""
    return {"snapshot.mode": "recovery" if source == ORACLE else "no_data"}


# -- the procedures' steps, shown before confirmation --------------------------------------------


def reset_steps(names: StageNames, connector: str, offsets_file: str) -> list[str]:
    return [
        f"hold {connector} (the agents only watch)",
        f"stop {connector} (KIP-980 STOPPED)",
        f"save its offsets to {offsets_file} (the rollback: `ops offsets restore {offsets_file}`)",
        "delete its offsets (KIP-875)",
        f"DELETE and re-create the schema history topic {names.schema_history_topic} from its spec "
        "(its content is lost; the snapshot writes it again)",
        f"resume {connector}: with no offsets Debezium snapshots every captured table (consumers "
        "receive every row again as op=r), then streams",
        "wait until the snapshot has started, release the hold",
    ]


def restore_steps(connector: str, offsets_file: str, count: int) -> list[str]:
    return [
        f"hold {connector}",
        f"stop {connector}",
        f"write the {count} saved offset(s) of {offsets_file} back (KIP-875 PATCH)",
        f"resume {connector}, wait until it RUNS, release the hold",
    ]


def recovery_steps(connector: str, overrides: Mapping[str, str]) -> list[str]:
    settings = ", ".join(f"{k}={v}" for k, v in overrides.items())
    return [
        f"hold {connector} (the agents would put the desired config back within one poll)",
        f"save the connector's live config, then PUT it with {settings}",
        "wait until the task RUNS (the history is rebuilt, streaming continues from the stored offset)",
        "PUT the saved config back, wait until it RUNS again, release the hold",
    ]


def history_recreation_refusal(names: StageNames, topic: str, state: ConnectorState) -> str | None:
    """The one place a named stage's topic may be re-created: the stage's own schema history
    topic, only while its connector is STOPPED (nothing writes or reads it then)."""
    if topic != names.schema_history_topic:
        return (
            f"only the schema history topic {names.schema_history_topic} may be re-created here, "
            f"not {topic!r}"
        )
    if state.connector != "STOPPED":
        return (
            f"the schema history topic is re-created only while the connector is STOPPED ({state.describe()})"
        )
    return None


def describe_steps(steps: Sequence[str]) -> list[str]:
    return [f"{n}. {step}" for n, step in enumerate(steps, start=1)]
