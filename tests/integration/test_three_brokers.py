"""Production's topology: three brokers, replication factor 3, ``min.insync.replicas=2``.

The stand-in connector streams with exactly-once delivery while the broker leading the most data
partitions is killed (SIGKILL) and started again: the partition leaders move, the task keeps
running, and a ``read_committed`` reader sees every row inserted exactly once. The longer drills
(rolling restart, a frozen broker, a broker with an empty disk, worker rolling deploys) are in
``bench/drills.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.kafka.admin import TopicAdmin
from wms_connector.kafka.topics import TopicRole, topic_specs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.events import ChangeEvent
from wms_connector.local.failover import InsertLoad, count_delivery, delivered_keys, wait_offsets_committed
from wms_connector.local.leaders import busiest_leader, describe_partitions, wait_in_sync, wait_leaders_away
from wms_connector.local.pipeline import (
    PRECREATED_ROLES,
    EventTail,
    ensure_local_topics,
    register_fresh,
    wait_running,
)
from wms_connector.local.standin import StandInPostgres
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, settings_for

pytestmark = pytest.mark.integration

FIRST_KEY = 8_000_000


@dataclass
class Streaming:
    cluster: LocalCluster
    standin: StandInPostgres
    api: HttpConnectApi
    name: str
    tail: EventTail
    data_topics: list[str]


@pytest.fixture(scope="module")
def streaming(three_brokers: LocalCluster, module_standin_state_dir: Path) -> Iterator[Streaming]:
    cluster = three_brokers
    stage = cluster.stage
    standin = StandInPostgres(module_standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    api = HttpConnectApi(cluster.rest_urls[0], timeout_s=10, backoff=BackOff(scale_ms=300, max_attempts=6))
    data_topics = list(names_for(stage).data_topics.values())
    try:
        ensure_local_topics(cluster.bootstrap, stage)
        tail = EventTail(cluster.bootstrap, data_topics, from_now=True)
        source = PostgresStandIn(
            standin.host, standin.port, standin.dbname, standin.user, password=standin.password
        )
        name = register_fresh(api, stage, source, cluster.bootstrap)
        wait_running(api, name)
        yield Streaming(cluster, standin, api, name, tail, data_topics)
        tail.close()
        api.delete(name)
    finally:
        api.close()
        standin.stop()


def test_topics_get_productions_replication_and_min_insync_replicas(streaming: Streaming) -> None:
    stage = streaming.cluster.stage
    assert settings_for(stage).replication_factor == 3
    admin = TopicAdmin.connect(streaming.cluster.bootstrap, KafkaAuth.PLAINTEXT)
    assert admin.broker_count() == 3
    specs = [s for s in topic_specs(stage) if s.role in PRECREATED_ROLES]
    described = admin.describe(s.name for s in specs)
    for spec in specs:
        state = described[spec.name]
        assert (state.replication_factor, state.partitions) == (3, spec.partitions), spec.name
        assert state.config["min.insync.replicas"] == "2", spec.name
    # Connect's own topics too (created by the worker from its replication settings).
    internal = [s.name for s in topic_specs(stage) if s.role is TopicRole.CONNECT_OFFSETS]
    assert {len(p.replicas) for p in describe_partitions(streaming.cluster.bootstrap, internal)} == {3}


def test_exactly_once_across_a_partition_leader_change(streaming: Streaming) -> None:
    cluster, api, name = streaming.cluster, streaming.api, streaming.name
    seen: list[ChangeEvent] = []
    load = InsertLoad(streaming.standin, FIRST_KEY, rate=40).start()
    try:
        streaming.tail.collect(lambda events: len(delivered_keys(events)) >= 40, 60, into=seen)
        assert delivered_keys(seen), (
            "no insert arrived before the leader change: the pipeline is not streaming"
        )
        wait_offsets_committed(api, name)

        victim = busiest_leader(describe_partitions(cluster.bootstrap, streaming.data_topics))
        cluster.stop_broker(victim, hard=True)
        # The controller fences the dead broker and elects leaders among the in-sync followers.
        wait_leaders_away(cluster.bootstrap, streaming.data_topics, victim, timeout_s=60)
        at_leader_change = len(load.written)
        streaming.tail.collect(lambda _: False, 3, into=seen)
        cluster.start_broker(victim)
        wait_in_sync(cluster.bootstrap, streaming.data_topics, timeout_s=90)
        streaming.tail.collect(lambda _: False, 2, into=seen)
    finally:
        written = load.stop()
    assert len(written) > at_leader_change, "no row was inserted after the leader change"
    wanted = set(written)
    streaming.tail.collect(lambda events: wanted <= set(delivered_keys(events)), 90, into=seen)
    delivery = count_delivery(written, delivered_keys(seen))
    assert not delivery.lost, delivery.describe()
    assert delivery.duplicates == 0, delivery.describe()
    assert delivery.written == len(written)
    wait_running(api, name, timeout_s=10)  # the task never FAILED (a FAILED task raises here)
