"""The throughput envelope on production's topology: sustained rate, a 200,000-row transaction, the knee.

Three brokers (RF 3, ``min.insync.replicas=2``), one Connect worker (the connector has one task:
a second worker adds failover, not throughput), exactly-once delivery, the STAND-IN PostgreSQL.
The source is driven from inside PostgreSQL (``INSERT ... SELECT generate_series``, one
transaction every 100 ms holding ``rate / 10`` rows, round-robin over the four tables), so the
driver itself costs next to nothing. A ``read_committed`` reader measures, for every event, the
**end-to-end lag**: when this reader received it minus ``source.ts_ms`` (the commit time
PostgreSQL reports); both clocks are this machine's.

1. **Steps**: after ``--warmup`` seconds (20, not counted: the JVMs' warm-up), each rate of
   ``--rates`` for ``--step`` seconds; a step passes when the p99 lag is
   under 2 s and every row arrived within 2 s of the step's end. Per step: the rate reached, p50/p99
   lag, the CPU each process used (PostgreSQL's WAL sender that decodes for Debezium, the worker, the
   brokers, this reader), Debezium's queue and Connect's/the producer's metrics: where the time goes.
2. **Sustained**: the highest passing rate held for ``--sustain`` seconds (120):
   ``sustained: R changes/s, p99 lag L ms``.
3. **Burst**: ``--burst-rows`` rows (200,000) inserted in ONE transaction, then all of them updated
   in ONE transaction: the time from each commit until the last event is visible to the
   ``read_committed`` reader, and the worker's peak heap (its JMX exporter, polled every 0.5 s).

Usage::

    /work/bin/cluster-slot .venv/bin/python bench/throughput.py [--rates 500,1000,2000,4000]
        [--step 30] [--sustain 120] [--burst-rows 200000] [--skip-burst] [--skip-sustained]

Prints the figures last, with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from _common import load, machine, start_cluster, start_standin
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.connect.worker_config import render_properties
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.events import percentile
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import KEY_COLUMN, StandInPostgres, quoted
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage, settings_for

STAGE = Stage("bench-throughput")
LAG_GOAL_MS = 2_000
PRODUCTION_HEAP_MIB = settings_for(Stage("production")).heap_mib
TICK_S = 0.1
#: ``"source":{... "ts_ms":N`` in a Debezium value: cheaper than parsing every JSON document.
SOURCE_TS = re.compile(rb'"source":\{[^}]*?"ts_ms":(\d+)')
METRICS = (
    "debezium_metrics_queueremainingcapacity",
    "debezium_metrics_queuetotalcapacity",
    "debezium_metrics_millisecondsbehindsource",
    "kafka_connect_source_task_metrics_source_record_poll_rate",
    "kafka_connect_source_task_metrics_source_record_write_rate",
    "kafka_connect_source_task_metrics_poll_batch_avg_time_ms",
    "kafka_connect_source_task_metrics_source_record_active_count",
    "kafka_connect_source_task_metrics_transaction_size_avg",
    "kafka_connect_connector_task_metrics_batch_size_avg",
    "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms",
    "kafka_producer_batch_size_avg",
    "kafka_producer_records_per_request_avg",
    "kafka_producer_record_queue_time_avg",
    "kafka_producer_request_latency_avg",
    "kafka_producer_compression_rate_avg",
    "kafka_producer_txn_commit_time_ns_total",
    "kafka_producer_record_send_rate",
)


def insert_sql(table_index: int) -> str:
    """One transaction's rows, made by PostgreSQL itself (ids from ``%(first)s`` to ``%(last)s``)."""
    table = CAPTURED_TABLES[table_index % len(CAPTURED_TABLES)]
    if table.table == "PLAN_BASE_WVR_TBL":
        columns = '"PLAN_BASE_WVR_ID", "WVR_NUM", "STATE_CD", "WVR_STATUS_CD", "WVR_AMT", "WVR_RATE"'
        values = "g, 'TX.' || g, 'TX', 'ACTIVE', g / 100.0, g / 7.0"
    else:
        columns = (
            '"PLAN_WVR_RVSN_ID", "PLAN_BASE_WVR_ID", "WVR_NUM", "RVSN_NUM", "RVSN_STATUS_CD", "CMNT_TXT"'
        )
        values = "g, g / 10, 'TX.' || g, 1, 'ACTIVE', 'bench revision of ' || g"
    return (
        f"INSERT INTO {quoted(table)} ({columns}) "
        f"SELECT {values} FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g"
    )


