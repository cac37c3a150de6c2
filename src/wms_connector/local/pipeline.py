"""The local pipeline, given a running broker + Connect workers: topics, the connector, the tail.

The I/O shell around the pure parts (``connector_config``, ``workload``, ``events``). The cluster
itself is started elsewhere (``wms_connector.local`` runtime); this module only needs its bootstrap
servers and a Connect REST URL, so tests, ``wms-connector local run`` and the benchmark share it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from wms_connector.connect_api import ConnectApi, ConnectRestError, ReconcileResult, reconcile
from wms_connector.connector_config import SourceAdapter, build_config
from wms_connector.errors import WmsError
from wms_connector.local.events import ChangeEvent, parse_event
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage

_MISSING_TOPIC: Final = (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC)


def ensure_local_topics(bootstrap: str, stage: Stage, partitions: int = 1) -> list[str]:
    """Create the stage's data, history, heartbeat and signal topics on the LOCAL broker if missing.

    Local only, replication factor 1. On MSK the topics module creates them with the stage's specs.
    Returns the topics created.
    """
    names = names_for(stage)
    wanted = {
        **{topic: (partitions, {}) for topic in names.data_topics.values()},
        names.schema_change_topic: (1, {}),
        names.schema_history_topic: (1, {"retention.ms": "-1", "cleanup.policy": "delete"}),
        names.heartbeat_topic: (1, {}),
        names.signal_topic: (1, {}),
    }
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=15).topics)
    new = [
        NewTopic(topic, num_partitions=count, replication_factor=1, config=config)
        for topic, (count, config) in wanted.items()
        if topic not in existing
    ]
    if not new:
        return []
    for topic, future in admin.create_topics(new, operation_timeout=15).items():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise WmsError(
                    f"cannot create topic {topic!r} on the local broker {bootstrap}: {error}"
                ) from error
    return [t.topic for t in new]


def register(
    api: ConnectApi,
    stage: Stage,
    source: SourceAdapter,
    bootstrap: str,
    auth: KafkaAuth = KafkaAuth.PLAINTEXT,
) -> ReconcileResult:
    """Create or update the connector for ``source`` (idempotent)."""
    names = names_for(stage)
    config = build_config(stage, source, bootstrap, auth)
    return reconcile(api, source.connector_name(names), config)


def register_fresh(
    api: ConnectApi,
    stage: Stage,
    source: SourceAdapter,
    bootstrap: str,
    auth: KafkaAuth = KafkaAuth.PLAINTEXT,
) -> str:
    """Register the connector for a *new* source database, forgetting offsets of earlier runs.

    Connect keeps source offsets by connector name in its offsets topic, beyond a delete. A fresh
    stand-in has none of the old positions (Debezium would refuse to start), so the connector is
    created STOPPED (KIP-980), its offsets are deleted (KIP-875), then it is resumed.
    """
    names = names_for(stage)
    name = source.connector_name(names)
    try:
        api.delete(name)
    except ConnectRestError as error:
        if error.status != 404:
            raise
    api.create(name, build_config(stage, source, bootstrap, auth), initial_state="STOPPED")
    _wait_state(api, name, "STOPPED")
    api.delete_offsets(name)
    api.resume(name)
    return name


def _wait_state(api: ConnectApi, name: str, state: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if api.status(name).get("connector", {}).get("state") == state:
            return
        time.sleep(0.3)
    raise WmsError(f"connector {name!r} did not reach {state} within {timeout_s:.0f} s")


def wait_running(api: ConnectApi, name: str, timeout_s: float = 120.0, poll_s: float = 0.5) -> dict[str, Any]:
    """Wait until the connector and its task are RUNNING; a FAILED task stops the wait with its trace."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = api.status(name)
        tasks = last.get("tasks", [])
        for task in tasks:
            if task.get("state") == "FAILED":
                trace = str(task.get("trace", "")).splitlines()[:3]
                raise WmsError(f"connector {name!r} task {task.get('id')} FAILED: {' | '.join(trace)}")
        if (
            last.get("connector", {}).get("state") == "RUNNING"
            and tasks
            and all(t.get("state") == "RUNNING" for t in tasks)
        ):
            return last
        time.sleep(poll_s)
    raise WmsError(f"connector {name!r} not RUNNING after {timeout_s:.0f} s (last status: {last})")


@dataclass
class EventTail:
    """Reads change events from the data topics, from the beginning, with a throw-away group."""

    bootstrap: str
    topics: Iterable[str]
    group_id: str = ""

    def __post_init__(self) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group_id or f"wms-local-tail-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
                "fetch.wait.max.ms": 50,
            }
        )
        self._consumer.subscribe(list(self.topics))

    def poll(self, timeout_s: float = 0.5, max_events: int = 500) -> list[ChangeEvent]:
        messages = self._consumer.consume(num_messages=max_events, timeout=timeout_s)
        events = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() in _MISSING_TOPIC or error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise WmsError(f"reading change events failed: {error}")
            _kind, stamp = message.timestamp()
            offset, partition = message.offset(), message.partition()
            events.append(
                parse_event(
                    message.topic() or "",
                    message.key(),
                    message.value(),
                    stamp if stamp > 0 else None,
                    offset=-1 if offset is None else offset,
                    partition=0 if partition is None else partition,
                )
            )
        return events

    def collect(
        self,
        until: Callable[[list[ChangeEvent]], bool],
        timeout_s: float,
        into: list[ChangeEvent] | None = None,
    ) -> list[ChangeEvent]:
        """Poll until ``until(events)`` holds or ``timeout_s`` passes; returns everything read."""
        events = into if into is not None else []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not until(events):
            events.extend(self.poll())
        return events

    def close(self) -> None:
        self._consumer.close()
