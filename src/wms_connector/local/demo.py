"""``wms-connector local run``: the pipeline end to end on this machine, shown live.

Given a running local cluster (broker + Connect workers), this starts the STAND-IN PostgreSQL,
creates the topics, registers the stand-in connector through ``connect.rest.reconcile``, runs the
demo workload in a background thread and prints each change event as it arrives in Kafka
(operation, key, what changed, commit-to-Kafka latency) until the time is up or Ctrl-C. It then
deletes the connector and stops the stand-in (the caller stops the cluster it started).

With ``--source oracle`` the real Oracle connector is registered instead (password through
``${env:ORACLE_PASSWORD}`` in the workers' environment), and no workload runs: the changes are the
database's own.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from wms_connector.agent.runner import BackgroundAgent
from wms_connector.audit.topic import end_offsets
from wms_connector.connect.connector_config import SourceAdapter
from wms_connector.connect.rest import ConnectApi, ConnectRestError
from wms_connector.local.events import ChangeEvent, percentile
from wms_connector.local.pipeline import (
    EventTail,
    ensure_local_topics,
    register,
    register_fresh,
    wait_running,
)
from wms_connector.local.standin import LABEL, StandInPostgres
from wms_connector.local.workload import apply, demo_steps
from wms_connector.naming import names_for
from wms_connector.output import markup, styled
from wms_connector.stages import Stage

#: Seconds between two demo changes: slow enough to follow on screen.
DEMO_PAUSE_S = 0.25
#: A new round of demo changes (fresh keys) starts this often while the run lasts.
ROUND_EVERY_S = 15.0
#: The agent's status line is shown this often.
AGENT_LINE_EVERY_S = 10.0


@dataclass
class DemoSummary:
    events: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    changes_applied: int = 0
    connector: str = ""
    action: str = ""
    #: Ctrl-C ended the run before its --for elapsed.
    interrupted: bool = False
    #: Stand-in only: each data topic's end offsets before the fresh database's connector started
    #: (an earlier run's records lie before them), where the closing audit folds from.
    start_offsets: dict[str, dict[int, int]] = field(default_factory=dict)
    #: The closing audit (``audit.run.AuditReport.to_json``), stand-in runs that ended normally.
    audit: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        latency = (
            {"p50_ms": percentile(self.latencies_ms, 0.5), "p99_ms": percentile(self.latencies_ms, 0.99)}
            if self.latencies_ms
            else {}
        )
        return {
            "connector": self.connector,
            "registration": self.action,
            "changes_applied": self.changes_applied,
            "events": [{"topic": t, "op": o, "count": n} for (t, o), n in sorted(self.events.items())],
            "latency": latency,
            "interrupted": self.interrupted,
            "audit": self.audit,
        }


def _workload(standin: StandInPostgres, stop: threading.Event, summary: DemoSummary) -> None:
    first_key = 1
    with standin.connect() as conn:
        while not stop.is_set():
            started = time.monotonic()
            for change in demo_steps(rows_per_table=3, first_key=first_key):
                if stop.is_set():
                    return
                apply(conn, change)
                summary.changes_applied += 1
                stop.wait(DEMO_PAUSE_S)
            first_key += 100
            stop.wait(max(0.0, ROUND_EVERY_S - (time.monotonic() - started)))


def print_event(console: Console, event: ChangeEvent, *, standin: bool) -> None:
    latency = f"{event.latency_ms} ms" if event.latency_ms is not None else ""
    tag = "[dim]stand-in[/] " if standin else ""
    op = "tombstone" if event.op == "tombstone" else event.op_name
    colour = {"insert": "green", "update": "yellow", "delete": "red", "snapshot": "cyan"}.get(op, "dim")
    # Keys and values are the database's data: "[/x]" in a column must print, not raise MarkupError.
    console.print(
        markup(
            f"{tag}[bold]{{}}[/] [{colour}]{{}}[/] {{}} {{}}  {{}}",
            event.topic,
            f"{op:9}",
            f"{event.key_text:24}",
            f"{latency:>8}",
            event.summary(),
        ),
        soft_wrap=True,
    )


def _register_fresh_standin(
    api: ConnectApi, stage: Stage, source: SourceAdapter, bootstrap: str
) -> dict[str, dict[int, int]]:
    """Register the connector of a fresh stand-in database (forgetting the offsets an earlier run
    left under its name); returns each data topic's end offsets before it started: the closing
    audit folds this database's history only, from there."""
    client = {"bootstrap.servers": bootstrap}
    start = {t: end_offsets(client, t) for t in names_for(stage).data_topics.values()}
    register_fresh(api, stage, source, bootstrap)
    return start


