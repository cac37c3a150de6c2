"""Every topic a stage owns, with the shape it must have on the broker (pure).

MSK does not auto-create topics, and Debezium's or Connect's auto-creation would pick broker
defaults that are wrong for us (a time-based retention on the schema history topic breaks a
connector restart weeks later). So every topic is created explicitly, before the connector
starts, from the specs below. ``plan.topic_roles`` and ``wms-connector topics`` read them too:
this is the one place a topic's partitions and configs come from.

The rules, per role (``S`` = the stage's settings, ``stages.settings_for``):

============== ============================ ============================================
role           partitions                   config
============== ============================ ============================================
data           ``S.data_topic_partitions``  ``cleanup.policy=compact``,
                                            ``min.compaction.lag.ms=S.data_retention_ms``,
                                            ``delete.retention.ms=S.data_retention_ms``,
                                            ``retention.ms=-1`` (the table's replica)
schema-changes 1 (DDL events keep their     ``cleanup.policy=delete``,
               global order)                ``retention.ms=S.data_retention_ms`` (they
                                            describe the data beside them; no longer)
schema-history 1 (Debezium needs the global ``cleanup.policy=delete``, ``retention.ms=-1``,
               order; it warns otherwise)   ``retention.bytes=-1`` (infinite: the
                                            connector replays it all on every start)
heartbeat      1                            ``cleanup.policy=delete``,
                                            ``retention.ms`` 1 day (only the latest
                                            beat matters)
signal         1 (Debezium reads only       ``cleanup.policy=delete``
               partition 0)
agent-hold     1 (one key per connector;    ``cleanup.policy=compact`` (the latest hold
               agents read it whole)        or release per connector is all that matters)
connect-config 1 (Connect requires it)      ``cleanup.policy=compact``
connect-offsets ``S.offsets_topic_partitions`` ``cleanup.policy=compact``
connect-status 5 (Connect's default)        ``cleanup.policy=compact``
============== ============================ ============================================

Every topic gets the stage's replication factor (``S.replication_factor``; the local
single-broker runtime overrides it with 1). When that factor is 3 or more, every topic also gets
``min.insync.replicas=2``: an ``acks=all`` write is then on two brokers before it is
acknowledged, and one broker may be down (MSK patching) without stopping writes. Below 3 the
broker default stays, since 2 in-sync replicas out of 2 would stop every write during a broker
restart.

Data topics are the tables' replicas (issue 21): compacted, so a consumer that starts at offset 0
rebuilds every table (latest value per key; Debezium's delete + tombstone pair removes a deleted
row), and the audit folds them the same way. ``S.data_retention_ms`` is the stage's *history
window* (3 d branch, 7 d main and val, 14 d production):

* ``min.compaction.lag.ms`` = the window: every change younger than the window stays in the topic,
  so a consumer up to the window behind sees every intermediate version, and a fold at any point
  inside the window is complete (the cleaner only removes a record superseded by a record that is
  itself older than the window, i.e. before that point).
* ``delete.retention.ms`` = the window: a tombstone stays that long after the cleaner first reaches
  it, so a consumer that read a row and is up to the window behind still sees its delete; after
  that the key is simply absent, which is what a new consumer must see.
* ``retention.ms=-1``: nothing is deleted by age, also should anyone add ``delete`` to the policy.

Data topics also get ``compression.type=zstd`` (``TOPIC_COMPRESSION``): MSK bills storage and
traffic by the byte and a change event (JSON with its schema) shrinks ~12 (16 KiB batches) to ~40
(64 KiB) times with zstd (``bench/throughput.py``). The workers' producers send zstd already
(``worker_config.PRODUCER_COMPRESSION``), so the brokers keep the batches as they come; the topic
setting guarantees it for any other producer too (the broker recompresses those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from wms_connector.connect.worker_config import STATUS_TOPIC_PARTITIONS
from wms_connector.naming import names_for
from wms_connector.stages import Stage, settings_for

#: Replication factor from which ``min.insync.replicas`` is set, and the value it is set to.
MIN_ISR_FROM_RF: Final = 3
MIN_INSYNC_REPLICAS: Final = 2
#: ``compression.type`` of the data topics (module docstring).
TOPIC_COMPRESSION: Final = "zstd"
HEARTBEAT_RETENTION_MS: Final = 24 * 3600 * 1000
#: Kafka's spelling of "forever" for ``retention.ms`` and ``retention.bytes``.
INFINITE: Final = "-1"


class TopicRole(StrEnum):
    DATA = "data"
    SCHEMA_CHANGES = "schema-changes"
    SCHEMA_HISTORY = "schema-history"
    HEARTBEAT = "heartbeat"
    SIGNAL = "signal"
    AGENT_HOLD = "agent-hold"
    CONNECT_CONFIG = "connect-config"
    CONNECT_OFFSETS = "connect-offsets"
    CONNECT_STATUS = "connect-status"


@dataclass(frozen=True)
class TopicSpec:
    """One topic as it must exist on the broker. ``config`` holds only the keys we set."""

    name: str
    role: TopicRole
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    #: The captured table (``SCHEMA.TABLE``) of a data topic, ``None`` for every other role.
    table: str | None = None

    def to_json(self) -> dict[str, object]:
        """The stable JSON form (``wms-connector topics --json``)."""
        return {
            "name": self.name,
            "role": self.role.value,
            "partitions": self.partitions,
            "replication_factor": self.replication_factor,
            "config": dict(sorted(self.config.items())),
        }


def _delete_policy(
    retention_ms: int | str | None = None, retention_bytes: str | None = None
) -> dict[str, str]:
    config = {"cleanup.policy": "delete"}
    if retention_ms is not None:
        config["retention.ms"] = str(retention_ms)
    if retention_bytes is not None:
        config["retention.bytes"] = retention_bytes
    return config


_COMPACT: Final = {"cleanup.policy": "compact"}


def replica_policy(history_window_ms: int) -> dict[str, str]:
    """A data topic's config: compacted, full history for ``history_window_ms`` (module docstring)."""
    window = str(history_window_ms)
    return {
        "cleanup.policy": "compact",
        "min.compaction.lag.ms": window,
        "delete.retention.ms": window,
        "retention.ms": INFINITE,
    }


