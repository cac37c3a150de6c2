"""The local cluster is the real thing: one group, the Debezium plugin, namespaced compacted
internal topics read back from the broker, a connector that moves records end to end."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from wms_connector.local.cluster import LocalCluster, group_members
from wms_connector.naming import names_for

pytestmark = pytest.mark.integration

ORACLE_CONNECTOR = "io.debezium.connector.oracle.OracleConnector"
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def _until(predicate, timeout_s: float = 90.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached in {timeout_s} s (last: {last!r})")


def test_workers_form_one_group_and_answer(local_cluster: LocalCluster) -> None:
    names = names_for(local_cluster.stage)
    expected = {url.removeprefix("http://") for url in local_cluster.rest_urls}
    assert len(expected) == 2
    assert group_members(local_cluster.bootstrap, names.group_id) == expected
    for url in local_cluster.rest_urls:
        root = httpx.get(f"{url}/", timeout=10)
        assert root.status_code == 200
        assert root.json()["version"] == "4.3.0"
        plugins = {p["class"] for p in httpx.get(f"{url}/connector-plugins", timeout=10).json()}
        assert ORACLE_CONNECTOR in plugins


def test_internal_topics_are_namespaced_and_compacted_on_the_broker(local_cluster: LocalCluster) -> None:
    names = names_for(local_cluster.stage)
    admin = AdminClient({"bootstrap.servers": local_cluster.bootstrap})
    on_broker = set(admin.list_topics(timeout=10).topics)
    internal = {names.config_topic, names.offsets_topic, names.status_topic}
    assert internal <= on_broker
    for topic in internal:
        assert topic.startswith(names.topic_namespace)
        assert names.topic_namespace == "--wms--it-local--"
    resources = [ConfigResource(ConfigResource.Type.TOPIC, t) for t in sorted(internal)]
    for resource, future in admin.describe_configs(resources).items():
        configs = future.result(timeout=10)
        assert configs["cleanup.policy"].value == "compact", resource.name
    config_meta = admin.list_topics(names.config_topic, timeout=10).topics[names.config_topic]
    assert len(config_meta.partitions) == 1


def test_a_builtin_connector_runs_and_its_records_are_read_back(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    names = names_for(local_cluster.stage)
    suffix = uuid.uuid4().hex[:8]
    topic = f"{names.topic_namespace}it.filestream.{suffix}"
    admin = AdminClient({"bootstrap.servers": local_cluster.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
    source = tmp_path / "lines.txt"
    lines = [f"line-{i}-{suffix}" for i in range(5)]
    source.write_text("\n".join(lines) + "\n")
    connector = f"it-filestream-{suffix}"
    url = local_cluster.rest_urls[0]
    config = {"connector.class": FILE_SOURCE, "tasks.max": "1", "file": str(source), "topic": topic}
    response = httpx.put(f"{url}/connectors/{connector}/config", json=config, timeout=30)
    assert response.status_code in (200, 201), response.text

    def running() -> bool:
        status = httpx.get(f"{url}/connectors/{connector}/status", timeout=10)
        if status.status_code != 200:
            return False
        body = status.json()
        return body["connector"]["state"] == "RUNNING" and [t["state"] for t in body["tasks"]] == ["RUNNING"]

    _until(running, what=f"{connector} RUNNING")
    consumer = Consumer(
        {
            "bootstrap.servers": local_cluster.bootstrap,
            "group.id": f"it-reader-{suffix}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    got: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while len(got) < len(lines) and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            # JsonConverter with schemas: {"schema": {"type": "string"...}, "payload": "<line>"}
            got.append(json.loads(message.value())["payload"])
    finally:
        consumer.close()
        httpx.delete(f"{url}/connectors/{connector}", timeout=30)
    assert got == lines


def test_a_stopped_worker_leaves_the_group_and_comes_back(cluster_workers_restored: LocalCluster) -> None:
    cluster = cluster_workers_restored
    group = names_for(cluster.stage).group_id
    everyone = {url.removeprefix("http://") for url in cluster.rest_urls}
    cluster.stop_worker(1)
    _until(
        lambda: group_members(cluster.bootstrap, group) == everyone - {cluster.rest_urls[1][7:]},
        what="1 member",
    )
    cluster.start_worker(1)
    _until(lambda: group_members(cluster.bootstrap, group) == everyone, what="2 members")
