"""The local pipeline, given a running broker + Connect workers: topics, the connector, the tail.

The I/O shell around the pure parts (``connector_config``, ``workload``, ``events``). The cluster
itself is started elsewhere (``wms_connector.local`` runtime); this module only needs its bootstrap
servers and a Connect REST URL, so tests, ``wms-connector local run`` and the benchmark share it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from wms_connector.connect.connector_config import SourceAdapter, build_config
from wms_connector.connect.rest import ConnectApi, ConnectRestError, ReconcileResult, reconcile
from wms_connector.errors import WmsError
from wms_connector.kafka.admin import TopicAdmin, reconcile_topics
from wms_connector.kafka.client import LIBRDKAFKA_LOG
from wms_connector.kafka.reconcile import ActionKind
from wms_connector.kafka.topics import TopicRole, topic_specs
from wms_connector.local.events import ChangeEvent, parse_event
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage

_MISSING_TOPIC: Final = (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC)
_NO_LEADER_YET: Final = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
)


#: The topics created before the connector starts: those Debezium writes and the agents' hold
#: topic. The Connect workers own (and create) their internal topics.
PRECREATED_ROLES: Final = frozenset(
    {
        TopicRole.DATA,
        TopicRole.SCHEMA_CHANGES,
        TopicRole.SCHEMA_HISTORY,
        TopicRole.HEARTBEAT,
        TopicRole.SIGNAL,
        TopicRole.AGENT_HOLD,
    }
)


def ensure_local_topics(bootstrap: str, stage: Stage) -> list[str]:
    """Create the stage's Debezium topics (data, schema changes and history, heartbeat, signal) and
    the agents' hold topic on the LOCAL broker from the topics module's specs, replication factor 1
    (one broker). The local broker does not auto-create topics, as MSK does not. Returns the topics
    created."""
    specs = [s for s in topic_specs(stage, replication_factor=1) if s.role in PRECREATED_ROLES]
    admin = TopicAdmin.connect(bootstrap, KafkaAuth.PLAINTEXT)
    result = reconcile_topics(admin, specs, dry_run=False)
    if result.failed:
        problems = "; ".join(f"{r.action.spec.name}: {r.error}" for r in result.failed)
        raise WmsError(
            f"cannot create the topics of stage {stage.name!r} on the local broker {bootstrap}: {problems}"
        )
    return [r.action.spec.name for r in result.results if r.action.kind is ActionKind.CREATE and r.applied]


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
    *,
    exactly_once: bool | None = None,
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
    config = build_config(stage, source, bootstrap, auth, exactly_once=exactly_once)
    api.create(name, config, initial_state="STOPPED")
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
    """Reads change events from the data topics (from the beginning, or ``from_now``), without
    committing offsets, with ``isolation.level=read_committed`` (what every consumer must set)."""

    bootstrap: str
    topics: Sequence[str]
    group_id: str = ""
    #: Read only what arrives from now on (the topics must exist), not the topics' history.
    from_now: bool = False

    def __post_init__(self) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group_id or f"wms-local-tail-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
                "fetch.wait.max.ms": 50,
                # The workers write in Kafka transactions (exactly-once source, KIP-618): read only
                # committed ones, or a killed task's aborted records would show as duplicates.
                # (librdkafka's default too; Java consumers default to read_uncommitted.)
                "isolation.level": "read_committed",
                # librdkafka's own lines ("%3|...|FAIL|...") go to a log, never to the terminal.
                "logger": LIBRDKAFKA_LOG,
            }
        )
        if self.from_now:
            self._consumer.assign(self._ends())
        else:
            self._consumer.subscribe(list(self.topics))

    def _ends(self) -> list[TopicPartition]:
        """Every partition of the (existing) topics at its current end."""
        assignment = []
        for topic in self.topics:
            metadata = self._consumer.list_topics(topic, timeout=15).topics[topic]
            if metadata.error is not None:
                raise WmsError(f"topic {topic!r} is not readable: {metadata.error}")
            for partition in metadata.partitions:
                assignment.append(TopicPartition(topic, partition, self._end(topic, partition)))
        return assignment

    def _end(self, topic: str, partition: int, attempts: int = 30) -> int:
        # A topic created a moment ago may not have a leader yet.
        for _ in range(attempts - 1):
            try:
                _low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=15
                )
                return int(high)
            except KafkaException as error:
                if error.args[0].code() not in _NO_LEADER_YET:
                    raise
                time.sleep(0.5)
        _low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        return int(high)

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
