"""Benchmark: a stand-in table of N rows snapshotted into its topic, then audited (issue 21).

A throw-away local cluster (one worker) and STAND-IN PostgreSQL; ``WMS.PLAN_BASE_WVR_TBL`` is
filled with N rows in one ``INSERT ... SELECT generate_series`` (the demo's column shapes:
microsecond timestamps, 18-decimal numbers, zoned timestamps), then the connector is registered
and its initial snapshot timed until the topic holds N records and the committed offset marks the
snapshot's end. The audit then runs as the CLI does (``wms-connector audit --source standin
--json`` in a child process): its wall time and its peak RSS, counting every process it starts
(the source summariser): the sum of each process's own peak (``VmHWM``, sampled every 0.1 s from
/proc; the CLI's own and its largest child's exact ``ru_maxrss`` when larger), an upper bound of
what they held at once.

Usage: .venv/bin/python bench/audit.py [--rows N] [--range-rows N] [--profile FILE]
(default 1,000,000 rows; prints the figures last; --profile runs the CLI under cProfile)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from _common import load, machine, start_cluster, start_standin
from wms_connector.audit.run import snapshotting
from wms_connector.audit.topic import connector_offset
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import quoted
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage

CLI = str(Path(sys.executable).parent / "wms-connector")
STAGE = Stage("bench-audit")
TABLE = CAPTURED_TABLES[0]  # MMDL.PLAN_BASE_WVR_TBL

FILL_SQL = f"""
INSERT INTO {quoted(TABLE)} ("PLAN_BASE_WVR_ID", "WVR_NUM", "STATE_CD", "WVR_STATUS_CD", "WVR_TYPE_CD",
    "EFF_DT", "END_DT", "WVR_AMT", "SLOT_CNT", "CREATED_BY", "WVR_RATE", "SBMT_TS", "LAST_UPDT_TS")
SELECT g, 'TX.' || lpad(g::text, 7, '0'), 'TX', 'ACTIVE', '1915C',
    date '2026-01-01' + (g %% 300)::int, date '2031-01-01' + (g %% 300)::int,
    (g * 1000 + 7)::numeric / 100, 100 + g %% 50,
    'bench', (g %% 100000)::numeric + ((g * 48271) %% 1000000000000000000)::numeric / 1e18,
    timestamptz '2026-01-01 08:30:00-05' + g * interval '1.000001 second',
    timestamp '2026-01-01 08:30:00' + g * interval '1.000007 second'
FROM generate_series(1::bigint, %s::bigint) AS g
"""


def topic_records(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "wms-bench-audit-count"})
    try:
        partitions = consumer.list_topics(topic, timeout=15).topics[topic].partitions
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] for p in partitions
        )
    finally:
        consumer.close()


MEASURED = """
import atexit, resource, sys
from wms_connector.cli import run
def report():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    line = (
        f"audit process ru_maxrss {me.ru_maxrss / 1024:.0f} MB, cpu {me.ru_utime + me.ru_stime:.1f} s; "
        f"largest child {kids.ru_maxrss / 1024:.0f} MB, children's cpu {kids.ru_utime + kids.ru_stime:.1f} s"
    )
    print(line, file=sys.stderr)
    print(f"rss-kb {me.ru_maxrss} {kids.ru_maxrss}", file=sys.stderr)
