"""End to end on the STAND-IN source: PostgreSQL -> Debezium -> real Connect workers -> real broker."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from wms_connector.connect import exposition
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn, build_config
from wms_connector.connect.rest import BackOff, HttpConnectApi, ReconcileAction
from wms_connector.local.events import ChangeEvent
from wms_connector.local.pipeline import (
    EventTail,
    ensure_local_topics,
    register,
    register_fresh,
    wait_running,
)
from wms_connector.local.standin import KEY_COLUMN, StandInPostgres, quoted
from wms_connector.local.workload import Change, Op, apply, demo_steps, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import KafkaAuth

pytestmark = pytest.mark.integration

SNAPSHOT_KEYS = (9001, 9002)


class Pipeline:
    def __init__(
        self,
        cluster: Any,
        standin: StandInPostgres,
        api: HttpConnectApi,
        source: PostgresStandIn,
        tail: EventTail,
    ) -> None:
        self.cluster = cluster
        self.standin = standin
        self.api = api
        self.source = source
        self.stage = cluster.stage
        self.names = names_for(self.stage)
        self.name = self.names.standin_connector
        self.tail = tail
        self.events: list[ChangeEvent] = []

    def read_until(self, predicate: Any, timeout_s: float = 90.0) -> list[ChangeEvent]:
        return self.tail.collect(predicate, timeout_s, into=self.events)

    def of(self, op: str, key: int | None = None) -> list[ChangeEvent]:
        return [e for e in self.events if e.op == op and (key is None or key in e.key.values())]


@pytest.fixture(scope="module")
def pipeline(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Pipeline]:
    standin = StandInPostgres(module_standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    # Rows that exist before the connector: they must arrive once, as snapshot reads.
    with standin.connect() as conn:
        for table in CAPTURED_TABLES:
            for key in SNAPSHOT_KEYS:
                apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
    api = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    ensure_local_topics(local_cluster.bootstrap, local_cluster.stage)
    # Only what this module's connector writes: other tests may share the session's topics.
    tail = EventTail(
        local_cluster.bootstrap, list(names_for(local_cluster.stage).data_topics.values()), from_now=True
    )
    name = register_fresh(api, local_cluster.stage, source, local_cluster.bootstrap)
    wait_running(api, name)
    pipe = Pipeline(local_cluster, standin, api, source, tail)
    yield pipe
    pipe.tail.close()
    api.delete(name)
    api.close()
    standin.stop()


def test_snapshot_of_existing_rows_arrives_once(pipeline: Pipeline) -> None:
    expected = len(CAPTURED_TABLES) * len(SNAPSHOT_KEYS)
    pipeline.read_until(lambda events: len([e for e in events if e.op == "r"]) >= expected)
    reads = pipeline.of("r")
    seen = sorted((e.topic, tuple(e.key.values())) for e in reads)
    wanted = sorted((pipeline.names.data_topic(t), (k,)) for t in CAPTURED_TABLES for k in SNAPSHOT_KEYS)
    assert seen == wanted  # every pre-existing row, once, in its own topic


def test_changes_arrive_in_the_right_topics_with_op_key_and_order(pipeline: Pipeline) -> None:
    steps = list(demo_steps(rows_per_table=3, first_key=100))
    with pipeline.standin.connect() as conn:
        for change in steps:
            apply(conn, change)
    wanted = len(steps)
    pipeline.read_until(
        lambda events: len([e for e in events if e.op in "cud" and 100 <= _key(e) < 200]) >= wanted
    )
    got = [e for e in pipeline.events if e.op in ("c", "u", "d") and 100 <= _key(e) < 200]
    expected_by_key: dict[tuple[str, int], list[str]] = defaultdict(list)
    for change in steps:
        expected_by_key[pipeline.names.data_topic(change.table), change.key].append(change.op.value)
    got_by_key: dict[tuple[str, int], list[str]] = defaultdict(list)
    for event in got:
        got_by_key[event.topic, _key(event)].append(event.op)
        table = next(t for t in CAPTURED_TABLES if pipeline.names.data_topic(t) == event.topic)
        assert list(event.key) == [KEY_COLUMN[table.table]]
    assert got_by_key == expected_by_key  # right topic, right key, right op, commit order per key
    # Updates carry the before image (REPLICA IDENTITY FULL), deletes their last state.
    update = next(e for e in got if e.op == "u")
    assert update.before is not None and update.after is not None
    delete = next(e for e in got if e.op == "d")
    assert delete.before is not None and delete.after is None
    # A tombstone follows each delete, for compaction.
    pipeline.read_until(lambda events: any(e.op == "tombstone" and _key(e) == 100 for e in events), 30)
    assert any(e.op == "tombstone" and _key(e) == 100 for e in pipeline.events)


def test_decimal_and_time_handling_as_configured(pipeline: Pipeline) -> None:
    with pipeline.standin.connect() as conn:
        apply(conn, Change(CAPTURED_TABLES[0], Op.CREATE, 300, waiver_row(CAPTURED_TABLES[0], 300)))
    pipeline.read_until(lambda events: any(e.op == "c" and _key(e) == 300 for e in events))
    event = next(e for e in pipeline.events if e.op == "c" and _key(e) == 300)
    assert event.after is not None
    assert event.after["WVR_AMT"] == "3000.00"  # decimal.handling.mode=string: exact, readable
    assert isinstance(event.after["EFF_DT"], int)  # io.debezium.time.Date: days since the epoch
    # No lost digit (time.precision.mode=adaptive, decimal.handling.mode=string):
    row = waiver_row(CAPTURED_TABLES[0], 300)
    assert event.after["WVR_RATE"] == str(row["WVR_RATE"])  # 38 digits, 18 decimals, as text
    zoned = dt.datetime.fromisoformat(event.after["SBMT_TS"].replace("Z", "+00:00"))
    assert zoned == row["SBMT_TS"] and zoned.microsecond == row["SBMT_TS"].microsecond
    # timestamp(6) -> io.debezium.time.MicroTimestamp: microseconds since the epoch, not ms
    with pipeline.standin.connect() as conn:
        [(stored,)] = conn.execute(
            f'SELECT "LAST_UPDT_TS" FROM {quoted(CAPTURED_TABLES[0])} WHERE "PLAN_BASE_WVR_ID" = 300'
        ).fetchall()
    epoch = dt.datetime(1970, 1, 1)
    assert event.after["LAST_UPDT_TS"] == (stored - epoch) // dt.timedelta(microseconds=1)


@pytest.mark.parametrize(("how", "first"), [("stop", 400), ("kill", 500)])
def test_no_event_lost_across_a_worker_restart(pipeline: Pipeline, how: str, first: int) -> None:
    """Rows written before and while every worker is down (stopped, or killed without a final
    offset flush) all arrive once the workers are back: counted against the source."""
    table = CAPTURED_TABLES[1]
    keys = range(first, first + 40)
    cluster = pipeline.cluster
    with pipeline.standin.connect() as conn:
        for key in keys[:20]:
            apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
        for index in range(len(cluster.rest_urls)):
            (cluster.stop_worker if how == "stop" else cluster.kill_worker)(index)
        for key in keys[20:]:  # written while no worker runs
            apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
        for index in range(len(cluster.rest_urls)):
            cluster.start_worker(index)
        key_column = KEY_COLUMN[table.table]
        source_count = conn.execute(
            f'SELECT count(*) FROM "{table.schema}"."{table.table}" WHERE "{key_column}" BETWEEN %s AND %s',
            (keys[0], keys[-1]),
        ).fetchone()
    wait_running(pipeline.api, pipeline.name, timeout_s=180)
    topic = pipeline.names.data_topic(table)

    def creates(events: list[ChangeEvent]) -> set[int]:
        # A kill may re-deliver events after the last flushed offset (at-least-once): count keys.
        return {_key(e) for e in events if e.topic == topic and e.op == "c" and _key(e) in keys}

    pipeline.read_until(lambda events: len(creates(events)) >= len(keys), timeout_s=180)
    assert source_count == (len(creates(pipeline.events)),)


def test_no_password_in_config_topic_or_rest(pipeline: Pipeline) -> None:
    secret = pipeline.standin.password
    stored = pipeline.api.get_config(pipeline.name)
    assert stored["database.password"] == "${env:" + STANDIN_PASSWORD_ENV + "}"
    for path in (
        f"/connectors/{pipeline.name}/config",
        f"/connectors/{pipeline.name}",
        "/connectors?expand=info",
    ):
        text = httpx.get(pipeline.cluster.rest_urls[0] + path, timeout=30).text
        assert pipeline.name in text
        assert secret not in text, path
    consumer = Consumer(
        {
            "bootstrap.servers": pipeline.cluster.bootstrap,
            "group.id": "wms-test-config-scan",
            "enable.auto.commit": False,
        }
    )
    topic = pipeline.names.config_topic
    metadata = consumer.list_topics(topic, timeout=15).topics[topic]
    raw = b""
    for partition in metadata.partitions:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        consumer.assign([TopicPartition(topic, partition, 0)])
        # With exactly-once the leader writes this topic in transactions: the last offsets are
        # commit markers, never delivered, so "read up to the high watermark" means "until
        # nothing more comes" (bounded), not "until a record at high - 1".
        deadline = time.monotonic() + 60
        idle = 0
        while idle < 2 and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=500, timeout=2)
            idle = 0 if batch else idle + 1
            for message in batch:
                if message.error() is None and message.offset() < high:
                    raw += (message.key() or b"") + (message.value() or b"")
    consumer.close()
    assert pipeline.name.encode() in raw  # we did read the connector's record
    assert secret.encode() not in raw


def test_reconcile_is_idempotent_on_real_connect(pipeline: Pipeline) -> None:
    again = register(pipeline.api, pipeline.stage, pipeline.source, pipeline.cluster.bootstrap)
    assert again.action is ReconcileAction.UNCHANGED
    config = build_config(pipeline.stage, pipeline.source, pipeline.cluster.bootstrap, KafkaAuth.PLAINTEXT)
    assert {k: v for k, v in pipeline.api.get_config(pipeline.name).items() if k in config} == config


def _key(event: ChangeEvent) -> int:
    value = next(iter(event.key.values()), -1)
    return int(value)


def test_debezium_metrics_are_read_from_the_real_jmx_exporter(pipeline: Pipeline) -> None:
    """The exporter rules and ``exposition`` agree: the worker that runs the task shows Debezium's
    streaming attributes for the stage's ``topic.prefix``; the other shows none."""
    server = names_for(pipeline.cluster.stage).topic_prefix
    pipeline.read_until(lambda events: len(events) > 0)
    streaming = []
    for url in pipeline.cluster.metrics_urls:
        samples = exposition.parse(httpx.get(url, timeout=10).text)
        assert any(s.name.startswith("kafka_connect_") for s in samples)
        streaming.append(exposition.debezium(samples, server=server))
    running_here = [attrs for attrs in streaming if attrs]
    assert len(running_here) == 1, streaming
    attrs = running_here[0]
    assert attrs["connected"] == 1.0
    assert {
        "millisecondsbehindsource",
        "millisecondssincelastevent",
        "queueremainingcapacity",
    } <= attrs.keys()
