"""Failure detection and recovery by the connect-agent: a real outage, then its cause removed.

Starts its own local cluster (broker + 1 Connect worker), the STAND-IN PostgreSQL, the stand-in
connector, and the connect-agent beside the worker (the same ``Agent`` the ``agent`` command runs,
at the stage's poll period). Rows are inserted every 0.5 s throughout. Each run:

1. stops the stand-in database while the task says RUNNING (Debezium retries inside the task, and
   unregisters its streaming MBean): the cause;
2. keeps it down for ``--outage`` seconds (60) (longer than the stage's restart threshold, so the agent
   counts the RUNNING task as failed and restarts it), then starts it again: the cause removed.

Measured, from the cause: **detect** (first cycle whose verdict is unhealthy) and **restart issued**;
from the cause's removal: **healthy** (task RUNNING, connected, verdict healthy) and **first event**
(the first row inserted after the database is back, read from its topic).

Usage::

    .venv/bin/python bench/recovery.py [--runs 1] [--outage 40] [--poll SECONDS]

Prints the figures last, with the load average beside them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import psycopg

from _common import machine, start_cluster, start_standin
from wms_connector.agent.loop import Agent, CycleReport
from wms_connector.agent.policy import Verdict
from wms_connector.commands.local_run import standin_agent
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage, settings_for

STAGE = Stage("bench-recovery")
TABLE = CAPTURED_TABLES[0]


@dataclass
class Run:
    detect_s: float
    restart_s: float | None
    healthy_s: float
    first_event_s: float


class Inserter(threading.Thread):
    """Inserts a row every 0.5 s, across the outage (failed inserts are retried with a new key)."""

    def __init__(self, standin: StandInPostgres) -> None:
        super().__init__(daemon=True)
        self.standin = standin
        self.stop = threading.Event()
        self.inserted: dict[int, float] = {}
        self.key = 20_000

    def run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = self.standin.connect()
                apply(conn, Change(TABLE, Op.CREATE, self.key, waiver_row(TABLE, self.key)))
                self.inserted[self.key] = time.monotonic()
                self.key += 1
            except psycopg.Error:
                conn = None
            self.stop.wait(0.5)


class Arrivals(threading.Thread):
    def __init__(self, tail: EventTail) -> None:
        super().__init__(daemon=True)
        self.tail = tail
        self.stop = threading.Event()
        self.arrived: dict[int, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            for event in self.tail.poll(timeout_s=0.2):
                if event.op == "c":
                    for value in event.key.values():
                        self.arrived.setdefault(int(value), time.monotonic())


def one_run(
    agent: Agent,
    standin: StandInPostgres,
    inserter: Inserter,
    arrivals: Arrivals,
    outage_s: float,
    poll_s: float,
) -> Run:
    def cycle_until(done: Callable[[CycleReport], bool], timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            report = agent.cycle()
            if done(report):
                return time.monotonic()
            time.sleep(poll_s)
        raise SystemExit(f"timed out; last verdict {agent.last and agent.last.decision.assessment.reason}")

    cycle_until(lambda r: r.decision.assessment.verdict is Verdict.HEALTHY, 180)
    cause = time.monotonic()
    standin.stop_server()
    detected = cycle_until(lambda r: not r.decision.assessment.healthy, 60)
    restarted: float | None = None
    while time.monotonic() - cause < outage_s:
        report = agent.cycle()
        if report.restarts_issued and restarted is None:
            restarted = time.monotonic()
        time.sleep(poll_s)
    standin.start_server()
    removed = time.monotonic()
    healthy = cycle_until(lambda r: r.decision.assessment.verdict is Verdict.HEALTHY, 300)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        after = [k for k, t in inserter.inserted.items() if t >= removed]
        seen = [arrivals.arrived[k] for k in after if k in arrivals.arrived]
        if seen:
            first = min(seen)
            break
        time.sleep(0.2)
    else:
        raise SystemExit("no event after the database came back")
    return Run(
        detected - cause,
        None if restarted is None else restarted - cause,
        healthy - removed,
        first - removed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the database stays down")
    parser.add_argument("--poll", type=float, default=None, help="agent poll seconds (default: the stage's)")
    args = parser.parse_args()
    settings = settings_for(STAGE)
    poll_s = args.poll if args.poll is not None else settings.agent_poll_interval_ms / 1000
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    names = names_for(STAGE)
    runs: list[Run] = []
    with ExitStack() as stack:
        cluster = start_cluster(stack, STAGE, 1)
        standin = start_standin(stack)
        standin.keep_data = True  # stop_server/start_server keep it; stop() at the end removes it
        stack.callback(setattr, standin, "keep_data", False)
        api = HttpConnectApi(cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        ensure_local_topics(cluster.bootstrap, STAGE)
        tail = EventTail(cluster.bootstrap, [names.data_topic(TABLE)], from_now=True)
        stack.callback(tail.close)
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name)
        agent = standin_agent(STAGE, cluster.state, standin)
        inserter, arrivals = Inserter(standin), Arrivals(tail)
        inserter.start()
        arrivals.start()
        stack.callback(inserter.stop.set)
        stack.callback(arrivals.stop.set)
        for index in range(args.runs):
            run = one_run(agent, standin, inserter, arrivals, args.outage, poll_s)
            runs.append(run)
            restart = "-" if run.restart_s is None else f"{run.restart_s:.1f}"
            print(
                f"run {index + 1}: detect {run.detect_s:.1f} s, restart issued {restart} s after the cause; "
                f"healthy {run.healthy_s:.1f} s, first event {run.first_event_s:.1f} s "
                "after the cause was removed"
            )
        arrivals.stop.set()
        arrivals.join(timeout=5)
        api.delete(name)
        api.close()
    print(machine())
    print(
        f"poll {poll_s:g} s, restart threshold {settings.restart_after_unhealthy_ms / 1000:g} s, "
        f"outage {args.outage:g} s, load average {os.getloadavg()[0]:.1f}"
    )

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.1f} s"

    restarts = [r.restart_s for r in runs if r.restart_s is not None]
    print(
        f"recovery (median of {len(runs)}): detect {med([r.detect_s for r in runs])}, "
        f"restart issued {med(restarts) if restarts else '-'}, "
        f"RUNNING+healthy again {med([r.healthy_s for r in runs])}, "
        f"first event {med([r.first_event_s for r in runs])} after the cause was removed"
    )


if __name__ == "__main__":
    main()