def run_demo(
    *,
    stage: Stage,
    bootstrap: str,
    api: ConnectApi,
    source: SourceAdapter,
    duration_s: float,
    console: Console,
    standin: StandInPostgres | None = None,
    keep_connector: bool = False,
    clock: Callable[[], float] = time.monotonic,
    agent: BackgroundAgent | None = None,
    broken: Callable[[], str | None] = lambda: None,
) -> DemoSummary:
    """Register ``source``'s connector, drive the demo workload (stand-in only), show events.

    ``broken`` says (one line) when a process underneath died (``local.runs.Watch``): the
    connector is then left for the caller's clean-up, since Connect cannot delete it without its
    broker (the REST call would wait for its 90 s timeout, and retry)."""
    names = names_for(stage)
    summary = DemoSummary(connector=source.connector_name(names))
    if standin is not None:
        console.print(markup("[bold magenta]{}[/] on 127.0.0.1:{}", LABEL, standin.port))
    created = ensure_local_topics(bootstrap, stage)
    if created:
        console.print(f"created {len(created)} topic(s) on the local broker")
    if standin is not None:
        summary.start_offsets = _register_fresh_standin(api, stage, source, bootstrap)
        console.print(
            markup("connector [bold]{}[/]: created (offsets of earlier runs reset)", summary.connector)
        )
    result = register(api, stage, source, bootstrap)
    # After a fresh registration the reconcile finds it equal: what this run did was create it.
    summary.action = "created" if standin is not None else result.action.value
    console.print(markup("connector [bold]{}[/]: reconcile -> {}", result.name, result.action.value))
    wait_running(api, result.name)
    console.print("connector and task RUNNING; change events (topic, operation, key, latency, what changed):")
    # A fresh stand-in writes only after this point; a real Oracle snapshots at once: read it all.
    tail = EventTail(bootstrap, list(names.data_topics.values()), from_now=standin is not None)
    stop = threading.Event()
    worker = None
    if standin is not None:
        worker = threading.Thread(target=_workload, args=(standin, stop, summary), daemon=True)
        worker.start()
    if agent is not None:
        # Started once the connector runs: it watches, heals and measures it beside the workers.
        agent.start()
    deadline = clock() + duration_s
    next_line = clock() + AGENT_LINE_EVERY_S / 2
    try:
        while clock() < deadline:
            if agent is not None and clock() >= next_line:
                console.print(styled(agent.status_line(), "bold blue"), soft_wrap=True)
                next_line = clock() + AGENT_LINE_EVERY_S
            for event in tail.poll(timeout_s=0.5):
                summary.events[event.topic, event.op] += 1
                if event.latency_ms is not None and event.op in ("c", "u", "d"):
                    summary.latencies_ms.append(event.latency_ms)
                print_event(console, event, standin=standin is not None)
    except KeyboardInterrupt:
        # Ctrl-C ends the run early; the caller still shows what was seen, then exits 130.
        summary.interrupted = True
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
        if agent is not None:
            agent.stop()  # before the delete below: a running agent would recreate the connector
        tail.close()
        if not keep_connector and broken() is None:
            try:
                api.delete(result.name)
            except ConnectRestError as error:
                console.print(markup("[yellow]could not delete connector {}: {}[/]", result.name, error))
    return summary
