"""``status``: the connector, its tasks and workers, lag, restarts and the health verdict at a glance.

Reads a worker's REST API (``--connect-url``; through ECS Exec port forwarding in AWS), optionally
workers' JMX exporters (``--metrics-url``, repeatable: connection and lag) and an agent's
``/healthz`` (``--agent-url``: its restart record). The verdict is the agent's own policy
(``agent.policy.assess``). Exit 0 when healthy, 1 when not.

Only the exporter of the worker that runs the task has the task's metrics: a page is used only if
it carries Kafka Connect's ``connector-task-metrics`` status of this connector's task (Connect
registers them on the task's worker alone). Another worker's page would show no streaming MBean,
which reads as "disconnected"; it is reported as the wrong page instead, and the verdict falls
back to the REST status.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from wms_connector.agent.policy import (
    ConnectorStatus,
    Memory,
    Observation,
    Policy,
    Streaming,
    assess,
)
from wms_connector.commands import params
from wms_connector.commands.agent import AgentSource
from wms_connector.commands.common import (
    JsonOption,
    MetricsUrlsOption,
    StageOption,
    WorkerUrlOption,
    parse_stage,
)
from wms_connector.connect import exposition
from wms_connector.connect.rest import BackOff, ConnectRestError, ConnectUnreachableError, HttpConnectApi
from wms_connector.connect.rest_auth import credential_from_env
from wms_connector.errors import WmsError
from wms_connector.local import paths
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.state import ClusterState
from wms_connector.naming import names_for
from wms_connector.output import console, emit, err_console, markup, show_table, styled
from wms_connector.stages import settings_for


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        body = httpx.get(url, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


TASK_STATUS_METRIC = "kafka_connect_connector_task_status"


def runs_task(samples: Sequence[exposition.Sample], connector: str) -> bool:
    """The page is the exporter of the worker that runs one of ``connector``'s tasks."""
    return any(s.name == TASK_STATUS_METRIC and s.labels.get("connector") == connector for s in samples)


def collect(
    *,
    stage_name: str,
    source: AgentSource,
    connect_url: str,
    metrics_urls: Sequence[str],
    agent_url: str | None,
    now: float,
) -> dict[str, Any]:
    """Everything ``status`` shows, as the ``--json`` document."""
    stage = parse_stage(stage_name)
    names = names_for(stage)
    connector = names.standin_connector if source is AgentSource.STANDIN else names.connector
    api = HttpConnectApi(
        connect_url,
        timeout_s=10.0,
        backoff=BackOff(scale_ms=250, max_attempts=3),
        credential=credential_from_env(os.environ),
    )
    report: dict[str, Any] = {"stage": stage.name, "connector": connector, "connect_url": connect_url}
    try:
        root = api.root()
        listed = api.list_connectors()
    except (ConnectUnreachableError, ConnectRestError) as error:
        root, listed, report["error"] = None, {}, str(error)
    finally:
        api.close()
    entry = listed.get(connector) or {}
    status = ConnectorStatus.from_rest(entry["status"]) if entry.get("status") else None
    streaming, read, snapshot = None, False, False
    problems: list[str] = []
    for url in metrics_urls:
        try:
            samples = exposition.parse(httpx.get(url, timeout=5).text)
        except (httpx.HTTPError, exposition.ExpositionError) as error:
            problems.append(f"{url}: {error}")
            continue
        if not runs_task(samples, connector):
            holder = status.tasks[0].worker_id if status and status.tasks else "no worker"
            problems.append(f"{url} is not the exporter of the worker running the task ({holder})")
            continue
        read = True
        report["metrics_url"] = url
        streaming = Streaming.from_attributes(exposition.debezium(samples, server=names.topic_prefix))
        snap = exposition.debezium(samples, server=names.topic_prefix, context=exposition.SNAPSHOT)
        snapshot = snap.get("snapshotrunning", 0.0) >= 1.0
        break
    if problems and not read:
        report["metrics_error"] = "; ".join(problems)
    # With the exporter of the task's worker, judge as that worker's agent; else by status only.
    own = status.tasks[0].worker_id if (status and status.tasks and read) else ""
    observation = Observation(root is not None, status, read, streaming, snapshot)
    verdict = assess(observation, Memory(), own, now, Policy.from_settings(settings_for(stage)))
    report |= {
        "worker_version": (root or {}).get("version"),
        "state": status.state if status else None,
        "connector_worker": status.worker_id if status else None,
        "tasks": [
            {
                "id": t.id,
                "state": t.state,
                "worker": t.worker_id,
                "trace": t.trace.splitlines()[0] if t.trace else "",
            }
            for t in (status.tasks if status else ())
        ],
        "workers": sorted({t.worker_id for t in status.tasks} | {status.worker_id}) if status else [],
        "connected": None if streaming is None else streaming.connected,
        "lag_ms": None if streaming is None else streaming.ms_behind_source,
        "since_last_event_ms": None if streaming is None else streaming.ms_since_last_event,
        "agent": _get_json(f"{agent_url.rstrip('/')}/healthz") if agent_url else None,
        "verdict": verdict.verdict.value,
        "reason": verdict.reason,
        "healthy": verdict.healthy,
    }
    return report