class Generator(threading.Thread):
    """``rate`` rows/s as one transaction of ``rate * TICK_S`` rows every ``TICK_S``."""

    def __init__(self, standin: StandInPostgres, rate: float, first_key: int) -> None:
        super().__init__(daemon=True, name="generator")
        self.standin, self.rate, self.key = standin, rate, first_key
        self.rows = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        per_tick = max(1, round(self.rate * TICK_S))
        began = time.monotonic()
        with self.standin.connect(autocommit=True) as conn:
            tick = 0
            while not self.stop_event.is_set():
                delay = began + tick * TICK_S - time.monotonic()
                if delay > 0:
                    self.stop_event.wait(delay)
                    continue
                conn.execute(insert_sql(tick), {"first": self.key, "last": self.key + per_tick - 1})
                self.key += per_tick
                self.rows += per_tick
                tick += 1


class Reader(threading.Thread):
    """read_committed reader: per event, (received wall ms, commit ms); counts only."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        from confluent_kafka import Consumer, TopicPartition

        super().__init__(daemon=True, name="reader")
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-throughput-{secrets.token_hex(4)}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 50,
            }
        )
        assignment = []
        for topic in topics:
            for partition in self.consumer.list_topics(topic, timeout=15).topics[topic].partitions:
                _low, high = self.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
                assignment.append(TopicPartition(topic, partition, high))
        self.consumer.assign(assignment)
        self.samples: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            messages = self.consumer.consume(num_messages=2000, timeout=0.2)
            now_ms = int(time.time() * 1000)
            batch = []
            for message in messages:
                value = message.value()
                if message.error() is not None or not value:
                    continue
                found = SOURCE_TS.search(value)
                if found:
                    batch.append((now_ms, int(found.group(1))))
            with self.lock:
                self.samples.extend(batch)
        self.consumer.close()

    def take(self) -> list[tuple[int, int]]:
        with self.lock:
            taken, self.samples = self.samples, []
        return taken

    def count(self) -> int:
        with self.lock:
            return len(self.samples)


# -- where the time goes: CPU per process, metrics -------------------------------------------------


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def processes(cluster: LocalCluster) -> dict[str, list[int]]:
    """The pids of each part: the worker, the brokers, the controller, PostgreSQL's WAL sender(s)
    and backends, this process (the reader and the generator)."""
    state = cluster.state
    found: dict[str, list[int]] = {
        "worker": [w.pid for w in state.workers],
        "brokers": [b.pid for b in state.brokers],
        "controller": [state.controller.pid] if state.controller else [],
        "bench (reader)": [os.getpid()],
        "pg walsender": [],
        "pg other": [],
    }
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres:"):
            found["pg walsender" if "walsender" in cmdline else "pg other"].append(int(entry.name))
    return found


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, int]:
    return {name: sum(_cpu_ticks(pid) for pid in pids) for name, pids in groups.items()}


def cpu_share(before: dict[str, int], after: dict[str, int], seconds: float) -> str:
    hz = os.sysconf("SC_CLK_TCK")
    parts = [f"{name} {(after[name] - before[name]) / hz / seconds:.2f}" for name in before]
    return "CPU cores used: " + ", ".join(parts)


def scrape(url: str) -> dict[str, float]:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, _, value = line.rpartition(" ")
        name = series.split("{", 1)[0].replace("-", "_").lower()
        try:
            number = float(value)
        except ValueError:
            continue
        if 'context="snapshot"' in series or 'context="schema-history"' in series:
            continue
        if name.startswith("jvm_memory") and 'area="heap"' in series:
            values[f"{name}_heap"] = number
        elif name in METRICS and ("client_id" not in series or "connector-producer" in series):
            values[name] = values.get(name, 0.0) + number
    return values


@dataclass
class Step:
    rate: float
    achieved: float
    received: int
    rows: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu: str
    metrics: dict[str, float]

    @property
    def passed(self) -> bool:
        return self.p99_ms < LAG_GOAL_MS and self.received >= self.rows

    def describe(self) -> str:
        shown = ", ".join(f"{k.split('_', 2)[-1]}={v:.3g}" for k, v in sorted(self.metrics.items()))
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"rate {self.rate:g}/s (source committed {self.achieved:.0f}/s): "
            f"{self.received} of {self.rows} read, "
            f"lag p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms: {verdict}; "
            f"{self.cpu}; {load()}\n      metrics: {shown}"
        )


def run_step(
    cluster: LocalCluster,
    standin: StandInPostgres,
    reader: Reader,
    rate: float,
    seconds: float,
    first_key: int,
) -> Step:
    reader.take()
    groups = processes(cluster)
    before = cpu_snapshot(groups)
    generator = Generator(standin, rate, first_key)
    began = time.monotonic()
    generator.start()
    metrics: dict[str, float] = {}
    while time.monotonic() - began < seconds:
        time.sleep(min(5.0, seconds))
        metrics = scrape(cluster.metrics_urls[0])
    generator.stop_event.set()
    generator.join(timeout=30)
    elapsed = time.monotonic() - began
    after = cpu_snapshot(groups)
    deadline = time.monotonic() + LAG_GOAL_MS / 1000
    while time.monotonic() < deadline and reader.count() < generator.rows:
        time.sleep(0.1)
    samples = reader.take()
    lags = [float(received - committed) for received, committed in samples] or [float("inf")]
    return Step(
        rate=rate,
        achieved=generator.rows / elapsed,
        received=len(samples),
        rows=generator.rows,
        p50_ms=percentile(lags, 0.5),
        p99_ms=percentile(lags, 0.99),
        max_ms=max(lags),
        cpu=cpu_share(before, after, elapsed),
        metrics={k: v for k, v in metrics.items() if not k.startswith("jvm")},
    )


# -- the burst ---------------------------------------------------------------------------------


class HeapWatch(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True, name="heap-watch")
        self.url, self.peak, self.stop_event = url, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            values = scrape(self.url)
            used = values.get("jvm_memory_used_bytes_heap", values.get("jvm_memory_bytes_used_heap", 0.0))
            self.peak = max(self.peak, used)


def burst(
    cluster: LocalCluster, standin: StandInPostgres, reader: Reader, rows: int, first_key: int
) -> list[str]:
    table = CAPTURED_TABLES[0]
    lines = []
    for what, sql, params in (
        ("insert", insert_sql(0), {"first": first_key, "last": first_key + rows - 1}),
        (
            "update",
            f'UPDATE {quoted(table)} SET "WVR_STATUS_CD" = \'CLOSED\', "LAST_UPDT_TS" = localtimestamp '
            f'WHERE "{KEY_COLUMN[table.table]}" BETWEEN %(first)s AND %(last)s',
            {"first": first_key, "last": first_key + rows - 1},
        ),
    ):
        reader.take()
        heap = HeapWatch(cluster.metrics_urls[0])
        heap.start()
        groups = processes(cluster)
        cpu_before = cpu_snapshot(groups)
        with standin.connect(autocommit=True) as conn:
            began = time.monotonic()
            conn.execute(sql, params)
            committed = time.monotonic()
        received = 0
        last_at = committed
        deadline = committed + 600
        while received < rows and time.monotonic() < deadline:
            time.sleep(0.2)
            got = len(reader.take())
            if got:
                received += got
                last_at = time.monotonic()
        heap.stop_event.set()
        heap.join(timeout=5)
        cpu = cpu_share(cpu_before, cpu_snapshot(groups), max(0.1, last_at - began))
        metrics = scrape(cluster.metrics_urls[0])
        shown = ", ".join(
            f"{k.split('_', 2)[-1]}={v:.3g}" for k, v in sorted(metrics.items()) if "jvm" not in k
        )
        lines.append(
            f"burst {what}: {rows} rows in one transaction (statement {committed - began:.1f} s); "
            f"last event visible (read_committed) {last_at - committed:.1f} s after the commit, "
            f"{received} of {rows} read; worker peak heap {heap.peak / 2**20:.0f} MiB "
            f"(local -Xmx 768 MiB, production heap {PRODUCTION_HEAP_MIB} MiB); {load()}"
        )
        print(f"  burst {what}: {cpu}\n      metrics: {shown}", flush=True)
        print(lines[-1], flush=True)
    return lines


# -- compression: what MSK stores and carries per codec -----------------------------------------


def sample_records(bootstrap: str, topics: list[str], count: int) -> list[tuple[bytes | None, bytes]]:
    """Up to ``count`` real change events (key, value) from the start of the data topics."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-sample-{secrets.token_hex(4)}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe(topics)
    found: list[tuple[bytes | None, bytes]] = []
    deadline = time.monotonic() + 60
    while len(found) < count and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=1000, timeout=1.0):
            value = message.value()
            if message.error() is None and value:
                found.append((message.key(), value))
    consumer.close()
    return found[:count]


