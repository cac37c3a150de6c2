"""Debezium change events as read from Kafka (JSON converter with schemas), summarised (pure)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

_OP_NAMES = {"c": "insert", "u": "update", "d": "delete", "r": "snapshot", "t": "truncate"}


@dataclass(frozen=True)
class ChangeEvent:
    topic: str
    op: str  # c, u, d, r, t; "tombstone" for the null value after a delete
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    commit_ms: int | None  # source.ts_ms: when the change was committed in the source
    kafka_ms: int | None  # the record's timestamp in Kafka
    offset: int = -1
    partition: int = 0

    @property
    def op_name(self) -> str:
        return _OP_NAMES.get(self.op, self.op)

    @property
    def latency_ms(self) -> int | None:
        if self.commit_ms is None or self.kafka_ms is None:
            return None
        return self.kafka_ms - self.commit_ms

    @property
    def key_text(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.key.items())

    def summary(self, width: int = 60) -> str:
        """A short before/after: the columns that changed, else a few values."""
        if self.before and self.after:
            changed = {k: (self.before.get(k), v) for k, v in self.after.items() if self.before.get(k) != v}
            text = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
        elif self.after:
            text = ", ".join(f"{k}={v}" for k, v in list(self.after.items())[1:4])
        elif self.before:
            text = "removed " + ", ".join(f"{k}={v}" for k, v in list(self.before.items())[1:3])
        else:
            text = ""
        return text if len(text) <= width else text[: width - 1] + "…"


def _payload(raw: bytes | None) -> Any:
    if raw is None:
        return None
    document = json.loads(raw)
    if isinstance(document, dict) and "payload" in document and "schema" in document:
        return document["payload"]
    return document


def parse_event(
    topic: str,
    key: bytes | None,
    value: bytes | None,
    kafka_ms: int | None,
    *,
    offset: int = -1,
    partition: int = 0,
) -> ChangeEvent:
    key_payload = _payload(key) or {}
    payload = _payload(value)
    if payload is None:
        return ChangeEvent(topic, "tombstone", key_payload, None, None, None, kafka_ms, offset, partition)
    source = payload.get("source") or {}
    return ChangeEvent(
        topic=topic,
        op=str(payload.get("op")),
        key=key_payload,
        before=payload.get("before"),
        after=payload.get("after"),
        commit_ms=source.get("ts_ms"),
        kafka_ms=kafka_ms,
        offset=offset,
        partition=partition,
    )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (``fraction`` in 0..1)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
