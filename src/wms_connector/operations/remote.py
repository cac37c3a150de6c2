"""``--remote``: the same command run inside a deployed task's **agent** container (pure).

The agent container holds no password (the Oracle password reaches only the Connect worker, as a
file its config provider reads), reaches the worker's REST API and exporter on ``localhost`` (the
task's shared network namespace; the exporter listens on loopback only) and has
``KAFKA_BOOTSTRAP_SERVERS`` set. ECS Exec runs a command there through Systems Manager, which needs
the AWS CLI v2 and the Session Manager plugin on the operator's machine; every session is recorded
in the stage's exec log group.

Two things ECS Exec does not do, handled here:

* **It does not return the command's exit status** (``aws ecs execute-command`` exits 0 whatever
  the command did: aws/session-manager-plugin#59, aws/amazon-ecs-agent#2846). The command runs
  under ``sh -c`` that prints one marker line with the status last; the operator's side takes the
  line out of the output and exits with that status, or with 1 when no marker arrived.
* **A task sees only its own worker's metrics** (the exporter is on loopback). A command that
  reads the connector's Debezium metrics must run in the task whose worker runs the connector's
  task; run elsewhere, it changes nothing and exits :data:`OTHER_TASK`, and the operator's side
  tries the next task.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Final

from wms_connector.errors import InputError, WmsError
from wms_connector.naming import StageNames
from wms_connector.operations.procedures import Exit

REMOTE_FLAG: Final = "--remote"
#: Set for the command inside the task: it is a --remote run (it may answer OTHER_TASK).
IN_TASK_ENV: Final = "WMS_OPS_IN_TASK"
#: The exit status of a run that needs another task's worker (nothing was changed).
OTHER_TASK: Final = int(Exit.OTHER_TASK)
#: The marker line carrying the command's exit status back through the session.
EXIT_MARKER: Final = "wms-connector-remote-exit="
_WRAPPER: Final = f'{IN_TASK_ENV}=1 "$@"; status=$?; echo; echo "{EXIT_MARKER}$status"'
#: What the operator's machine needs for ECS Exec, with where to get it.
REQUIRED_TOOLS: Final = (
    ("aws", "the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"),
    (
        "session-manager-plugin",
        "the Session Manager plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/"
        "session-manager-working-with-install-plugin.html)",
    ),
)
#: Options that name something on the operator's machine and mean nothing inside the task.
_LOCAL_ONLY: Final = frozenset(
    {"--connect-url", "--metrics-url", "--bootstrap", "-b", "--region", "--audit-log"}
)


def missing_tools(which: Callable[[str], str | None]) -> str | None:
    """One line naming what ECS Exec needs and is not installed, or ``None``."""
    missing = [f"{tool} ({where})" for tool, where in REQUIRED_TOOLS if which(tool) is None]
    if not missing:
        return None
    return (
        "--remote runs the command through ECS Exec, which needs "
        + " and ".join(missing)
        + " on this machine"
    )


def inner_args(args: Sequence[str]) -> list[str]:
    """The operator's arguments for the run inside the task: without ``--remote`` and without
    options that point at this machine (the task's defaults, localhost, apply there)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == REMOTE_FLAG:
            continue
        name = arg.split("=", 1)[0]
        if name in _LOCAL_ONLY:
            skip = "=" not in arg
            continue
        kept.append(arg)
    return kept


def task_order(task_arns: Sequence[str], names: StageNames) -> list[str]:
    """The tasks to try, in a stable order: any RUNNING task of the stage's service has an agent
    container and reaches the connector through its worker's REST API; a command that needs the
    connector's worker answers :data:`OTHER_TASK` elsewhere and the next one is tried."""
    if not task_arns:
        raise WmsError(
            f"no RUNNING task in service {names.service} of cluster {names.cluster}: is the stage deployed "
            "and up (`wms-connector status`)?"
        )
    return sorted(task_arns)


def choose_task(task_arns: Sequence[str], names: StageNames) -> str:
    """The first task of :func:`task_order`."""
    return task_order(task_arns, names)[0]


class ExitRelay:
    """Passes a session's output through, minus the exit marker line, and keeps the status.

    Output arrives in arbitrary chunks (a confirmation prompt has no newline), so text is passed
    on as soon as it cannot be the start of the marker."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._held = ""
        self.status: int | None = None

    def feed(self, chunk: str) -> None:
        text = self._held + chunk
        self._held = ""
        while text:
            at = text.find(EXIT_MARKER)
            if at < 0:
                cut = len(text) - _partial_marker_tail(text)
                # a line end just before may be the wrapper's own: held until it is known
                for ending in ("\r\n", "\n", "\r"):
                    if text[:cut].endswith(ending):
                        cut -= len(ending)
                        break
                self._write(text[:cut])
                self._held = text[cut:]
                return
            end = text.find("\n", at)
            if end < 0:
                self._write(_without_wrapper_newline(text[:at]))
                self._held = text[at:]
                return
            self._write(_without_wrapper_newline(text[:at]))
            value = text[at + len(EXIT_MARKER) : end].strip()
            if value.isdigit():
                self.status = int(value)
            text = text[end + 1 :]

    def close(self) -> int | None:
        """Flush what was held; the status, or ``None`` when no marker arrived."""
        at = self._held.find(EXIT_MARKER)
        if at >= 0:
            self._write(_without_wrapper_newline(self._held[:at]))
            value = self._held[at + len(EXIT_MARKER) :].strip()
            if value.isdigit():
                self.status = int(value)
        else:
            self._write(self._held)
        self._held = ""
        return self.status


def _partial_marker_tail(text: str) -> int:
    """How many characters at the end of ``text`` could begin the marker."""
    for size in range(min(len(EXIT_MARKER) - 1, len(text)), 0, -1):
        if EXIT_MARKER.startswith(text[-size:]):
            return size
    return 0


def _without_wrapper_newline(text: str) -> str:
    """The wrapper's own ``echo`` (so the marker starts a line) is not the command's output."""
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def exec_argv(names: StageNames, task_arn: str, args: Sequence[str], region: str | None) -> list[str]:
    """The ``aws ecs execute-command`` invocation that runs ``wms-connector <args>`` in the task's
    agent container (``--interactive`` is the only mode ECS Exec offers; it also lets the command
    ask its confirmation there)."""
    if not task_arn.strip():
        raise InputError("no task to run the command in")
    argv = [
        "aws",
        "ecs",
        "execute-command",
        "--cluster",
        names.cluster,
        "--task",
        task_arn,
        "--container",
        names.agent_container,
        "--interactive",
        "--command",
        # ECS Exec runs the command without a shell: sh relays the exit status (see above).
        shlex.join(["sh", "-c", _WRAPPER, "sh", "wms-connector", *args]),
    ]
    return argv + (["--region", region] if region else [])