def _render(data: dict[str, Any]) -> None:
    if "error" in data and data["state"] is None:
        # Nothing answered: no table of "None"s; the one line is the command's error (stderr).
        console.print(
            markup("[bold]{}[/] (stage {}): [red]{}[/]", data["connector"], data["stage"], data["verdict"])
        )
        return
    colour = "green" if data["healthy"] else "red"
    console.print(
        markup(
            f"[bold]{{}}[/] (stage {{}}): [{colour}]{{}}[/] - {{}}",
            *(data[key] for key in ("connector", "stage", "verdict", "reason")),
        )
    )
    table = Table(show_header=True)
    for column in ("what", "state", "worker", "detail"):
        table.add_column(column)
    table.add_row("connector", data["state"] or "-", data["connector_worker"] or "-", "")
    for task in data["tasks"]:
        table.add_row(f"task {task['id']}", task["state"], task["worker"], task["trace"])
    show_table(table)

    def shown(value: Any, unit: str = "") -> str:
        return "-" if value is None else f"{value:g}{unit}" if isinstance(value, float) else str(value)

    console.print(
        f"connected {shown(data['connected'])}, lag {shown(data['lag_ms'], ' ms')}, "
        f"since last event {shown(data['since_last_event_ms'], ' ms')}, "
        f"worker {data['worker_version']!s}"
    )
    agent = data.get("agent")
    if agent:
        console.print(
            f"agent: {agent.get('agent')!s}, restarts {agent.get('restart_count')} "
            f"({agent.get('restarts_in_window')} in the budget window), "
            f"last {shown(agent.get('last_restart'))}, "
            f"gate {agent.get('gate')!s}"
        )
        hold = agent.get("hold") or {}
        if hold.get("state") in ("held", "unknown"):
            held = hold.get("hold") or {}
            detail = (
                f"held by {held.get('by')!s} ({held.get('reason')!s}), {hold.get('remaining_s')!s} s left"
                if hold["state"] == "held"
                else f"hold unknown ({hold.get('problem')!s}): the agents only watch"
            )
            console.print(styled(f"hold: {detail}", "yellow"))
    if "metrics_error" in data:
        console.print(styled(f"metrics: {data['metrics_error']}", "yellow"))


def status_command(  # noqa: PLR0917 - typer maps each parameter to an option
    stage: StageOption,
    connect_url: WorkerUrlOption = None,
    metrics_url: MetricsUrlsOption = None,
    agent_url: Annotated[
        str | None, typer.Option("--agent-url", parser=params.http_url, help="an agent's base URL (/healthz)")
    ] = None,
    source: Annotated[
        AgentSource | None,
        typer.Option("--source", help="oracle or standin (default: standin on a local cluster)"),
    ] = None,
    as_json: JsonOption = False,
) -> int:
    """Connector, tasks, workers, lag, restarts and the health verdict; exit 0 healthy, 1 not.

    Without --connect-url, a local cluster running from the state directory is the target (its
    worker's REST API, every worker's exporter of which the task's is used, the stand-in connector)."""
    parse_stage(stage)  # bad input first
    local = running_local() if connect_url is None else None
    metrics = list(metrics_url or [])
    if local is not None:
        connect_url = local.rest_urls[0]
        source = source or AgentSource.STANDIN
        metrics = metrics or list(local.metrics_urls)
        err_console.print(
            f"the local cluster of {local_dir()} (stage {local.stage}): {connect_url}", soft_wrap=True
        )
    data = collect(
        stage_name=stage,
        source=source or AgentSource.ORACLE,
        connect_url=connect_url or DEFAULT_CONNECT_URL,
        metrics_urls=metrics,
        agent_url=agent_url,
        now=time.time(),
    )
    emit(data, as_json, _render)
    if "error" in data and data["state"] is None:
        raise WmsError(data["error"])
    return 0 if data["healthy"] else 1


#: What ECS Exec port forwarding gives (docs/operations.md), when no local cluster runs.
DEFAULT_CONNECT_URL = "http://localhost:8083"


def local_dir() -> Path:
    return paths.state_dir()


def running_local() -> ClusterState | None:
    """The local cluster running from the state directory, or ``None`` (nothing is started)."""
    try:
        directory = local_dir()
    except WmsError:  # not in a checkout and no WMS_LOCAL_STATE: there is no local cluster
        return None
    return LocalCluster(directory, paths.RuntimeLayout(directory)).running_state()


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
