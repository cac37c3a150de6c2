"""``agent``: the connect-agent sidecar (reconcile, health, recovery, EMF metrics, /healthz)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer

from wms_connector.agent.desired import auth_from_env, desired_from_env
from wms_connector.agent.generation import stamp
from wms_connector.agent.identity import container_metadata, generation_inputs, own_worker_id
from wms_connector.agent.loop import Agent, json_log
from wms_connector.agent.policy import Policy
from wms_connector.agent.server import HealthServer
from wms_connector.agent.state import RecordFile
from wms_connector.aws import default_region
from wms_connector.commands import params
from wms_connector.commands.common import StageOption, parse_stage
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.errors import InputError
from wms_connector.hold.store import HoldStore
from wms_connector.kafka.client import default_auth
from wms_connector.naming import names_for
from wms_connector.stages import settings_for

DEFAULT_CONNECT_URL = "http://localhost:8083"
DEFAULT_METRICS_URL = "http://localhost:9404/metrics"
#: Where the ECS task mounts the agent's volume (infra/connect_service.py mounts it here).
DEFAULT_STATE_FILE = "/var/lib/wms-agent/restarts.json"
DEFAULT_HEALTHZ_PORT = 8084
#: /healthz fails when no cycle finished within this many poll periods.
HEALTHZ_MAX_CYCLES = 4


class AgentSource(StrEnum):
    ORACLE = "oracle"
    STANDIN = "standin"


def build_agent(
    *,
    stage_name: str,
    source: AgentSource,
    connect_url: str,
    metrics_url: str,
    worker_id: str | None,
    state_file: Path | None,
    reconcile_enabled: bool,
    env: Mapping[str, str],
    policy: Policy | None = None,
    generation_started: float | None = None,
    generation_revision: int | None = None,
    hold_enabled: bool = True,
) -> tuple[Agent, HttpConnectApi]:
    """The agent wired to its worker (the same wiring the command and the tests use).

    Its generation (see ``agent.generation``): from the ECS metadata inside a task, else the
    explicit values, else this process's start time and revision 0."""
    stage = parse_stage(stage_name)
    names = names_for(stage)
    connector, unstamped = desired_from_env(stage, source.value, env)
    metadata = container_metadata(env)
    started, revision = generation_inputs(metadata) if metadata is not None else (time.time(), 0)
    desired, generation = stamp(
        unstamped,
        started=started if generation_started is None else generation_started,
        revision=revision if generation_revision is None else generation_revision,
    )
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    holds = (
        HoldStore(
            bootstrap,
            default_auth(auth_from_env(stage, env), bootstrap),
            names,
            region=default_region(None, env),
        )
        if hold_enabled
        else None
    )
    api = HttpConnectApi(connect_url, timeout_s=30.0, backoff=BackOff(scale_ms=250, max_attempts=4))
    port = httpx.URL(connect_url).port or 8083
    http = httpx.Client(timeout=5.0)

    def scrape() -> str:
        response = http.get(metrics_url)
        response.raise_for_status()
        return response.text

    agent = Agent(
        api=api,
        scrape=scrape,
        names=names,
        connector=connector,
        desired=desired,
        own_worker=own_worker_id(env, port, worker_id),
        policy=policy or Policy.from_settings(settings_for(stage)),
        record_file=RecordFile(state_file) if state_file is not None else None,
        reconcile_enabled=reconcile_enabled,
        hold=(lambda: holds.current(connector)) if holds is not None else None,
        generation=generation,
    )
    return agent, api


def agent_command(  # noqa: PLR0917 - typer maps each parameter to an option
    stage: StageOption,
    source: Annotated[
        AgentSource, typer.Option("--source", help="oracle (ECS) or standin (the local STAND-IN)")
    ] = AgentSource.ORACLE,
    connect_url: Annotated[
        str, typer.Option("--connect-url", parser=params.http_url, help="its own worker's REST API")
    ] = (DEFAULT_CONNECT_URL),
    metrics_url: Annotated[
        str, typer.Option("--metrics-url", parser=params.http_url, help="its worker's JMX exporter")
    ] = (DEFAULT_METRICS_URL),
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--worker-id",
            parser=params.bootstrap,
            help="the worker's advertised host:port (default: from ECS metadata)",
        ),
    ] = None,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state-file", parser=params.new_file, help="restart record kept across agent restarts"
        ),
    ] = None,
    poll: Annotated[
        float | None,
        typer.Option("--poll", parser=params.seconds, help="seconds between cycles (default: the stage's)"),
    ] = None,
    healthz_port: Annotated[
        int,
        typer.Option(
            "--healthz-port", parser=params.port_or_zero, help="port of /healthz (0: any free port)"
        ),
    ] = DEFAULT_HEALTHZ_PORT,
    healthz_host: Annotated[str, typer.Option("--healthz-host", parser=params.host)] = "127.0.0.1",
    no_reconcile: Annotated[
        bool, typer.Option("--no-reconcile", help="watch and heal only; never create or change the config")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="run one cycle, print its EMF line, exit")] = False,
    generation_started: Annotated[
        float | None,
        typer.Option(
            "--generation-started",
            parser=params.seconds,
            help="outside ECS: this task's start (epoch s) that orders config generations (default: now)",
        ),
    ] = None,
    generation_revision: Annotated[
        int | None,
        typer.Option(
            "--generation-revision",
            parser=params.not_negative,
            help="outside ECS: the revision shown in the config's generation stamp (default 0)",
        ),
    ] = None,
) -> int:
    """Keep this task's connector registered, healthy and measured (runs until SIGTERM)."""
    if poll is not None and poll <= 0:
        raise InputError(f"--poll must be positive seconds (got {poll:g})")
    env = dict(os.environ)
    agent, api = build_agent(
        stage_name=stage,
        source=source,
        connect_url=connect_url,
        metrics_url=metrics_url,
        worker_id=worker_id,
        state_file=state_file
        or (Path(DEFAULT_STATE_FILE) if "ECS_CONTAINER_METADATA_URI_V4" in env else None),
        reconcile_enabled=not no_reconcile,
        env=env,
        generation_started=generation_started,
        generation_revision=generation_revision,
    )
    poll_s = poll if poll is not None else settings_for(agent.names.stage).agent_poll_interval_ms / 1000
    try:
        if once:
            report = agent.cycle()
            return 0 if report.decision.assessment.healthy else 1
        stop = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            json_log({"level": "info", "event": "stopping", "signal": signal.Signals(signum).name})
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        server = HealthServer(healthz_host, healthz_port, lambda: agent.last, HEALTHZ_MAX_CYCLES * poll_s)
        server.start()
        json_log(
            {
                "level": "info",
                "event": "started",
                "stage": agent.names.stage.name,
                "connector": agent.connector,
                "worker": agent.own_worker,
                "generation": agent.generation.render() if agent.generation else None,
                "poll_s": poll_s,
                "healthz_port": server.port,
            }
        )
        try:
            agent.run(stop, poll_s)
        finally:
            server.stop()
        return 0
    finally:
        api.close()


def register(app: typer.Typer) -> None:
    app.command("agent")(agent_command)
