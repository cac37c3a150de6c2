"""What every ``ops`` command shares: its options, the target it acts on, the confirmation, the
``--remote`` run through ECS Exec and the one audit line (see ``wms_connector.operations``)."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from wms_connector.aws import client as aws_client
from wms_connector.aws import default_region
from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    KafkaAuthOption,
    StageOption,
    bootstrap_option,
    parse_stage,
)
from wms_connector.connect import exposition
from wms_connector.connect.rest import HttpConnectApi
from wms_connector.errors import InputError, WmsError
from wms_connector.hold.store import HoldStore, operator_identity
from wms_connector.kafka.client import default_auth
from wms_connector.naming import names_for
from wms_connector.operations import remote
from wms_connector.operations.audit import audit_line, audit_record
from wms_connector.operations.procedures import Exit, describe_steps
from wms_connector.operations.shell import Target, append_log
from wms_connector.output import console, err_console, print_json
from wms_connector.stages import KafkaAuth, settings_for

BOOTSTRAP_ENV: Final = "KAFKA_BOOTSTRAP_SERVERS"
#: Where the operations log goes (one JSON line per command), besides stderr.
LOG_ENV: Final = "WMS_OPS_LOG"
DEFAULT_CONNECT_URL: Final = "http://localhost:8083"
DEFAULT_METRICS_URL: Final = "http://localhost:9404/metrics"


def default_log_path() -> Path:
    explicit = os.environ.get(LOG_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "wms-connector" / "operations.log"


class OpsSource(StrEnum):
    ORACLE = "oracle"
    STANDIN = "standin"


class NotConfirmedError(WmsError):
    """The operator did not confirm a destructive step: nothing was changed."""

    exit_code = int(Exit.NOT_CONFIRMED)


StageOpt = StageOption
SourceOpt = Annotated[
    OpsSource, typer.Option("--source", help="whose connector: oracle (deployed) or standin (local)")
]
ConnectUrlOpt = Annotated[
    str,
    typer.Option(
        "--connect-url",
        parser=params.http_url,
        metavar="URL",
        help="Kafka Connect REST URL (a local worker, a forwarded port; the task's own with --remote)",
    ),
]
MetricsUrlOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metrics-url",
        parser=params.http_url,
        metavar="URL",
        help=f"a worker's JMX exporter page, once per worker (default {DEFAULT_METRICS_URL})",
    ),
]
BootstrapOpt = Annotated[str | None, bootstrap_option(f"Kafka bootstrap servers (default ${BOOTSTRAP_ENV})")]
AuthOpt = KafkaAuthOption
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region (ECS Exec, MSK IAM auth)")]
RemoteOpt = Annotated[
    bool,
    typer.Option(
        "--remote",
        help="run this command inside a task's agent container of the deployed stage (ECS Exec; needs "
        "the AWS CLI v2 and the Session Manager plugin)",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask before a destructive step (scripts)")]
JsonOpt = JsonOption
AuditLogOpt = Annotated[
    Path | None,
    typer.Option(
        "--audit-log",
        parser=params.new_file,
        metavar="FILE",
        help=f"append the audit line here (default ${LOG_ENV}, else "
        "~/.local/state/wms-connector/operations.log)",
    ),
]


@dataclass
class Common:
    """The options every ``ops`` command takes."""

    stage: str
    source: OpsSource
    connect_url: str
    metrics_urls: list[str] | None
    bootstrap: str | None
    auth: KafkaAuth | None
    region: str | None
    remote: bool
    as_json: bool
    audit_log: Path | None
    yes: bool = False


@dataclass
class Run:
    """One ``ops`` command being run: its target, its audit detail, its output."""

    command: str
    common: Common
    target: Target
    by: str
    started: float
    detail: dict[str, Any] = field(default_factory=dict)

    def say(self, line: str) -> None:
        """Progress for people (stderr, so --json's stdout stays the JSON)."""
        err_console.print(line, soft_wrap=True)

    def hold_store(self) -> HoldStore:
        bootstrap, auth = self.target.bootstrap, self.target.auth
        if not bootstrap or auth is None:
            raise InputError(
                f"missing --bootstrap: this procedure holds the agents through the hold topic "
                f"(or set {BOOTSTRAP_ENV})"
            )
        if not self.target.topic_exists(self.target.names.hold_topic):
            raise InputError(
                f"the hold topic {self.target.names.hold_topic} does not exist: "
                "`wms-connector topics create` first (the agents read it each cycle)"
            )
        return HoldStore(bootstrap, auth, self.target.names, region=self.target.region)

    def confirm(self, steps: list[str], question: str) -> None:
        """Show the steps; go on with --yes or a "yes" on a terminal, else nothing changes."""
        self.say("will do:")
        for line in describe_steps(steps):
            self.say(f"  {line}")
        if self.common.yes:
            return
        if not sys.stdin.isatty():
            raise NotConfirmedError(
                f"{question}: not confirmed (no terminal to ask on); pass --yes to go ahead"
            )
        if not typer.confirm(question, default=False, err=True):
            raise NotConfirmedError(f"{question}: declined; nothing was changed")


def build_target(common: Common) -> Target:
    stage = parse_stage(common.stage)
    names = names_for(stage)
    connector = names.standin_connector if common.source is OpsSource.STANDIN else names.connector
    servers = common.bootstrap or os.environ.get(BOOTSTRAP_ENV) or None
    auth = (common.auth or default_auth(settings_for(stage).kafka_auth, servers)) if servers else None
    return Target(
        stage=stage,
        names=names,
        source=common.source.value,
        connector=connector,
        api=HttpConnectApi(common.connect_url, timeout_s=30.0),
        bootstrap=servers,
        auth=auth,
        region=default_region(common.region) if auth is KafkaAuth.IAM else common.region,
        metrics_urls=tuple(common.metrics_urls or [DEFAULT_METRICS_URL]),
    )


def _result_of(code: int) -> str:
    return {0: "done", 1: "failed", 2: "refused", 3: "not-confirmed", 130: "interrupted"}.get(code, "failed")


@contextmanager
def operation(command: str, common: Common) -> Iterator[Run]:
    """Run one ``ops`` command: build its target, and whatever happens write its audit line
    (stderr as JSON, and the operations log)."""
    started = time.time()
    by = operator_identity()
    target = build_target(common)
    run = Run(command, common, target, by, started)
    code = 0
    try:
        yield run
    except WmsError as error:
        code = error.exit_code
        run.detail.setdefault("error", str(error))
        raise
    except KeyboardInterrupt:
        code = 130
        raise
    except Exception as error:
        code = 1
        run.detail.setdefault("error", f"unexpected {type(error).__name__}")
        raise
    finally:
        code = int(run.detail.pop("exit_code", code))
        record = audit_record(
            by=by,
            command=command,
            stage=target.stage.name,
            connector=target.connector,
            started=started,
            ended=time.time(),
            result=str(run.detail.pop("result", _result_of(code))),
            exit_code=code,
            detail=run.detail,
        )
        line = audit_line(record)
        err_console.print(f"audit: {line}", soft_wrap=True, highlight=False)
        problem = append_log(common.audit_log or default_log_path(), line)
        if problem:
            err_console.print(f"warning: {problem}", soft_wrap=True)
        target.api.close()  # type: ignore[attr-defined]
        target.close()


def finish(
    run: Run, data: dict[str, Any], render: Callable[[dict[str, Any]], None], code: Exit = Exit.OK
) -> int:
    payload = {
        "command": run.command,
        "stage": run.target.stage.name,
        "connector": run.target.connector,
    } | data
    run.detail["exit_code"] = int(code)
    if "result" in data:
        run.detail["result"] = data["result"]
    if run.common.as_json:
        print_json(payload)
    else:
        render(payload)
    return int(code)


def render_lines(data: dict[str, Any]) -> None:
    """The default rendering: the outcome and the state after, as plain text."""
    console.print(f"{data['command']}: {data.get('result', 'done')} ({data['connector']})")
    if data.get("message"):
        console.print(str(data["message"]), soft_wrap=True)
    after = data.get("state_after")
    if after:
        tasks = ", ".join(after.get("tasks", [])) or "no task"
        console.print(f"state after: connector {after['connector']}, task {tasks}")


# -- --remote --------------------------------------------------------------------------------------


def remote_args(ctx: typer.Context) -> list[str]:
    """This invocation's command path and explicitly given options, rebuilt from the parsed
    parameters (values are already validated)."""
    path = ctx.command_path.split()[1:]
    args: list[str] = [*path]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        source = ctx.get_parameter_source(param.name or "")
        if source is None or source.name == "DEFAULT" or value is None:
            continue
        if not param.opts[0].startswith("-"):
            args.extend(str(v) for v in (value if isinstance(value, list | tuple) else [value]))
            continue
        option = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            if value:
                args.append(option)
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            args += [option, str(item.value if isinstance(item, StrEnum) else item)]
    return args


class OtherTaskError(WmsError):
    """A --remote run landed in a task whose worker does not run the connector's task."""

    exit_code = remote.OTHER_TASK


def require_connector_worker(target: Target, environ: Mapping[str, str] = os.environ) -> None:
    """Inside a task (--remote), a command that follows the connector's Debezium metrics must run
    beside the worker that runs its task: the exporter is on loopback, so only that worker's page
    has them. Elsewhere: change nothing and answer OTHER_TASK (the operator's side tries the next
    task). Outside a task the command reads the --metrics-url pages it was given."""
    if environ.get(remote.IN_TASK_ENV) != "1":
        return
    if target.metrics(exposition.STREAMING) or target.metrics(exposition.SNAPSHOT):
        return
    raise OtherTaskError(
        "the connector's task does not run on this task's worker (its metrics are not on this "
        "task's exporter): nothing was changed"
    )


def relay_session(argv: list[str], write: Callable[[str], None] | None = None) -> int | None:
    """Run an ECS Exec session, pass its output through (minus the exit marker) as it comes, and
    return the command's exit status, or ``None`` when the session carried none back."""
    out = write or _write_stdout
    relay = remote.ExitRelay(out)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with subprocess.Popen(argv, stdout=subprocess.PIPE) as session:
        assert session.stdout is not None
        while chunk := os.read(session.stdout.fileno(), 4096):
            relay.feed(decoder.decode(chunk))
        session.wait()
    relay.feed(decoder.decode(b"", final=True))
    return relay.close()


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_remote(
    ctx: typer.Context,
    common: Common,
    *,
    which: Callable[[str], str | None] | None = None,
    run: Callable[[list[str]], int | None] | None = None,
) -> int:
    """Run this command inside a task's agent container through ECS Exec: in the first task, and
    in the next one while the command answers that the connector's task runs elsewhere."""
    missing = remote.missing_tools(which or shutil.which)
    if missing:
        raise InputError(missing)
    names = names_for(parse_stage(common.stage))
    region = default_region(common.region)
    ecs = aws_client("ecs", region)
    arns = ecs.list_tasks(cluster=names.cluster, serviceName=names.service, desiredStatus="RUNNING")[
        "taskArns"
    ]
    runner = run or relay_session
    tasks = remote.task_order(arns, names)
    inner = remote.inner_args(remote_args(ctx))
    for number, task in enumerate(tasks, start=1):
        argv = remote.exec_argv(names, task, inner, region)
        err_console.print(
            f"running in {names.agent_container} of {task.rsplit('/', 1)[-1]} through ECS Exec",
            soft_wrap=True,
        )
        status = runner(argv)
        if status is None:
            err_console.print(
                "error: the session ended without the command's exit status (ECS Exec returns none "
                "itself): it may or may not have run to the end; read its output above and the "
                f"session in {names.exec_log_group}",
                soft_wrap=True,
            )
            return int(Exit.FAILED)
        if status == remote.OTHER_TASK and number < len(tasks):
            err_console.print("the connector's task runs on another worker: trying the next task")
            continue
        return status
    return int(Exit.FAILED)  # pragma: no cover - the loop returns on its last task
