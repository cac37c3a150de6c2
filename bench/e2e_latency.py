"""End-to-end change latency on the STAND-IN source: commit in PostgreSQL -> record in Kafka.

A steady workload (``--rate`` changes/s for ``--seconds``: inserts, then updates and deletes of the
rows inserted, round-robin over the four tables, one change per transaction) runs against the
stand-in PostgreSQL while the stand-in Debezium connector streams into the local broker through
real Connect workers. For every change event, latency = Kafka record timestamp (set when the
Connect producer sends it) - ``source.ts_ms`` (the commit time PostgreSQL reports). Both clocks are
this machine's.

With exactly-once delivery (the default) a record becomes visible to a ``read_committed``
consumer only when its transaction commits, after the producer stamped it, so a second figure is
printed too: **commit -> visible**, from ``source.ts_ms`` to the moment this benchmark's
read_committed consumer received the record (what a downstream consumer actually waits).
``--at-least-once`` runs the same workload with the stage's exactly-once switch off, for comparison.

Usage::

    .venv/bin/python bench/e2e_latency.py [--rate 100] [--seconds 60] [--workers 1] [--at-least-once]
    .venv/bin/python bench/e2e_latency.py --bootstrap H:P --connect-url URL   # an existing cluster

Prints p50 and p99 last. Goal: p50 <= 300 ms, p99 <= 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from _common import load, machine, start_cluster
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.events import ChangeEvent, percentile
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage

WARMUP_MS = 10_000


def steady_changes(total: int, first_key: int) -> list[Change]:
    """``total`` changes: per key an insert, an update, then (every third key) a delete."""
    changes: list[Change] = []
    key = first_key
    while len(changes) < total:
        for table in CAPTURED_TABLES:
            changes.append(Change(table, Op.CREATE, key, waiver_row(table, key)))
            changes.append(Change(table, Op.UPDATE, key, waiver_row(table, key, 1)))
            if key % 3 == 0:
                changes.append(Change(table, Op.DELETE, key, {}))
        key += 1
    return changes[:total]


def drive(standin: StandInPostgres, changes: list[Change], rate: float, done: threading.Event) -> None:
    interval = 1.0 / rate
    with standin.connect() as conn:
        start = time.monotonic()
        for index, change in enumerate(changes):
            delay = start + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            apply(conn, change)
    done.set()


def measure(
    bootstrap: str, connect_url: str, stage: Stage, rate: float, seconds: float, *, exactly_once: bool
) -> tuple[list[float], list[float]]:
    """``(commit -> Kafka timestamp, commit -> visible to a read_committed consumer)`` in ms."""
    state = Path(tempfile.mkdtemp(prefix="wms-bench-standin-"))
    state.chmod(0o755)
    standin = StandInPostgres(state, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    api = HttpConnectApi(connect_url, backoff=BackOff(scale_ms=500, max_attempts=12))
    names = names_for(stage)
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    try:
        ensure_local_topics(bootstrap, stage)
        name = register_fresh(api, stage, source, bootstrap, exactly_once=exactly_once)
        wait_running(api, name)
        tail = EventTail(bootstrap, list(names.data_topics.values()), from_now=True)
        # Keys unique to this run (the topics may hold earlier runs), small enough for NUMERIC(14,2).
        first_key = 10_000_000 + (int(time.time()) % 100_000) * 10_000
        changes = steady_changes(int(rate * seconds), first_key)
        done = threading.Event()
        driver = threading.Thread(target=drive, args=(standin, changes, rate, done), daemon=True)
        events: list[ChangeEvent] = []
        driver.start()

        def ours(es: list[ChangeEvent]) -> list[ChangeEvent]:
            return [
                e for e in es if e.op in ("c", "u", "d") and int(next(iter(e.key.values()), 0)) >= first_key
            ]

        def streamed(es: list[ChangeEvent]) -> bool:
            return done.is_set() and len(ours(es)) >= len(changes)

        received: dict[int, int] = {}  # id(event) -> epoch ms when this consumer got it
        deadline = time.monotonic() + seconds + 120
        while time.monotonic() < deadline and not streamed(events):
            batch = tail.poll(timeout_s=0.02)  # short: a long wait would add to "visible"
            now_ms = int(time.time() * 1000)
            for event in batch:
                received[id(event)] = now_ms
            events.extend(batch)
        tail.close()
        api.delete(name)
        measured = sorted(
            (e for e in ours(events) if e.latency_ms is not None), key=lambda e: e.commit_ms or 0
        )
        latencies = [float(e.latency_ms or 0) for e in measured]
        if measured and measured[0].commit_ms is not None:
            # Shown, not hidden: how much of the tail comes from the first seconds (JVM warm-up).
            start = measured[0].commit_ms
            later = [float(e.latency_ms or 0) for e in measured if (e.commit_ms or 0) - start >= WARMUP_MS]
            if later:
                print(
                    f"after the first {WARMUP_MS // 1000} s: p50 {percentile(later, 0.5):.0f} ms, "
                    f"p99 {percentile(later, 0.99):.0f} ms over {len(later)} events"
                )
        visible = [float(received[id(e)] - (e.commit_ms or 0)) for e in measured if id(e) in received]
        print(f"changes committed: {len(changes)}, change events read: {len(latencies)}")
        return latencies, visible
    finally:
        api.close()
        standin.stop()
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--stage", default="bench-latency")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--bootstrap", help="use this running broker (with --connect-url)")
    parser.add_argument("--connect-url")
    parser.add_argument(
        "--at-least-once", action="store_true", help="the stage's exactly-once switch off (comparison)"
    )
    args = parser.parse_args()
    exactly_once = not args.at_least_once
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    stage = Stage(args.stage)
    print(machine())
    print(
        f"workload: {args.rate:g} changes/s for {args.seconds:g} s, STAND-IN PostgreSQL source, "
        f"{'exactly-once' if exactly_once else 'at-least-once'} delivery; {load()}"
    )
    with ExitStack() as stack:
        if args.bootstrap and args.connect_url:
            bootstrap, url = args.bootstrap, args.connect_url
        else:
            cluster = start_cluster(stack, stage, args.workers, exactly_once=exactly_once)
            bootstrap, url = cluster.bootstrap, cluster.rest_urls[0]
        latencies, visible = measure(
            bootstrap, url, stage, args.rate, args.seconds, exactly_once=exactly_once
        )
    if not latencies or not visible:
        raise SystemExit("no change event was read: nothing to measure")
    mean = sum(latencies) / len(latencies)
    print(f"mean {mean:.0f} ms, max {max(latencies):.0f} ms over {len(latencies)} events")
    print(
        f"commit -> visible to a read_committed consumer: p50 {percentile(visible, 0.5):.0f} ms, "
        f"p99 {percentile(visible, 0.99):.0f} ms; {load()}"
    )
    print(
        f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms "
        f"(commit -> Kafka timestamp); {load()}"
    )


if __name__ == "__main__":
    main()
