"""``wms-connector local run``: the whole pipeline on this machine, shown live (``make run``)."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector import interrupts
from wms_connector.agent.loop import Agent
from wms_connector.agent.runner import BackgroundAgent
from wms_connector.commands import params
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.commands.audit import audit_standin, render_report
from wms_connector.commands.common import JsonOption, OfflineOption, SecretsFileOption
from wms_connector.commands.connector import SourceKind
from wms_connector.commands.local import DEFAULT_LOCAL_STAGE, local_app
from wms_connector.connect.connector_config import (
    ORACLE_PASSWORD_ENV,
    STANDIN_PASSWORD_ENV,
    OracleSource,
    PostgresStandIn,
    SourceAdapter,
)
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.connect.secret_refs import env_placeholder
from wms_connector.errors import WmsError
from wms_connector.kafka.client import LIBRDKAFKA_LOG
from wms_connector.local import paths, procs, runs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.demo import run_demo
from wms_connector.local.fetch import fetch
from wms_connector.local.java import find_java
from wms_connector.local.standin import LABEL, StandInPostgres
from wms_connector.local.state import load_state
from wms_connector.output import console, emit, err_console, show_table, status
from wms_connector.secrets.shapes import DB_INFO
from wms_connector.secrets.store import backend_for, resolve, resolve_password
from wms_connector.stages import Stage, settings_for


def _render_summary(data: dict[str, Any]) -> None:
    table = Table(title=f"change events read ({data['connector']})", show_header=True)
    table.add_column("topic")
    table.add_column("op")
    table.add_column("count", justify="right")
    for row in data["events"]:
        table.add_row(row["topic"], row["op"], str(row["count"]))
    show_table(table)
    if data.get("audit"):
        render_report(data["audit"])
    if data["latency"]:
        console.print(
            f"commit -> Kafka latency: p50 {data['latency']['p50_ms']} ms, p99 {data['latency']['p99_ms']} ms"
        )


def closing_audit(
    stage: Stage, bootstrap: str, standin: StandInPostgres, start_offsets: dict[str, dict[int, int]]
) -> dict[str, Any]:
    """The demo ends with the proof: the topics hold exactly what the stand-in holds."""
    with status("auditing the stand-in tables against their topics..."):
        report = audit_standin(
            stage, {"bootstrap.servers": bootstrap}, standin.conninfo(), start_offsets=start_offsets
        )
    return report.to_json()


def standin_agent(stage: Stage, state: Any, standin: StandInPostgres, worker_index: int = 0) -> Agent:
    """A connect-agent for one worker (index ``worker_index``, default 0) of a local cluster and its
    STAND-IN, as in an ECS task; its EMF lines and logs are dropped (the demo and the benchmarks
    print their own)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": state.bootstrap,
        "WMS_KAFKA_AUTH": "plaintext",
        "WMS_STANDIN_HOST": standin.host,
        "WMS_STANDIN_PORT": str(standin.port),
        "WMS_STANDIN_DB": standin.dbname,
        "WMS_STANDIN_USER": standin.user,
    }
    [worker] = [w for w in state.workers if w.index == worker_index]
    agent, _api = build_agent(
        stage_name=stage.name,
        source=AgentSource.STANDIN,
        connect_url=f"http://127.0.0.1:{worker.port}",
        metrics_url=f"http://127.0.0.1:{worker.metrics_port}/metrics",
        worker_id=f"127.0.0.1:{worker.port}",
        state_file=None,
        reconcile_enabled=True,
        env=env,
    )
    agent.emit = lambda _line: None
    agent.log = lambda _record: None
    return agent


def local_agent(stage: Stage, state: Any, standin: StandInPostgres) -> BackgroundAgent:
    """The connect-agent beside worker 0, on its own thread at the stage's poll."""
    return BackgroundAgent(
        standin_agent(stage, state, standin), settings_for(stage).agent_poll_interval_ms / 1000
    )


