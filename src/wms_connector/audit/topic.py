"""The audit's Kafka side: fold a data topic, read the connector's committed offset (read-only).

Both read with ``isolation.level=read_committed`` (the workers write in transactions, KIP-618),
from offset 0 to the end offsets taken when the read starts, with a consumer group that is never
committed (``enable.auto.commit=false``, no ``commit()``): nothing is written to the cluster.

A Debezium JSON record is ``{"schema": ..., "payload": ...}``, and the schema (most of its bytes)
is the same for every record of a table: it is parsed once per distinct schema and the payload
alone is parsed per record, which keeps a million-record fold within the benchmark's minute.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from wms_connector.audit.compare import (
    Canon,
    Layouts,
    TableFold,
    column_decoder,
    digest_values,
    key_of,
    row_digest,
)
from wms_connector.errors import WmsError

_HEAD: Final = b'{"schema":'
_SEPARATOR: Final = b',"payload":'
#: How long a read may see no progress before it gives up (a broker gone, a transaction stuck open).
STALL_S: Final = 120.0


class AuditReadError(WmsError):
    """The topic or the offsets could not be read to the end."""


def split_envelope(raw: bytes) -> tuple[bytes, Any]:
    """``(schema bytes, payload)`` of a JSON-converter record; parses only the payload."""
    if raw.startswith(_HEAD):
        cut = raw.find(_SEPARATOR)
        if cut > 0 and raw.endswith(b"}"):
            try:
                return raw[len(_HEAD) : cut], json.loads(raw[cut + len(_SEPARATOR) : -1])
            except ValueError:
                pass  # a schema that held the separator text: parse the whole record below
    document = json.loads(raw)
    if isinstance(document, dict) and "payload" in document and "schema" in document:
        return json.dumps(document["schema"], sort_keys=True).encode(), document["payload"]
    return b"", document


class SchemaCache:
    """Per distinct value schema: each ``after`` column's decoder (by its logical type name), and
    the row plan (layout, columns in digest order with their decoders) of ``layouts``."""

    def __init__(self, layouts: Layouts | None = None) -> None:
        self._decoders: dict[bytes, dict[str, Callable[[Any], Canon]]] = {}
        self._plans: dict[bytes, tuple[int, list[tuple[str, Callable[[Any], Canon]]]]] = {}
        self._layouts = layouts or Layouts()

    def plan(self, schema: bytes) -> tuple[int, list[tuple[str, Callable[[Any], Canon]]]]:
        found = self._plans.get(schema)
        if found is None:
            decoders = self.after_decoders(schema)
            layout, names = self._layouts.plan(tuple(decoders))
            found = self._plans[schema] = (layout, [(name, decoders[name]) for name in names])
        return found

    def after_decoders(self, schema: bytes) -> dict[str, Callable[[Any], Canon]]:
        found = self._decoders.get(schema)
        if found is None:
            names = _after_names(json.loads(schema) if schema else {})
            found = self._decoders[schema] = {column: column_decoder(name) for column, name in names.items()}
        return found


def _after_names(schema: Mapping[str, Any]) -> dict[str, str | None]:
    for envelope_field in schema.get("fields") or []:
        if envelope_field.get("field") == "after":
            return {f["field"]: f.get("name") for f in envelope_field.get("fields") or []}
    return {}


_PLAIN: Final = column_decoder(None)


def decode_after(
    after: Mapping[str, Any], decoders: Mapping[str, Callable[[Any], Canon]]
) -> dict[str, Canon]:
    return {column: decoders.get(column, _PLAIN)(value) for column, value in after.items()}


#: A key of the client config this module reads (and strips): the consumer group id's prefix.
GROUP_PREFIX_KEY: Final = "wms.audit.group.prefix"


def consumer_config(client: Mapping[str, Any]) -> dict[str, Any]:
    """A consumer that never commits; its group id starts with ``client[GROUP_PREFIX_KEY]``
    (``naming.audit_consumer_group_prefix``: what the audit's MSK IAM grant allows)."""
    prefix = str(client.get(GROUP_PREFIX_KEY, "wms-audit-"))
    return {
        **{k: v for k, v in client.items() if k != GROUP_PREFIX_KEY},
        "group.id": f"{prefix}{uuid.uuid4().hex[:12]}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        # Small prefetch buffers: the fold's memory is the keys', not librdkafka's queue. The fetch
        # sizes count compressed bytes, and the workers' batches shrink ~40x (docs/stream.md): a
        # 1 MB fetch (librdkafka's minimum) is ~40 MB of records (8 MB fetches took 300-450 MB
        # more RSS, no faster; bench/audit.py).
        "fetch.max.bytes": 1_048_576,
        "max.partition.fetch.bytes": 262_144,
        "queued.max.messages.kbytes": 8_192,
        # A full queue postpones the next fetch by this much (librdkafka's default, 1 s, left the
        # fold waiting for records most of the time: 7 s of CPU in a 15 s fold).
        "fetch.queue.backoff.ms": 20,
    }


def end_offsets(client: Mapping[str, Any], topic: str) -> dict[int, int]:
    """Each partition's end offset now (where a fold that ignores the history before starts)."""
    consumer = Consumer(consumer_config(client))
    try:
        metadata = consumer.list_topics(topic, timeout=30).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise AuditReadError(f"topic {topic!r} cannot be read: {getattr(metadata, 'error', 'missing')}")
        return {p: _high(consumer, topic, p) for p in metadata.partitions}
    finally:
        consumer.close()


#: A topic created a moment ago may have no leader yet: its offsets are asked again.
_NO_LEADER_YET: Final = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
)


