"""``wms-connector local ...``: the local Kafka broker + Connect workers from the pinned jars."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector.commands import params
from wms_connector.commands.common import JsonOption, parse_stage
from wms_connector.errors import InputError, WmsError
from wms_connector.local import paths, runs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import FetchResult, fetch
from wms_connector.local.java import find_java
from wms_connector.output import console, emit, err_console, markup, print_json, show_table, status

local_app = typer.Typer(
    help="Local runtime: a real Kafka broker (KRaft) and Kafka Connect workers on loopback ports.",
    no_args_is_help=True,
)

#: The stage a bare `local up` renders its workers for (an ephemeral stage: namespaced topics).
DEFAULT_LOCAL_STAGE = "local"


def _fetch(verify: bool = False) -> FetchResult:
    with status("fetching the pinned jars (runtime/pom.xml) with Maven..."):
        return fetch(paths.pom_path(), paths.cache_dir(), verify=verify)


def _cluster(result: FetchResult) -> LocalCluster:
    return LocalCluster(paths.state_dir(), result.layout, find_java())


def fetch_command(
    verify: Annotated[bool, typer.Option(help="re-hash every cached file against the manifest")] = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch (once) and verify the pinned jars into the project's cache."""
    result = _fetch(verify)
    data = {
        "dist": str(result.layout.root),
        "downloaded": result.downloaded,
        "files": result.files,
        "versions": result.versions,
    }

    def render(d: dict[str, Any]) -> None:
        how = "downloaded" if d["downloaded"] else "already cached"
        console.print(f"jars {how}: {d['files']} files in {d['dist']}")
        for name, version in d["versions"].items():
            console.print(f"  {name} {version}")

    emit(data, as_json, render)


def up_command(
    workers: Annotated[
        int,
        typer.Option("--workers", "-n", parser=params.count, metavar="N", help="Connect workers to start"),
    ] = 2,
    stage: Annotated[str, typer.Option("--stage", "-s", help="stage the workers are rendered for")] = (
        DEFAULT_LOCAL_STAGE
    ),
    broker_port: Annotated[
        int | None,
        typer.Option(parser=params.port, metavar="PORT", help="broker port (default: a free one)"),
    ] = None,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="a cluster already running here is fine: show it, start nothing")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start the local broker and workers and wait until healthy (one cluster per state directory)."""
    parsed = parse_stage(stage)
    if workers < 1:
        raise InputError(f"--workers must be at least 1 (got {workers})")
    runs.refuse_if_held(paths.state_dir())
    result = _fetch()
    cluster = _cluster(result)
    running = cluster.running_state()
    if running is not None and not reuse:
        raise WmsError(
            f"a local cluster already runs from {cluster.state_dir} (stage {running.stage}, "
            f"{len(running.workers)} worker(s), bootstrap {running.bootstrap}): pass --reuse to use it "
            "as it is, or stop it with `wms-connector local down`"
        )
    started = time.monotonic()
    with status("starting the local cluster...") as progress:
        state, fresh = cluster.up(parsed, workers, broker_port=broker_port, progress=progress)
    data = {
        "started": fresh,
        "seconds": round(time.monotonic() - started, 1),
        "stage": state.stage,
        "bootstrap": state.bootstrap,
        "rest_urls": state.rest_urls,
        "state_dir": str(cluster.state_dir),
    }

    def render(d: dict[str, Any]) -> None:
        verb = f"started in {d['seconds']} s" if d["started"] else "already running"
        console.print(markup("[green]local cluster {}[/] (stage {})", verb, d["stage"]))
        console.print(f"bootstrap: {d['bootstrap']}")
        for url in d["rest_urls"]:
            console.print(f"worker:    {url}")

    emit(data, as_json, render)


def status_command(as_json: JsonOption = False) -> None:
    """Processes, ports, worker ids, group membership and plugins of the local cluster."""
    cluster = LocalCluster(paths.state_dir(), paths.RuntimeLayout(paths.cache_dir() / "dist"))
    data = cluster.status()

    def render(d: dict[str, Any]) -> None:
        if "stage" not in d:
            console.print(f"no local cluster recorded in {d['state_dir']}")
            return
        state = "[green]running[/]" if d["running"] else "[red]degraded[/]"
        console.print(markup(f"local cluster {state}: stage {{}}, group {{}}", d["stage"], d["group_id"]))
        console.print(
            f"bootstrap {d['bootstrap']} (broker pid {d['broker']['pid']}, alive: {d['broker']['alive']})"
        )
        table = Table(title="Connect workers")
        for column in ("worker", "pid", "alive", "REST", "in group", "version", "plugins"):
            table.add_column(column)
        for w in d["workers"]:
            plugins = "\n".join(p.rsplit(".", 1)[-1] for p in w["plugins"])
            table.add_row(
                w["name"],
                str(w["pid"]),
                str(w["alive"]),
                w["rest_url"],
                str(w["in_group"]),
                w["version"] or "-",
                plugins,
            )
        show_table(table)

    emit(data, as_json, render)
    if data.get("unrecorded_pids"):
        raise WmsError(
            f"processes of a local cluster run from {data['state_dir']} without a readable state file "
            f"(pids {', '.join(map(str, data['unrecorded_pids']))}): `wms-connector local down` stops them"
        )
    if "stage" in data and not data["running"]:
        raise WmsError(
            "the local cluster is degraded (a process is down): `wms-connector local down` then `up`"
        )


def logs_command(
    name: Annotated[str | None, typer.Argument(help="broker, worker-0, worker-1, ... (default: all)")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    lines: Annotated[
        int, typer.Option("--lines", parser=params.count, metavar="N", help="lines from the end of each log")
    ] = 40,
) -> None:
    """Print the tail of the local processes' logs."""
    logs_dir = paths.state_dir() / "logs"
    files = sorted(logs_dir.glob("*.log")) if logs_dir.is_dir() else []
    if name is not None:
        files = [f for f in files if f.stem == name]
        if not files:
            have = ", ".join(f.stem for f in sorted(logs_dir.glob("*.log"))) if logs_dir.is_dir() else "none"
            raise InputError(f"no log named {name!r} in {logs_dir} (have: {have})")
    if not files:
        raise WmsError(f"no logs in {logs_dir}: start the cluster with `wms-connector local up`")
    for path in files:
        text = path.read_text(errors="replace").splitlines()[-lines:]
        for line in text:
            sys.stdout.write(f"{path.stem} | {line}\n")
    if follow:
        _follow(files)


