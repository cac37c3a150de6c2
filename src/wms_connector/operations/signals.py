"""Debezium signal records for the stage's Kafka signal channel, built from naming (pure).

Debezium 3.6's ``KafkaSignalChannel`` reads partition 0 of ``signal.kafka.topic`` and acts only on
records whose **key equals the connector's logical name** (``topic.prefix``); the value is
``{"id", "type", "data"}``. What each action needs, read from Debezium's source at the pinned
version (runtime/pom.xml):

* ``execute-snapshot`` with ``type=BLOCKING``: nothing but the signal channel. The coordinator
  pauses streaming, snapshots the named tables, then resumes streaming from where it paused.
* ``execute-snapshot`` with ``type=INCREMENTAL``: an incremental snapshot source, which Oracle
  creates only when ``signal.data.collection`` names a source signal table the connector can write
  (its watermarks); without one Debezium logs "Incremental snapshot is not properly configured"
  and does nothing while the task stays RUNNING (the runbook's old recipe).
* ``stop-snapshot``: the same data collections and type.
* ``drop-transaction`` (Oracle only, since Debezium 3.4.0.Beta1, ``OracleActionProvider``):
  ``data.transaction-id``; works with the buffered LogMiner adapter only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from wms_connector.errors import InputError
from wms_connector.naming import StageNames, TableId
from wms_connector.operations.tables import data_collection


class SnapshotKind(StrEnum):
    BLOCKING = "blocking"
    INCREMENTAL = "incremental"


#: The config key that gives Debezium a source signal table (incremental snapshots need it).
SIGNAL_DATA_COLLECTION: Final = "signal.data.collection"
#: The first Debezium release with the Oracle ``drop-transaction`` signal (DBZ-9552).
DROP_TRANSACTION_SINCE: Final = (3, 4, 0)
#: The LogMiner adapter whose buffer the signal drops a transaction from.
BUFFERED_ADAPTER: Final = "logminer"
#: An Oracle transaction id as LogMiner reports it: the XID's 8 bytes as 16 hex digits.
_XID = re.compile(r"[0-9a-fA-F]{16}")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Signal:
    """One record for the signal topic."""

    topic: str
    key: str
    id: str
    type: str
    data: Mapping[str, Any]

    def value(self) -> str:
        return json.dumps({"id": self.id, "type": self.type, "data": dict(self.data)}, sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "key": self.key, "value": json.loads(self.value())}


def _collections(tables: Sequence[TableId], catalog_name: str | None) -> list[str]:
    return [data_collection(t, catalog_name) for t in tables]


def execute_snapshot(
    names: StageNames, tables: Sequence[TableId], catalog_name: str | None, kind: SnapshotKind, signal_id: str
) -> Signal:
    return Signal(
        names.signal_topic,
        names.topic_prefix,
        signal_id,
        "execute-snapshot",
        {"data-collections": _collections(tables, catalog_name), "type": kind.value.upper()},
    )


def stop_snapshot(
    names: StageNames, tables: Sequence[TableId], catalog_name: str | None, kind: SnapshotKind, signal_id: str
) -> Signal:
    return Signal(
        names.signal_topic,
        names.topic_prefix,
        signal_id,
        "stop-snapshot",
        {"data-collections": _collections(tables, catalog_name), "type": kind.value.upper()},
    )


def transaction_id(raw: str) -> str:
    """A LogMiner transaction id (16 hex digits), lower-cased as Debezium compares it."""
    text = raw.strip()
    if not _XID.fullmatch(text):
        raise InputError(
            f"transaction id {raw!r} is not a LogMiner XID (16 hex digits, e.g. 0a001b00c4050000, "
            "as Debezium logs it and V$TRANSACTION's XID shows it)"
        )
    return text.lower()


def drop_transaction(names: StageNames, txid: str, signal_id: str) -> Signal:
    return Signal(
        names.signal_topic, names.topic_prefix, signal_id, "drop-transaction", {"transaction-id": txid}
    )


def incremental_refusal(config: Mapping[str, str]) -> str | None:
    """Why an incremental snapshot cannot run on this connector, or ``None`` when it can."""
    if not config.get(SIGNAL_DATA_COLLECTION):
        return (
            f"an incremental snapshot needs a source signal table and {SIGNAL_DATA_COLLECTION} in the "
            "connector config (Oracle writes its watermarks there; the DBA creates WMS_CDC_SIGNAL, "
            "docs/sql/*/07_heartbeat_signal_tables.sql); this connector has none: use the default "
            "blocking snapshot"
        )
    return None


def debezium_version(text: str) -> tuple[int, int, int] | None:
    """``(3, 6, 1)`` from a plugin version such as ``3.6.1.Final``; ``None`` when unreadable."""
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def drop_transaction_refusal(
    source: str, plugin_version: str | None, config: Mapping[str, str]
) -> str | None:
    """Why the connector cannot take a ``drop-transaction`` signal, or ``None`` when it can."""
    if source != "oracle":
        return "drop-transaction is an Oracle (LogMiner) signal: the stand-in's PostgreSQL connector has none"
    version = debezium_version(plugin_version or "")
    if version is None:
        return f"cannot tell the Debezium version of the running plugin ({plugin_version!r}); refusing"
    if version < DROP_TRANSACTION_SINCE:
        since = ".".join(str(n) for n in DROP_TRANSACTION_SINCE)
        return f"the running Debezium {plugin_version} has no drop-transaction signal (added in {since})"
    adapter = config.get("database.connection.adapter", BUFFERED_ADAPTER)
    if adapter != BUFFERED_ADAPTER:
        return (
            f"drop-transaction works on the buffered LogMiner adapter only; this connector uses {adapter!r}"
        )
    return None