def topic_specs(stage: Stage, *, replication_factor: int | None = None) -> list[TopicSpec]:
    """Every topic ``stage`` owns, in the order of ``StageNames.all_topics``.

    ``replication_factor`` overrides the stage's (the local runtime has one broker).
    """
    if replication_factor is not None and replication_factor < 1:
        raise ValueError(f"replication_factor must be at least 1, got {replication_factor}")
    names = names_for(stage)
    settings = settings_for(stage)
    rf = settings.replication_factor if replication_factor is None else replication_factor
    durability = {"min.insync.replicas": str(MIN_INSYNC_REPLICAS)} if rf >= MIN_ISR_FROM_RF else {}

    def spec(
        name: str, role: TopicRole, partitions: int, config: dict[str, str], table: str | None = None
    ) -> TopicSpec:
        compression = {"compression.type": TOPIC_COMPRESSION} if role is TopicRole.DATA else {}
        return TopicSpec(name, role, partitions, rf, {**config, **durability, **compression}, table)

    specs = [
        spec(
            topic,
            TopicRole.DATA,
            settings.data_topic_partitions,
            replica_policy(settings.data_retention_ms),
            table.qualified,
        )
        for table, topic in names.data_topics.items()
    ]
    specs += [
        spec(
            names.schema_change_topic, TopicRole.SCHEMA_CHANGES, 1, _delete_policy(settings.data_retention_ms)
        ),
        spec(names.schema_history_topic, TopicRole.SCHEMA_HISTORY, 1, _delete_policy(INFINITE, INFINITE)),
        spec(names.heartbeat_topic, TopicRole.HEARTBEAT, 1, _delete_policy(HEARTBEAT_RETENTION_MS)),
        spec(names.signal_topic, TopicRole.SIGNAL, 1, _delete_policy()),
        spec(names.hold_topic, TopicRole.AGENT_HOLD, 1, _COMPACT),
        spec(names.config_topic, TopicRole.CONNECT_CONFIG, 1, _COMPACT),
        spec(names.offsets_topic, TopicRole.CONNECT_OFFSETS, settings.offsets_topic_partitions, _COMPACT),
        spec(names.status_topic, TopicRole.CONNECT_STATUS, STATUS_TOPIC_PARTITIONS, _COMPACT),
    ]
    # One derivation: the specs cover exactly the names naming.py gives, in the same order.
    assert tuple(s.name for s in specs) == names.all_topics
    return specs