def _follow(files: list[Path]) -> None:
    handles = {path: path.open(errors="replace") for path in files}
    for handle in handles.values():
        handle.seek(0, 2)
    try:
        while True:
            quiet = True
            for path, handle in handles.items():
                line = handle.readline()
                while line:
                    quiet = False
                    sys.stdout.write(f"{path.stem} | {line}")
                    line = handle.readline()
            sys.stdout.flush()
            if quiet:
                time.sleep(0.3)
    finally:
        for handle in handles.values():
            handle.close()


def down_command(
    wipe: Annotated[
        bool, typer.Option(help="also delete the broker's data, the logs and the configs")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Stop exactly the processes `local up` started (by pid); keep the data unless --wipe."""
    cluster = LocalCluster(paths.state_dir(), paths.RuntimeLayout(paths.cache_dir() / "dist"))
    holder = runs.current_holder(cluster.state_dir)
    if holder is not None and holder.pid > 0:
        note = f"{holder.describe()} uses this cluster: it will stop with an error"
        err_console.print(note, soft_wrap=True)
    with status("stopping the local cluster..."):
        # What a killed `local run` left beside the cluster, found by its recorded pid and start time.
        standin = runs.stop_recorded_standin(cluster.state_dir)
        stopped = cluster.down(wipe=wipe) + ([standin] if standin else [])
    if as_json:
        print_json({"stopped": stopped, "wiped": wipe})
        return
    if stopped:
        console.print(f"stopped {', '.join(stopped)}" + (" and wiped the data" if wipe else ""))
    else:
        console.print("nothing was running" + ("; wiped the data" if wipe else ""))


def register(app: typer.Typer) -> None:
    local_app.command("fetch")(fetch_command)
    local_app.command("up")(up_command)
    local_app.command("status")(status_command)
    local_app.command("logs")(logs_command)
    local_app.command("down")(down_command)
    app.add_typer(local_app, name="local")