def _start_standin(directory: Path, password: str) -> tuple[StandInPostgres, PostgresStandIn]:
    """The STAND-IN PostgreSQL in ``directory`` (world-readable: its server runs as another user)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    with status(f"starting the {LABEL}..."):
        standin = StandInPostgres(directory, password=password).start()
    return standin, PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )


def run_command(  # noqa: PLR0917 - typer maps each parameter to an option
    seconds: Annotated[
        float,
        typer.Option(
            "--for",
            parser=params.seconds,
            metavar="SECONDS",
            help="stop after this many seconds (Ctrl-C stops earlier)",
        ),
    ] = 60.0,
    source: Annotated[SourceKind, typer.Option("--source", help="standin (local PostgreSQL) or oracle")] = (
        SourceKind.STANDIN
    ),
    stage: Annotated[
        str, typer.Option("--stage", "-s", help="stage the local workers run as")
    ] = DEFAULT_LOCAL_STAGE,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-n",
            parser=params.count,
            metavar="N",
            help="Connect workers (default: as many as already run, else 1)",
        ),
    ] = None,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Cluster + source + connector; shows change events live until --for or Ctrl-C, then stops it all.

    One run per state directory; a process underneath that dies (broker, worker, stand-in) ends
    the run within seconds with exit 1 and one line naming it and its log; Kafka client chatter
    goes to the run's log (logs/run.log), never to the terminal."""
    the_stage = Stage.parse(stage)
    env = dict(os.environ)
    adapter: SourceAdapter | None = None
    if source is SourceKind.ORACLE:
        backend = backend_for(secrets_file, offline)
        db = resolve(the_stage, DB_INFO, backend).value
        env[ORACLE_PASSWORD_ENV] = resolve_password(the_stage, db, backend).get_secret_value()
        # A local worker reads it from its environment (connect.secret_refs: local workers only).
        adapter = OracleSource(db, password_ref=env_placeholder(ORACLE_PASSWORD_ENV))
    else:
        env.setdefault(STANDIN_PASSWORD_ENV, secrets.token_urlsafe(18))
    state_dir = paths.state_dir()
    with runs.claim(state_dir, "local run"), _run_log(state_dir / "logs" / RUN_LOG):
        _run(the_stage, env, adapter, seconds=seconds, workers=workers, as_json=as_json)


#: The run's own log in the cluster's logs directory: what the Kafka clients say (librdkafka).
RUN_LOG = "run.log"


