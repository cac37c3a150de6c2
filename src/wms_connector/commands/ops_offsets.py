"""``ops offsets show|reset|restore`` and ``ops recover-history``: the procedures that move or
rebuild the connector's position, each under the agents' hold."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from wms_connector.commands import params
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
    run_remote,
)
from wms_connector.connect import exposition
from wms_connector.errors import InputError
from wms_connector.operations import positions
from wms_connector.operations.procedures import (
    Exit,
    recovery_overrides,
    recovery_steps,
    recovery_verdict,
    reset_steps,
    reset_verdict,
    restore_steps,
)
from wms_connector.operations.shell import holding, write_offsets_file
from wms_connector.output import console

offsets_app = typer.Typer(
    name="offsets",
    help="The connector's position: show it, reset it to a new snapshot, restore a saved one.",
    no_args_is_help=True,
)
#: How long ``offsets reset`` waits for the new snapshot to show in the metrics.
SNAPSHOT_START_TIMEOUT_S = 120.0


# -- show ----------------------------------------------------------------------------------------


def _render_show(data: dict[str, Any]) -> None:
    render_lines(data)
    if not data["positions"]:
        console.print("no committed offset (a new connector, or offsets deleted)")
    for position in data["positions"]:
        shown = ", ".join(f"{k}={v}" for k, v in position["shown"].items())
        console.print(
            f"position: {shown}"
            + (f" (committed {position['committed_at']})" if position["committed_at"] else "")
        )
    figures = data["metrics"]
    if figures:
        console.print(", ".join(f"{k}={v:g}" for k, v in figures.items()))
    else:
        console.print("lag and open transactions: no exporter page answered (--metrics-url)")


@offsets_app.command("show")
def show_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    metrics_url: MetricsUrlOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """The connector's position (Oracle: scn, commit_scn; stand-in: lsn and its commit time), its
    lag behind the source and the age of the oldest open transaction (from the metrics)."""
    common = Common(stage, source, connect_url, metrics_url, None, None, region, remote, as_json, audit_log)
    if common.remote:
        return run_remote(ctx, common)
    with operation("offsets-show", common) as run:
        state = run.target.state()
        found = positions.positions(run.target.api.offsets(run.target.connector))
        figures = positions.metrics_view(run.target.metrics(exposition.STREAMING))
        data = {
            "result": "done",
            "state_after": state.to_json(),
            "positions": [p.to_json() for p in found],
            "metrics": figures,
        }
        return finish(run, data, _render_show)


# -- reset ---------------------------------------------------------------------------------------


def _default_save_path(connector: str) -> Path:
    return Path(f"offsets-{connector}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json")


def _wait_snapshot_started(run: Run, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = run.target.metrics(exposition.SNAPSHOT)
        if metrics.get("snapshotrunning") == 1:
            return "snapshot running"
        if metrics.get("snapshotcompleted") == 1:
            return "snapshot completed"
        run.target.sleep(0.5)
    return (
        "the snapshot did not show in the metrics (no exporter page answered?); check `wms-connector verify`"
    )


@offsets_app.command("reset")
def reset_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    to_snapshot: Annotated[
        bool, typer.Option("--to-snapshot", help="required: start again from a new snapshot of every table")
    ] = False,
    save_to: Annotated[
        Path | None,
        typer.Option(
            "--save-to",
            parser=params.new_file,
            metavar="FILE",
            help="where the current offsets are saved (never overwritten)",
        ),
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
    """The "offset SCN no longer in the logs" procedure: stop, save the offsets to a file, delete
    them, re-create the schema history topic from its spec, resume, wait for the new snapshot."""
    common = Common(
        stage, source, connect_url, metrics_url, bootstrap, auth, region, remote, as_json, audit_log, yes
    )
    if common.remote:
        return run_remote(ctx, common)
    with operation("offsets-reset", common) as run:
        if not to_snapshot:
            raise InputError(
                "offsets reset needs --to-snapshot (the only reset there is: a new snapshot of every table)"
            )
        target = run.target
        path = save_to or _default_save_path(target.connector)
        if path.exists():
            raise InputError(
                f"{path} exists: choose another --save-to (an offsets file is never overwritten)"
            )
        state = target.state()
        verdict = reset_verdict(state)
        if not verdict.go:
            raise InputError(f"offsets reset refused: {verdict.reason}")
        store = run.hold_store()
        run.detail |= {"save_to": str(path), "state_before": state.to_json()}
        run.confirm(
            reset_steps(target.names, target.connector, str(path)),
            f"reset {target.connector} to a new snapshot (re-creates {target.names.schema_history_topic})?",
        )
        done: list[str] = []
        try:
            with holding(
                store,
                target.connector,
                procedure="offsets reset",
                reason="offsets reset --to-snapshot",
                by=run.by,
                say=run.say,
                sleep=target.sleep,
            ):
                if state.connector != "STOPPED":
                    target.api.stop(target.connector)
                stopped = target.wait(lambda s: s.connector == "STOPPED", "STOPPED")
                done.append("stopped")
                answer = target.api.offsets(target.connector)
                write_offsets_file(
                    path,
                    positions.saved(target.stage.name, target.connector, answer, by=run.by, now=time.time()),
                )
                done.append(f"offsets saved to {path}")
                settled = target.settle_offsets(
                    lambda: target.api.delete_offsets(target.connector),
                    lambda: not target.committed_offsets(),
                    "the deletion of the offsets",
                )
                run.detail["offset_writes"] = settled.writes
                done.append("offsets deleted")
                topic = target.recreate_history_topic(stopped)
                run.detail["recreated_topic"] = topic
                done.append(f"{topic} re-created")
                target.api.resume(target.connector)
                after = target.wait(lambda s: s.running, "RUNNING")
                done.append("resumed")
                started = _wait_snapshot_started(run, SNAPSHOT_START_TIMEOUT_S)
                done.append(started)
        except Exception:
            run.detail["done"] = done
            run.say("done before the failure: " + ("; ".join(done) or "nothing"))
            raise
        run.detail["done"] = done
        data = {
            "result": "done",
            "steps_done": done,
            "saved_to": str(path),
            "state_after": after.to_json(),
            "message": started,
        }
        return finish(run, data, _render_steps)


def _render_steps(data: dict[str, Any]) -> None:
    render_lines(data)
    for step in data.get("steps_done", []):
        console.print(f"  - {step}")


# -- restore -------------------------------------------------------------------------------------


@offsets_app.command("restore")
def restore_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    file: Annotated[
        Path | None,
        typer.Argument(parser=params.existing_file, metavar="FILE", help="an offsets file saved by reset"),
    ] = None,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    bootstrap: BootstrapOpt = None,
    auth: AuthOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """Put a saved position back (KIP-875): stop, write the saved offsets, resume."""
    common = Common(
        stage, source, connect_url, None, bootstrap, auth, region, remote, as_json, audit_log, yes
    )
    if common.remote:
        return run_remote(ctx, common)
    with operation("offsets-restore", common) as run:
        target = run.target
        if file is None:
            raise InputError("name the offsets FILE to restore (as saved by `ops offsets reset`)")
        try:
            content = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(f"{file} is not a JSON offsets file") from None
        entries = positions.read_saved(
            content, stage=target.stage.name, connector=target.connector, source=str(file)
        )
        state = target.state()
        verdict = reset_verdict(state)
        if not verdict.go:
            raise InputError(f"offsets restore refused: {verdict.reason}")
        store = run.hold_store()
        run.detail |= {"file": str(file), "state_before": state.to_json()}
        run.confirm(
            restore_steps(target.connector, str(file), len(entries)), f"restore {target.connector} to {file}?"
        )
        with holding(
            store,
            target.connector,
            procedure="offsets restore",
            reason=f"offsets restore {file.name}",
            by=run.by,
            say=run.say,
            sleep=target.sleep,
        ):
            if state.connector != "STOPPED":
                target.api.stop(target.connector)
            target.wait(lambda s: s.connector == "STOPPED", "STOPPED")
            settled = target.settle_offsets(
                lambda: target.api.alter_offsets(target.connector, positions.alter_body(entries)),
                lambda: positions.same_positions(target.committed_offsets(), entries),
                f"the offsets of {file}",
            )
            run.detail["offset_writes"] = settled.writes
            target.api.resume(target.connector)
            after = target.wait(lambda s: s.running, "RUNNING")
        data = {"result": "done", "restored": len(entries), "state_after": after.to_json()}
        return finish(run, data, render_lines)


# -- recover-history -----------------------------------------------------------------------------


def recover_history_command(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    stage: StageOpt,
    source: SourceOpt = OpsSource.ORACLE,
    connect_url: ConnectUrlOpt = DEFAULT_CONNECT_URL,
    bootstrap: BootstrapOpt = None,
    auth: AuthOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    audit_log: AuditLogOpt = None,
) -> int:
    """Rebuild a lost schema history (snapshot.mode=recovery) under the agents' hold, then put the
    connector's config back as it was once the task RUNS. Only when no DDL ran on the captured
    tables since the connector last ran; otherwise `ops offsets reset --to-snapshot`."""
    common = Common(
        stage, source, connect_url, None, bootstrap, auth, region, remote, as_json, audit_log, yes
    )
    if common.remote:
        return run_remote(ctx, common)
    with operation("recover-history", common) as run:
        target = run.target
        state = target.state()
        live = target.config()
        overrides = recovery_overrides(target.source)
        verdict = recovery_verdict(state, live, overrides)
        if not verdict.go:
            raise InputError(f"recover-history refused: {verdict.reason}")
        store = run.hold_store()
        if not target.topic_exists(target.names.schema_history_topic):
            raise InputError(
                f"the schema history topic {target.names.schema_history_topic} does not exist: "
                "`wms-connector topics create` first (it creates it with its spec)"
            )
        run.detail |= {"overrides": overrides, "state_before": state.to_json()}
        run.confirm(
            recovery_steps(target.connector, overrides),
            f"run the schema history recovery on {target.connector}?",
        )
        with holding(
            store,
            target.connector,
            procedure="recover-history",
            reason="schema history recovery",
            by=run.by,
            say=run.say,
            sleep=target.sleep,
        ):
            target.api.put_config(target.connector, live | overrides)
            _wait_applied(run, live | overrides)
            target.api.put_config(target.connector, live)
            after = _wait_applied(run, live)
        data = {"result": "done", "state_after": after.to_json(), "message": "the config is back as it was"}
        return finish(run, data, render_lines)


def _wait_applied(run: Run, config: dict[str, str]) -> Any:
    """Wait until the stored config is ``config`` and the task has RUN for two reads in a row
    (right after a PUT the status may still show the previous task as RUNNING)."""
    target = run.target
    target.wait(lambda _s: all(target.config().get(k) == v for k, v in config.items()), "its new config")
    target.sleep(2.0)
    target.wait(lambda s: s.running, "RUNNING")
    target.sleep(1.0)
    return target.wait(lambda s: s.running, "RUNNING")


def register(app: typer.Typer) -> None:
    app.add_typer(offsets_app, name="offsets")
    app.command("recover-history")(recover_history_command)


__all__ = ["Exit", "register"]
