"""``--remote``: the same command run inside a deployed task's **agent** container (pure).

The agent container holds no password (the Oracle password lives only in the Connect container's
environment), reaches the worker's REST API and exporter on ``localhost`` (the task's shared
network namespace) and has ``KAFKA_BOOTSTRAP_SERVERS`` set. ECS Exec runs a command there through
Systems Manager, which needs the AWS CLI v2 and the Session Manager plugin on the operator's
machine; every session is recorded in the stage's exec log group.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Final

from wms_connector.errors import InputError, WmsError
from wms_connector.naming import StageNames

REMOTE_FLAG: Final = "--remote"
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


def choose_task(task_arns: Sequence[str], names: StageNames) -> str:
    """The task to run in: any RUNNING task of the stage's service (each has an agent container
    and reaches the connector through its worker's REST API); the first in a stable order."""
    if not task_arns:
        raise WmsError(
            f"no RUNNING task in service {names.service} of cluster {names.cluster}: is the stage deployed "
            "and up (`wms-connector status`)?"
        )
    return sorted(task_arns)[0]


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
        shlex.join(["wms-connector", *args]),
    ]
    return argv + (["--region", region] if region else [])
