"""Benchmark: a stand-in table of N rows snapshotted into its topic, then audited (issue 21).

A throw-away local cluster (one worker) and STAND-IN PostgreSQL; ``WMS.PLAN_BASE_WVR_TBL`` is
filled with N rows in one ``INSERT ... SELECT generate_series`` (the demo's column shapes:
microsecond timestamps, 18-decimal numbers, zoned timestamps), then the connector is registered
and its initial snapshot timed until the topic holds N records and the committed offset marks the
snapshot's end. The audit then runs as the CLI does (``wms-connector audit --source standin
--json`` in a child process): its wall time and the child's peak RSS (``ru_maxrss``).

Usage: .venv/bin/python bench/audit.py [--rows N]   (default 1,000,000; prints the figures last)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
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
        started = time.monotonic()
        child = subprocess.run(
            [
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
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        audit_s = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if child.returncode not in (0, 1):
            raise SystemExit(f"audit failed (exit {child.returncode}): {child.stderr.strip()[-800:]}")
        report = json.loads(child.stdout)
        audited = sum(int(t["source_rows"]) for t in report["tables"])
        print(f"{load()} after the audit", flush=True)
        verdict = report["verdict"]
        print(f"snapshot: {rows} rows in {snapshot_s:.1f} s ({rows / snapshot_s:.0f} rows/s)")
        print(f"audit: {audited} rows in {audit_s:.1f} s, peak RSS {peak_mb:.0f} MB, verdict {verdict}")


if __name__ == "__main__":
    main()