def compression(cluster: LocalCluster, records: list[tuple[bytes | None, bytes]]) -> list[str]:
    """The same real events produced with each codec (Connect's producer defaults: 16 KiB batches,
    and 64 KiB with linger.ms=20 for comparison) to a scratch topic; bytes on the leader's disk."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    raw = sum(len(v) + len(k or b"") for k, v in records)
    lines = [f"compression of {len(records)} real change events ({raw / len(records):.0f} bytes each, raw):"]
    for codec in ("none", "lz4", "snappy", "zstd", "gzip"):
        for batch, linger in ((16_384, 0), (65_536, 20)):
            topic = f"bench-compress-{codec}-{batch}-{secrets.token_hex(3)}"
            admin.create_topics([NewTopic(topic, 1, 1, config={"compression.type": "producer"})])[
                topic
            ].result(30)
            producer = Producer(
                {
                    "bootstrap.servers": cluster.bootstrap,
                    "compression.type": codec,
                    "batch.size": batch,
                    "linger.ms": linger,
                    "acks": "all",
                }
            )
            began = time.monotonic()
            for key, value in records:
                producer.produce(topic, value, key)
                producer.poll(0)
            producer.flush(60)
            took = time.monotonic() - began
            time.sleep(1.0)
            size = sum(
                f.stat().st_size
                for broker in cluster.state.brokers
                for f in Path(broker.data_dir).glob(f"{topic}-0/*.log")
            )
            lines.append(
                f"  {codec:<6} batch.size {batch:>6}, linger.ms {linger:>2}: {size / 2**20:6.2f} MiB on disk "
                f"(ratio {raw / max(size, 1):4.1f}x), produced in {took:.1f} s"
            )
            print(lines[-1], flush=True)
            admin.delete_topics([topic])
    return lines


def kafka_default_producer(cluster: LocalCluster) -> None:
    """Restart the workers without the pinned producer settings (Kafka's defaults: no compression,
    16 KiB batches, linger.ms 0), to compare."""
    state = cluster.state
    for worker in state.workers:
        props = cluster.worker_properties(state, cluster.stage, worker.port)
        for key in ("producer.compression.type", "producer.batch.size", "producer.linger.ms"):
            props.pop(key, None)
        Path(worker.config).write_text(render_properties(props))
        cluster.stop_worker(worker.index)
        cluster.start_worker(worker.index)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="500,1000,2000,4000", help="comma-separated changes/s")
    parser.add_argument("--step", type=float, default=30.0, help="seconds per rate step")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds at the first rate, not counted")
    parser.add_argument("--sustain", type=float, default=120.0, help="seconds at the highest passing rate")
    parser.add_argument("--burst-rows", type=int, default=200_000)
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument(
        "--producer",
        choices=("pinned", "kafka-defaults"),
        default="pinned",
        help="the workers' pinned producer batching/compression, or Kafka's defaults (for comparison)",
    )
    parser.add_argument("--skip-sustained", action="store_true")
    parser.add_argument("--compression-sample", type=int, default=20_000, help="events; 0 skips it")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    print(machine())
    print(
        f"3 brokers (RF 3, min.insync.replicas=2), 1 worker, exactly-once, STAND-IN PostgreSQL, "
        f"producer settings: {args.producer}; {load()}"
    )
    results: list[str] = []
    with ExitStack() as stack:
        cluster = start_cluster(stack, STAGE, 1, brokers=3)
        if args.producer == "kafka-defaults":
            kafka_default_producer(cluster)
        standin = start_standin(stack)
        ensure_local_topics(cluster.bootstrap, STAGE)
        api = HttpConnectApi(cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
        stack.callback(api.close)
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name)
        reader = Reader(cluster.bootstrap, list(names_for(STAGE).data_topics.values()))
        reader.start()
        stack.callback(reader.stop_event.set)
        key = 1_000_000
        if args.warmup:
            # The first seconds after the start carry the JVMs' warm-up: measured, not counted.
            warm = run_step(cluster, standin, reader, rates[0], args.warmup, key)
            key += warm.rows + 1
            print(f"  warm-up (not counted) {warm.describe()}", flush=True)
        best: Step | None = None
        for rate in rates:
            step = run_step(cluster, standin, reader, rate, args.step, key)
            key += step.rows + 1
            print(f"  step {step.describe()}", flush=True)
            if step.passed:
                best = step
            else:
                break
        if best is not None and not args.skip_sustained:
            sustained = run_step(cluster, standin, reader, best.rate, args.sustain, key)
            key += sustained.rows + 1
            print(f"  sustained run {sustained.describe()}", flush=True)
            verdict = (
                "" if sustained.passed else f" (did NOT hold: {sustained.received} of {sustained.rows} read)"
            )
            results.append(
                f"sustained: {sustained.achieved:.0f} changes/s, p99 lag {sustained.p99_ms:.0f} ms{verdict} "
                f"for {args.sustain:g} s; {load()}"
            )
        elif best is None:
            results.append(f"sustained: no step passed (lowest rate {rates[0]:g}/s); {load()}")
        if args.compression_sample:
            topics = list(names_for(STAGE).data_topics.values())
            results += compression(
                cluster, sample_records(cluster.bootstrap, topics, args.compression_sample)
            )
        if not args.skip_burst:
            results += burst(cluster, standin, reader, args.burst_rows, key)
    print(machine())
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