atexit.register(report)
sys.argv[0] = "wms-connector"
sys.exit(run())
"""


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        found.append(one)
        todo.extend(children.get(one, []))
    return found


def now_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def peak_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--range-rows", type=int, default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--trace", action="store_true", help="print the CLI's RSS every second")
    args = parser.parse_args()
    rows = args.rows
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    names = names_for(STAGE)
    with ExitStack() as stack:
        cluster = start_cluster(stack, STAGE, 1)
        standin = start_standin(stack)
        with standin.connect() as conn:
            conn.execute(FILL_SQL, (rows,))
            conn.execute("ANALYZE")
        ensure_local_topics(cluster.bootstrap, STAGE)
        api = HttpConnectApi(cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
        stack.callback(api.close)
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        topic = names.data_topic(TABLE)
        client = {"bootstrap.servers": cluster.bootstrap}
        print(f"{machine()}; {load()} before the snapshot", flush=True)
        started = time.monotonic()
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name, timeout_s=300)
        while True:
            offset = connector_offset(client, names.offsets_topic, name)
            done = offset is not None and not snapshotting(offset)
            if done and topic_records(cluster.bootstrap, topic) >= rows:
                break
            time.sleep(1)
        snapshot_s = time.monotonic() - started
        print(f"{load()} after the snapshot", flush=True)
        with standin.connect() as conn:  # one streamed change: the offset then ends a transaction
            conn.execute(f'UPDATE {quoted(TABLE)} SET "SLOT_CNT" = 7 WHERE "PLAN_BASE_WVR_ID" = 1')
        env = {**os.environ, "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1")}
        command = [
            CLI,
            "audit",
            "--stage",
            STAGE.name,
            "--source",
            "standin",
            "--bootstrap",
            cluster.bootstrap,
            "--standin-dsn",
            f"host={standin.host} port={standin.port} dbname={standin.dbname} user={standin.user}",
            "--json",
        ]
        if args.range_rows is not None:
            command += ["--range-rows", str(args.range_rows)]
        if args.profile:
            command = [sys.executable, "-m", "cProfile", "-o", args.profile, *command]
        else:  # the CLI, which then tells its own and its children's exact peak (ru_maxrss)
            command = [sys.executable, "-c", MEASURED, *command[1:]]
        before_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peaks: dict[int, int] = {}
        rss_trace: list[str] = []
        while child.poll() is None:
            for pid in descendants(child.pid):
                found = peak_kb(pid)
                if found is not None:
                    peaks[pid] = max(found, peaks.get(pid, 0))
            if args.trace:
                rss_trace.append(f"{time.monotonic() - started:.0f}s:{now_kb(child.pid) // 1024}")
            time.sleep(0.1)
        if args.trace:
            print("CLI RSS over time (MB):", " ".join(rss_trace[::10]), flush=True)
        stdout, stderr = child.communicate()
        print("\n".join(line for line in stderr.splitlines() if line.startswith("audit")), flush=True)
        audit_s = time.monotonic() - started
        cli_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if cli_kb > before_kb:  # else the largest reaped child was an earlier one, not the CLI
            peaks[child.pid] = max(cli_kb, peaks.get(child.pid, 0))
        # The CLI's own exact peak, and its largest child's (the sampling may miss a child's last
        # moments): each replaces its sampled figure when larger.
        exact = [line.split() for line in stderr.splitlines() if line.startswith("rss-kb ")]
        if exact:
            own_kb, largest_child_kb = int(exact[-1][1]), int(exact[-1][2])
            peaks[child.pid] = max(own_kb, peaks.get(child.pid, 0))
            others = sorted((pid for pid in peaks if pid != child.pid), key=lambda p: peaks[p])
            if others:
                peaks[others[-1]] = max(largest_child_kb, peaks[others[-1]])
            elif largest_child_kb:
                peaks[-1] = largest_child_kb
        peak_mb = sum(peaks.values()) / 1024
        print(
            f"{len(peaks)} processes, own peaks (MB): "
            + ", ".join(f"{kb / 1024:.0f}" for kb in sorted(peaks.values(), reverse=True)),
            flush=True,
        )
        if child.returncode not in (0, 1):
            raise SystemExit(f"audit failed (exit {child.returncode}): {stderr.strip()[-800:]}")
        report = json.loads(stdout)
        audited = sum(int(t["source_rows"]) for t in report["tables"])
        print(f"{load()} after the audit", flush=True)
        verdict = report["verdict"]
        print(f"snapshot: {rows} rows in {snapshot_s:.1f} s ({rows / snapshot_s:.0f} rows/s)")
        print(f"audit: {audited} rows in {audit_s:.1f} s, peak RSS {peak_mb:.0f} MB, verdict {verdict}")


if __name__ == "__main__":
    main()
