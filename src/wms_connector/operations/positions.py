"""The connector's position: read from Connect's offsets, shown, saved to a file and put back (pure).

``GET /connectors/<n>/offsets`` (KIP-875) answers ``{"offsets": [{"partition": {...}, "offset":
{...}}]}``. Debezium's Oracle offset carries ``scn`` (where mining resumes) and ``commit_scn``
(the last committed transaction handed to Kafka); the PostgreSQL stand-in's carries ``lsn`` (and
``ts_usec``, the commit time). A saved file is that answer with who/when/which connector, so a
restore can refuse a file of another stage or connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from wms_connector.errors import InputError

FILE_FORMAT: Final = "wms-connector-offsets/1"
#: Offset keys shown first, when present (Oracle, then the stand-in).
SHOWN: Final = ("scn", "commit_scn", "snapshot_scn", "lsn", "lsn_commit", "txId", "ts_usec", "snapshot")
#: Streaming metrics (lower-cased MBean attributes) shown beside the offsets, when the worker has them.
METRICS: Final = {
    "millisecondsbehindsource": "lag_ms",
    "oldestscnageinmilliseconds": "oldest_open_transaction_age_ms",
    "numberofactivetransactions": "open_transactions",
    "currentscn": "current_scn",
    "oldestscn": "oldest_scn",
}


def entries(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The offset entries of a ``GET .../offsets`` answer (each ``{"partition", "offset"}``)."""
    raw = answer.get("offsets")
    if not isinstance(raw, list):
        raise InputError("the offsets answer has no 'offsets' list")
    found = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("partition"), dict):
            raise InputError("an offsets entry is not {'partition': {...}, 'offset': {...}}")
        offset = item.get("offset")
        if offset is not None and not isinstance(offset, dict):
            raise InputError("an offsets entry's 'offset' is not an object")
        found.append(
            {"partition": dict(item["partition"]), "offset": None if offset is None else dict(offset)}
        )
    return found


@dataclass(frozen=True)
class Position:
    """One source partition's position, with the fields a person reads first."""

    partition: Mapping[str, Any]
    offset: Mapping[str, Any]

    @property
    def fields(self) -> dict[str, Any]:
        return {key: self.offset[key] for key in SHOWN if key in self.offset}

    @property
    def committed_at(self) -> str | None:
        """The commit time of the last change, where the offset carries one (the stand-in)."""
        micros = self.offset.get("ts_usec")
        if not isinstance(micros, int | float) or micros <= 0:
            return None
        return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def to_json(self) -> dict[str, Any]:
        return {
            "partition": dict(self.partition),
            "offset": dict(self.offset),
            "shown": self.fields,
            "committed_at": self.committed_at,
        }


def positions(answer: Mapping[str, Any]) -> list[Position]:
    return [Position(e["partition"], e["offset"]) for e in entries(answer) if e["offset"] is not None]


def metrics_view(streaming: Mapping[str, float]) -> dict[str, float]:
    """The lag and open-transaction figures of Debezium's streaming MBean, by our names."""
    return {ours: streaming[theirs] for theirs, ours in METRICS.items() if theirs in streaming}


def saved(stage: str, connector: str, answer: Mapping[str, Any], *, by: str, now: float) -> dict[str, Any]:
    """The content of an offsets file."""
    return {
        "format": FILE_FORMAT,
        "stage": stage,
        "connector": connector,
        "saved_by": by,
        "saved_at": now,
        "offsets": entries(answer),
    }


def read_saved(data: Any, *, stage: str, connector: str, source: str) -> list[dict[str, Any]]:
    """The offsets of a saved file for ``connector``; :class:`InputError` naming what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise InputError(f"{source} is not an offsets file of wms-connector (format {FILE_FORMAT})")
    if data.get("stage") != stage or data.get("connector") != connector:
        raise InputError(
            f"{source} holds the offsets of {data.get('connector')!r} (stage {data.get('stage')!r}), "
            f"not of {connector!r} (stage {stage!r})"
        )
    found = [e for e in entries(data) if e["offset"] is not None]
    if not found:
        raise InputError(f"{source} holds no offset to restore")
    return found


def alter_body(saved_entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of ``PATCH /connectors/<n>/offsets``."""
    return {"offsets": [{"partition": e["partition"], "offset": e["offset"]} for e in saved_entries]}


def same_positions(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def key(entries_: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted(
            (repr(sorted(e["partition"].items())), repr(sorted((e["offset"] or {}).items())))
            for e in entries_
        )

    return key(a) == key(b)
