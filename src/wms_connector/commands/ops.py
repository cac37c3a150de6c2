"""``ops``: day-2 operations on a running stage's connector, with guard rails.

Every command validates before it changes anything, shows what it will do, asks before anything
destructive (``--yes`` for scripts), holds the agents for multi-step procedures, writes one audit
line and runs in the deployed task's agent container with ``--remote``. Exit codes: 0 done (or
nothing to do), 1 failed part-way (what was done is printed; a hold is kept until it expires),
2 bad input or refused before any change, 3 not confirmed (nothing changed), 130 interrupted.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from wms_connector.commands import ops_offsets, params
from wms_connector.commands.ops_common import (
    DEFAULT_CONNECT_URL,
    AuditLogOpt,
    AuthOpt,
    BootstrapOpt,
    Common,
    ConnectUrlOpt,
    JsonOpt,
    MetricsUrlOpt,
    OpsSource,
    RegionOpt,
    RemoteOpt,
    Run,
    SourceOpt,
    StageOpt,
    YesOpt,
    finish,
    operation,
    render_lines,
    require_connector_worker,
    run_remote,
)
from wms_connector.connect import exposition
from wms_connector.connect.connector_config import ORACLE_CONNECTOR_CLASS
from wms_connector.errors import InputError, WmsError
from wms_connector.operations import signals
from wms_connector.operations.procedures import (
    TARGET_STATE,
    Action,
    Exit,
    lifecycle_verdict,
    streaming_verdict,
)
from wms_connector.operations.shell import new_signal_id
from wms_connector.operations.tables import catalog, resolve_tables
from wms_connector.output import console

ops_app = typer.Typer(
    name="ops",
    help="Day-2 operations on a stage's connector: stop/resume/pause/restart, snapshot tables, "
    "offsets (show, reset to a new snapshot, restore), schema-history recovery, drop a stuck "
    "transaction. Exit codes: 0 done, 1 failed part-way, 2 bad input or refused (nothing changed), "
    "3 not confirmed (nothing changed), 130 interrupted. One audit line per command (stderr and "
    "the operations log).",
    no_args_is_help=True,
)

#: How long a snapshot --follow waits for the snapshot to finish, by default.
FOLLOW_TIMEOUT_S = 3600.0


# -- stop / resume / pause / restart ---------------------------------------------------------------


def _lifecycle(ctx: typer.Context, action: Action, common: Common, *, failed_only: bool = False) -> int:
    if common.remote:
        return run_remote(ctx, common)
    with operation(action.value, common) as run:
        before = run.target.state()
        verdict = lifecycle_verdict(action, before)
        run.detail["state_before"] = before.to_json()
        if verdict.already:
            return finish(
                run,
                {"result": "nothing to do", "message": verdict.reason, "state_after": before.to_json()},
                render_lines,
            )
        if not verdict.go:
            raise InputError(f"{action.value} refused: {verdict.reason}")
        api, name = run.target.api, run.target.connector
        {
            Action.STOP: lambda: api.stop(name),
            Action.RESUME: lambda: api.resume(name),
            Action.PAUSE: lambda: api.pause(name),
            Action.RESTART: lambda: api.restart(name, include_tasks=True, only_failed=failed_only),
        }[action]()
        want = TARGET_STATE[action]
        if want == "RUNNING":
            after = run.target.wait(lambda s: s.running, "RUNNING (connector and task)")
        else:
            after = run.target.wait(lambda s: s.connector == want and all(t == want for t in s.tasks), want)
        return finish(
            run,
            {"result": "done", "state_before": before.to_json(), "state_after": after.to_json()},
            render_lines,
        )


def _lifecycle_command(action: Action, doc: str) -> Any:
    def command(  # noqa: PLR0917 - typer maps each parameter to an option
        ctx: typer.Context,
        stage: StageOpt,
        source: SourceOpt = OpsSource.ORACLE,
        connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
        bootstrap: BootstrapOpt = None,
        auth: AuthOpt = None,
        region: RegionOpt = None,
        remote: RemoteOpt = False,
        as_json: JsonOpt = False,
        audit_log: AuditLogOpt = None,
    ) -> int:
        common = Common(stage, source, connect_url, None, bootstrap, auth, region, remote, as_json, audit_log)
        return _lifecycle(ctx, action, common)

    command.__doc__ = doc
    command.__name__ = f"{action.value}_command"
    return command


def restart_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    failed_only: Annotated[bool, typer.Option("--failed-only", help="restart only what FAILED")] = False,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    bootstrap: BootstrapOpt = None,
    auth: AuthOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """Restart the connector and its task (Oracle re-mines every open transaction from its start);
    refused for a STOPPED or PAUSED connector (resume it). Shows the state after."""
    common = Common(stage, source, connect_url, None, bootstrap, auth, region, remote, as_json, audit_log)
    return _lifecycle(ctx, Action.RESTART, common, failed_only=failed_only)


# -- snapshot ------------------------------------------------------------------------------------


def _snapshot_render(data: dict[str, Any]) -> None:
    render_lines(data)
    for row in data.get("progress", []):
        console.print(f"  {row}")


def _progress_line(metrics: dict[str, float]) -> str:
    keys = (
        "snapshotrunning",
        "snapshotcompleted",
        "totaltablecount",
        "remainingtablecount",
        "totalnumberofeventsseen",
    )
    return ", ".join(f"{k}={metrics[k]:g}" for k in keys if k in metrics)


def _follow(run: Run, baseline: dict[str, float], timeout_s: float) -> tuple[bool, list[str]]:
    """Follow the snapshot MBean until the snapshot signalled now has completed."""
    seen_running = False
    lines: list[str] = []
    last = ""
    deadline = time.monotonic() + timeout_s
    watched = ("totaltablecount", "snapshotdurationinseconds", "totalnumberofeventsseen")
    while time.monotonic() < deadline:
        now = run.target.metrics(exposition.SNAPSHOT)
        line = _progress_line(now)
        if line and line != last:
            run.say(f"snapshot: {line}")
            lines.append(line)
            last = line
        seen_running = seen_running or now.get("snapshotrunning") == 1
        changed = any(now.get(k) != baseline.get(k) for k in watched)
        if (
            now.get("snapshotcompleted") == 1
            and now.get("snapshotrunning") == 0
            and (seen_running or changed)
        ):
            return True, lines
        if now.get("snapshotaborted") == 1 and (seen_running or changed):
            return False, lines
        run.target.sleep(0.5)
    return False, lines


@ops_app.command("snapshot")
def snapshot_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    tables: Annotated[
        list[str] | None, typer.Argument(metavar="SCHEMA.TABLE...", help="captured tables to re-read")
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="incremental (chunked, streaming never pauses) instead of blocking; needs the source "
            "signal table and signal.data.collection",
        ),
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="show progress until the snapshot is done")
    ] = False,
    stop: Annotated[
        bool, typer.Option("--stop", help="stop a running snapshot of these tables instead")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", parser=params.seconds, help="--follow gives up after this many seconds"),
    ] = FOLLOW_TIMEOUT_S,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    metrics_url: MetricsUrlOpt = None,
    bootstrap: BootstrapOpt = None,
    auth: AuthOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """Re-read TABLES while the stage keeps running: a blocking snapshot through the Kafka signal
    channel (streaming pauses while the tables are read, then resumes; consumers receive each row
    again as op=r). --stop stops one that is running."""
    common = Common(
        stage, source, connect_url, metrics_url, bootstrap, auth, region, remote, as_json, audit_log
    )
    if common.remote:
        return run_remote(ctx, common)
    kind = signals.SnapshotKind.INCREMENTAL if incremental else signals.SnapshotKind.BLOCKING
    with operation("stop-snapshot" if stop else "snapshot", common) as run:
        run.detail["asked"] = list(tables or [])
        chosen = resolve_tables(tables or [])
        run.detail |= {"tables": [t.qualified for t in chosen], "kind": kind.value}
        target = run.target
        state = target.state()
        verdict = streaming_verdict(Action.STOP_SNAPSHOT if stop else Action.SNAPSHOT, state)
        if not verdict.go:
            raise InputError(verdict.reason)
        config = target.config()
        if incremental:
            refusal = signals.incremental_refusal(config)
            if refusal:
                raise InputError(refusal)
        if not target.topic_exists(target.names.signal_topic):
            raise InputError(
                f"the signal topic {target.names.signal_topic} does not exist: create the stage's topics "
                "(`wms-connector topics create`) first"
            )
        if follow and not stop:
            require_connector_worker(target)
        catalog_name = catalog(target.source, config)
        build = signals.stop_snapshot if stop else signals.execute_snapshot
        signal = build(target.names, chosen, catalog_name, kind, new_signal_id())
        run.detail["signal"] = signal.to_json()
        baseline = target.metrics(exposition.SNAPSHOT) if follow else {}
        run.say(
            f"sending {signal.type} ({kind.value}) for {', '.join(t.qualified for t in chosen)} "
            f"to {signal.topic}"
        )
        target.send(signal)
        data: dict[str, Any] = {
            "result": "signal sent",
            "signal": signal.to_json(),
            "state_after": target.state().to_json(),
        }
        if follow and not stop:
            done, lines = _follow(run, baseline, timeout)
            data["progress"] = lines
            data["result"] = "completed" if done else "not seen completing"
            if not done:
                data["message"] = (
                    f"the snapshot was not seen completing within {timeout:g} s on "
                    f"{', '.join(target.metrics_urls)}; "
                    "check the worker log"
                )
                return finish(run, data, _snapshot_render, Exit.FAILED)
        return finish(run, data, _snapshot_render)


# -- drop-transaction ----------------------------------------------------------------------------


@ops_app.command("drop-transaction")
def drop_transaction_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    txid: Annotated[
        str | None, typer.Argument(metavar="TXID", help="the LogMiner transaction id (16 hex digits)")
    ] = None,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    metrics_url: MetricsUrlOpt = None,
    bootstrap: BootstrapOpt = None,
    auth: AuthOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """Abandon a stuck transaction in the connector's LogMiner buffer (Debezium's drop-transaction
    signal): its changes are never emitted. Shows the oldest open transaction's age first."""
    common = Common(
        stage, source, connect_url, metrics_url, bootstrap, auth, region, remote, as_json, audit_log, yes
    )
    if common.remote:
        return run_remote(ctx, common)
    with operation("drop-transaction", common) as run:
        transaction = signals.transaction_id(txid or "")
        run.detail["transaction"] = transaction
        target = run.target
        config = target.config()
        version = target.plugin_version(ORACLE_CONNECTOR_CLASS) if target.source == "oracle" else None
        refusal = signals.drop_transaction_refusal(target.source, version, config)
        if refusal:
            raise InputError(f"drop-transaction refused: {refusal}")
        verdict = streaming_verdict(Action.DROP_TRANSACTION, target.state())
        if not verdict.go:
            raise InputError(verdict.reason)
        if not target.topic_exists(target.names.signal_topic):
            raise InputError(f"the signal topic {target.names.signal_topic} does not exist")
        streaming = target.metrics(exposition.STREAMING)
        age = streaming.get("oldestscnageinmilliseconds")
        shown = f"{age / 60000:.1f} min" if age is not None else "unknown (no exporter page answered)"
        run.detail["oldest_open_transaction_age_ms"] = age
        signal = signals.drop_transaction(target.names, transaction, new_signal_id())
        run.confirm(
            [
                f"the oldest open transaction is {shown} old "
                f"({streaming.get('numberofactivetransactions', '?')} open)",
                f"send drop-transaction {transaction} to {signal.topic}: its changes are discarded, "
                "never emitted",
            ],
            f"drop transaction {transaction} on {target.connector}?",
        )
        target.send(signal)
        run.detail["signal"] = signal.to_json()
        data = {
            "result": "signal sent",
            "message": "Debezium logs whether it found and dropped the transaction (worker log)",
            "signal": signal.to_json(),
            "state_after": target.state().to_json(),
        }
        return finish(run, data, render_lines)


def register(app: typer.Typer) -> None:
    for action, doc in (
        (Action.STOP, "Stop the connector (KIP-980 STOPPED: no task, offsets kept); shows the state after."),
        (Action.RESUME, "Resume a STOPPED or PAUSED connector; waits until its task RUNS."),
        (Action.PAUSE, "Pause the connector (its task stays assigned, reads nothing)."),
    ):
        ops_app.command(action.value)(_lifecycle_command(action, doc))
    ops_app.command("restart")(restart_command)
    ops_offsets.register(ops_app)
    app.add_typer(ops_app, name="ops")


__all__ = ["WmsError", "register"]