@contextmanager
def _run_log(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s %(message)s"))
    LIBRDKAFKA_LOG.addHandler(handler)
    try:
        yield
    finally:
        LIBRDKAFKA_LOG.removeHandler(handler)
        handler.close()


def watched(cluster_state: Any, standin: runs.StandInRecord | None) -> list[runs.Watched]:
    """What a run depends on: every broker (and controller), every worker, and the stand-in it started."""
    tag = cluster_state.tag

    def process(pid: int) -> Callable[[], bool]:
        return lambda: procs.is_ours(pid, tag)

    entries = [*cluster_state.nodes, *cluster_state.workers]
    items = [runs.Watched(e.name, e.pid, e.log, process(e.pid)) for e in entries]
    if standin is not None:
        items.append(
            runs.Watched(
                "stand-in PostgreSQL",
                standin.pid,
                standin.log,
                lambda: runs.same_process(standin.pid, standin.ticks),
            )
        )
    return items


def _start_cluster(cluster: LocalCluster, stage: Stage, workers: int, brokers: int) -> tuple[Any, bool]:
    """The cluster up for ``stage`` (``state``, whether this run started it)."""
    with status("starting the local cluster...") as progress:
        state, started = cluster.up(stage, workers, brokers=brokers, progress=progress)
        if not started:
            # Workers started earlier lack this run's password in their environment.
            progress("restarting the running workers with this run's environment...")
            for worker in state.workers:
                cluster.stop_worker(worker.index)
                cluster.start_worker(worker.index)
            state = cluster.state
    return state, started


def _run(
    the_stage: Stage,
    env: dict[str, str],
    adapter: SourceAdapter | None,
    *,
    seconds: float,
    workers: int | None,
    as_json: bool,
) -> None:
    with status("fetching the pinned jars (runtime/pom.xml)..."):
        jars = fetch(paths.pom_path(), paths.cache_dir())
    cluster = LocalCluster(paths.state_dir(), jars.layout, find_java(), env=env)
    running = cluster.running_state()
    # A running cluster is used with its brokers (e.g. `local up --brokers 3`), else one broker.
    brokers = len(running.brokers) if running is not None else 1
    if workers is None:
        # Use a cluster that already runs as it is (its worker count), else start one worker.
        workers = len(running.workers) if running is not None else 1
    standin_dir = paths.state_dir().parent / "standin"
    standin: StandInPostgres | None = None
    started_cluster = False
    watch: runs.Watch | None = None
    try:
        state, started_cluster = _start_cluster(cluster, the_stage, workers, brokers)
        record = None
        if adapter is None:
            # A stand-in an earlier run left (it was killed): stopped by its recorded identity.
            runs.stop_recorded_standin(cluster.state_dir)
            standin, adapter = _start_standin(standin_dir, env[STANDIN_PASSWORD_ENV])
            pid = standin.postmaster_pid()
            if pid is not None:
                record = runs.record_standin(cluster.state_dir, pid, standin.data_dir, standin.log_file)
        watch = runs.Watch(watched(state, record)).start()
        api = HttpConnectApi(state.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
        agent = local_agent(the_stage, state, standin) if standin is not None else None
        try:
            summary = run_demo(
                stage=the_stage,
                bootstrap=state.bootstrap,
                api=api,
                source=adapter,
                duration_s=seconds,
                # With --json, stdout holds only the JSON: the live lines go to stderr.
                console=err_console if as_json else console,
                standin=standin,
                agent=agent,
                broken=lambda: watch.failure if watch is not None else None,
            )
        finally:
            api.close()
            if agent is not None:
                agent.stop()
        if standin is not None and not summary.interrupted and watch.failure is None:
            summary.audit = closing_audit(the_stage, state.bootstrap, standin, summary.start_offsets)
        emit(summary.as_dict(), as_json, _render_summary)
        if watch.failure is not None:
            raise WmsError(watch.failure)
        if summary.interrupted:
            raise KeyboardInterrupt  # after the summary and the clean-up below: exit 130
    except (KeyboardInterrupt, Exception):
        # A process underneath died: that is the one line to show (the watch's interruption, or
        # the error it caused first, e.g. the Kafka client losing its broker), exit 1.
        failure = watch.settle() if watch is not None else None
        if failure is not None:
            raise WmsError(failure) from None
        raise
    finally:
        _shielded_clean_up(cluster, watch, standin, standin_dir, started_cluster=started_cluster)


def _shielded_clean_up(
    cluster: LocalCluster,
    watch: runs.Watch | None,
    standin: StandInPostgres | None,
    standin_dir: Path,
    *,
    started_cluster: bool,
) -> None:
    """:func:`_clean_up` with signals held off; an interruption landing just before the shield went
    up does not skip it (every step is idempotent: it runs again, then the interruption ends the run)."""
    try:
        with interrupts.shielded():
            _clean_up(cluster, watch, standin, standin_dir, started_cluster=started_cluster)
    except KeyboardInterrupt:
        with interrupts.shielded():
            _clean_up(cluster, watch, standin, standin_dir, started_cluster=started_cluster)
        raise


def _clean_up(
    cluster: LocalCluster,
    watch: runs.Watch | None,
    standin: StandInPostgres | None,
    standin_dir: Path,
    *,
    started_cluster: bool,
) -> None:
    """Stop what the run started; each step bounded, and each runs even if one before it fails."""
    if watch is not None:
        watch.stop()
    died = watch is not None and watch.failure is not None
    try:
        if standin is not None:
            try:
                standin.stop()
            except WmsError:
                # Its server died under the run (or will not stop): stop it by its recorded identity.
                runs.stop_recorded_standin(cluster.state_dir)
            runs.forget_standin(cluster.state_dir)
            shutil.rmtree(standin_dir, ignore_errors=True)
    finally:
        if started_cluster:
            with status("stopping the local cluster..."):
                recorded = load_state(cluster.state_dir)
                if died and recorded is not None:
                    # Workers whose broker is gone would wait for it before exiting: no grace.
                    for worker in recorded.workers:
                        cluster.kill_worker(worker.index)
                cluster.down()


def register(app: typer.Typer) -> None:
    local_app.command("run")(run_command)