def _high(consumer: Consumer, topic: str, partition: int, attempts: int = 30) -> int:
    for attempt in range(attempts):
        try:
            return int(consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)[1])
        except KafkaException as error:
            if error.args[0].code() not in _NO_LEADER_YET or attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def read_to_end(
    client: Mapping[str, Any],
    topic: str,
    on_record: Callable[[bytes | None, bytes | None], None],
    *,
    start: Mapping[int, int] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Every committed record of ``topic`` from offset 0 (or ``start``, per partition) to the end
    offsets read now, in partition order per key; ``on_record(key, value)`` for each. Returns the
    records read."""
    consumer = Consumer(consumer_config(client))
    try:
        metadata = consumer.list_topics(topic, timeout=30).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise AuditReadError(f"topic {topic!r} cannot be read: {getattr(metadata, 'error', 'missing')}")
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
            first = max(low, (start or {}).get(partition, low))
            if high > first:
                ends[partition] = high
        if not ends:
            return 0
        consumer.assign([TopicPartition(topic, p, (start or {}).get(p, OFFSET_BEGINNING)) for p in ends])
        done: set[int] = set()
        count = 0
        last_progress = clock()
        while len(done) < len(ends):
            # A short wait: consume() returns at its timeout when fewer records are there.
            messages = consumer.consume(num_messages=1000, timeout=0.1)
            if messages:
                last_progress = clock()
            for message in messages:
                error = message.error()
                partition = message.partition() or 0
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        # Read committed: the end is the last stable offset; commit markers are
                        # never delivered, so the position (not the last record) says how far.
                        (position,) = consumer.position([TopicPartition(topic, partition)])
                        if position.offset >= ends[partition]:
                            done.add(partition)
                        continue
                    raise AuditReadError(f"reading {topic!r} failed: {error}")
                offset = message.offset() or 0
                if offset < ends[partition]:
                    count += 1
                    on_record(message.key(), message.value())
                if offset + 1 >= ends[partition]:
                    done.add(partition)
            if clock() - last_progress > STALL_S:
                raise AuditReadError(
                    f"reading {topic!r} made no progress for {STALL_S:.0f} s "
                    f"(partitions not at their end: {sorted(set(ends) - done)})"
                )
        return count
    finally:
        consumer.close()


def fold_topic(
    client: Mapping[str, Any], topic: str, fold: TableFold, start: Mapping[int, int] | None = None
) -> int:
    """Fold ``topic`` into ``fold`` (latest value per key at the fold's point), from offset 0 or
    from ``start`` (the local demo: where a fresh stand-in's history begins)."""
    schemas = SchemaCache(fold.layouts)

    def on_record(key: bytes | None, value: bytes | None) -> None:
        if key is None:
            raise AuditReadError(f"a record without a key in {topic!r}: a data topic holds keyed rows only")
        _key_schema, key_payload = split_envelope(key)
        row_key = key_of(list(key_payload.values()) if isinstance(key_payload, dict) else [key_payload])
        if value is None:
            fold.apply(row_key, None, dict)
            return
        schema, payload = split_envelope(value)
        after = (payload.get("after") if isinstance(payload, dict) else None) or {}

        def digest() -> bytes:
            layout, columns = schemas.plan(schema)
            if len(after) == len(columns):  # the schema's columns, as Debezium writes every row
                try:
                    values = [decode(after[name]) for name, decode in columns]
                except KeyError:
                    pass
                else:
                    return digest_values(fold.layouts, layout, values)
            return row_digest(fold.layouts, decode_after(after, schemas.after_decoders(schema)))

        fold.apply_digest(row_key, payload, digest)

    return read_to_end(client, topic, on_record, start=start)


def connector_offset(client: Mapping[str, Any], offsets_topic: str, connector: str) -> dict[str, Any] | None:
    """The connector's last committed source offset, read from Connect's offsets topic (the
    record ``["<connector>", {partition}] -> {offset}`` with the highest offset; ``None`` if none)."""
    latest: dict[str, Any] | None = None

    def on_record(key: bytes | None, value: bytes | None) -> None:
        nonlocal latest
        if key is None:
            return
        try:
            parsed = json.loads(key)
        except ValueError:
            return
        if isinstance(parsed, list) and parsed and parsed[0] == connector:
            latest = json.loads(value) if value is not None else None

    read_to_end(client, offsets_topic, on_record)
    return latest
