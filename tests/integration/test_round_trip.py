"""A real downstream consumer: the stand-in's topics replayed into a second database, compared.

Debezium's JDBC sink connector (a sink nobody here wrote; TEST ONLY, ``tests/sink/pom.xml``) runs
on the suite's real Connect workers, reads the four data topics (``read_committed``: the workers'
``consumer.isolation.level``) and upserts/deletes into a copy of the stand-in's tables in a second
PostgreSQL database. After a workload of inserts, updates and deletes in both schemas, and again
after a kill -9 of a worker in the middle of a workload, the sink must equal the source row by row,
every column, at full precision: microsecond timestamps with and without a time zone, a
38-digit decimal with 18 decimals, an unconstrained numeric (its scale included), dates.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.failover import task_worker, wait_offsets_committed, wait_task_moved, worker_id
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import DB_NAME, StandInPostgres
from wms_connector.local.workload import Change, Op, apply, demo_steps, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage

from .jdbc_sink import SINK_DB, differences, row_count, sink_config

pytestmark = pytest.mark.integration

CONVERGE_TIMEOUT_S = 150.0


@dataclass
class RoundTrip:
    cluster: LocalCluster
    standin: StandInPostgres
    apis: dict[str, HttpConnectApi]
    source: str
    sink: str

    @property
    def api(self) -> HttpConnectApi:
        alive = self.cluster.liveness(self.cluster.state)
        [first] = [self.apis[worker_id(w.port)] for w in self.cluster.state.workers if alive[w.name]][:1]
        return first

    def converge(self, timeout_s: float = CONVERGE_TIMEOUT_S) -> list[str]:
        """Wait until the sink equals the source; the differences left at the deadline."""
        deadline = time.monotonic() + timeout_s
        found = differences(self.standin, DB_NAME)
        while found and time.monotonic() < deadline:
            time.sleep(1.0)
            found = differences(self.standin, DB_NAME)
        return found


def topic_ends(bootstrap: str, topics: list[str]) -> list[dict[str, Any]]:
    """KIP-875 sink offsets at the current end of every partition: the sink reads from now on
    (the session's topics hold other tests' events, which belong to other databases)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "wms-round-trip-ends"})
    try:
        offsets = []
        for topic in topics:
            for partition in consumer.list_topics(topic, timeout=15).topics[topic].partitions:
                _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
                offsets.append(
                    {
                        "partition": {"kafka_topic": topic, "kafka_partition": partition},
                        "offset": {"kafka_offset": high},
                    }
                )
        return offsets
    finally:
        consumer.close()


def start_sink(api: HttpConnectApi, url: str, stage: Stage, standin: StandInPostgres, bootstrap: str) -> str:
    name = names_for(stage).test_sink_connector
    api.create(name, sink_config(stage, standin), initial_state="STOPPED")
    deadline = time.monotonic() + 60
    while api.status(name).get("connector", {}).get("state") != "STOPPED":
        assert time.monotonic() < deadline, api.status(name)
        time.sleep(0.3)
    ends = topic_ends(bootstrap, list(names_for(stage).data_topics.values()))
    answer = httpx.patch(f"{url}/connectors/{name}/offsets", json={"offsets": ends}, timeout=30)
    assert answer.status_code == 200, answer.text
    api.resume(name)
    wait_running(api, name)
    return name


@pytest.fixture
def round_trip(cluster_workers_restored: LocalCluster, standin_state_dir: Path) -> Iterator[RoundTrip]:
    cluster = cluster_workers_restored
    stage = cluster.stage
    standin = StandInPostgres(standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    standin.create_copy(SINK_DB)
    apis = {
        worker_id(w.port): HttpConnectApi(
            f"http://127.0.0.1:{w.port}", timeout_s=10, backoff=BackOff(scale_ms=300, max_attempts=4)
        )
        for w in cluster.state.workers
    }
    [first_url, *_] = cluster.rest_urls
    first = apis[worker_id(cluster.state.workers[0].port)]
    ensure_local_topics(cluster.bootstrap, stage)
    sink = start_sink(first, first_url, stage, standin, cluster.bootstrap)
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    name = register_fresh(first, stage, source, cluster.bootstrap)
    wait_running(first, name)
    trip = RoundTrip(cluster, standin, apis, name, sink)
    try:
        yield trip
    finally:
        for connector in (name, sink):
            trip.api.delete(connector)
        for api in apis.values():
            api.close()
        standin.stop()


def test_sink_equals_source_after_inserts_updates_and_deletes(round_trip: RoundTrip) -> None:
    with round_trip.standin.connect() as conn:
        for change in demo_steps(rows_per_table=6, first_key=11):
            apply(conn, change)
    found = round_trip.converge()
    assert found == [], "\n".join(found[:20])
    counts = row_count(round_trip.standin, SINK_DB)
    # 6 inserted, 1 deleted, in each of the four tables (both schemas): the deletes were applied.
    assert counts == {t.qualified: 5 for t in CAPTURED_TABLES}, counts


def mixed_changes(first_key: int, keys: int) -> list[Change]:
    """Per key and table: insert, update, and for every third key a delete."""
    changes: list[Change] = []
    for key in range(first_key, first_key + keys):
        for table in CAPTURED_TABLES:
            changes.append(Change(table, Op.CREATE, key, waiver_row(table, key)))
            changes.append(Change(table, Op.UPDATE, key, waiver_row(table, key, 1)))
            if key % 3 == 0:
                changes.append(Change(table, Op.DELETE, key, {}))
    return changes


def test_sink_equals_source_after_a_kill_9_mid_workload(round_trip: RoundTrip) -> None:
    trip, cluster = round_trip, round_trip.cluster
    changes = mixed_changes(first_key=1_000, keys=60)  # 600 changes
    applied = threading.Event()
    failure: list[BaseException] = []

    def drive(rate: float = 25.0) -> None:
        try:
            with trip.standin.connect() as conn:
                began = time.monotonic()
                for index, change in enumerate(changes):
                    time.sleep(max(0.0, began + index / rate - time.monotonic()))
                    apply(conn, change)
        except BaseException as error:  # surfaced below
            failure.append(error)
        finally:
            applied.set()

    driver = threading.Thread(target=drive, name="round-trip-load", daemon=True)
    driver.start()
    time.sleep(4.0)  # in the middle of the workload
    wait_offsets_committed(trip.api, trip.source)
    victim = task_worker(trip.api.status(trip.source))
    assert victim is not None
    [entry] = [w for w in cluster.state.workers if worker_id(w.port) == victim]
    cluster.kill_worker(entry.index)
    assert not applied.is_set(), "the workload ended before the kill: it was not mid-workload"
    [survivor] = [w for w in trip.apis if w != victim]
    wait_task_moved(trip.apis[survivor], trip.source, victim, timeout_s=120)
    cluster.start_worker(entry.index)
    driver.join(timeout=120)
    assert not failure, failure
    wait_running(trip.api, trip.sink)
    found = trip.converge()
    assert found == [], "\n".join(found[:20])
    counts = row_count(trip.standin, SINK_DB)
    assert counts == {t.qualified: 40 for t in CAPTURED_TABLES}, counts  # 60 keys, 20 deleted
