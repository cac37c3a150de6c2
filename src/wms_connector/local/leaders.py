"""Who leads which partition on a multi-broker local cluster, and whether every replica is back in sync.

The MSK maintenance drills (``bench/drills.py``) and the three-broker test pick the broker to
restart from this and wait, as MSK patching does, for every partition to have all its replicas in
sync before the next broker goes. The choices are pure (:func:`busiest_leader`,
:func:`lagging`); :func:`describe_partitions` is the one metadata request.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wms_connector.errors import WmsError


@dataclass(frozen=True)
class PartitionInfo:
    topic: str
    partition: int
    #: Node id of the leader; -1 while the partition has none.
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


def busiest_leader(partitions: Iterable[PartitionInfo]) -> int:
    """The broker leading the most of ``partitions`` (lowest id on a tie): the one whose loss moves
    the most leaderships."""
    counts = Counter(p.leader for p in partitions if p.leader >= 0)
    if not counts:
        raise WmsError("no partition has a leader")
    return min(counts, key=lambda node: (-counts[node], node))


def lagging(partitions: Iterable[PartitionInfo]) -> list[PartitionInfo]:
    """Partitions without a leader or with a replica out of sync (under-replicated)."""
    return [p for p in partitions if p.leader < 0 or set(p.isr) != set(p.replicas)]


def led_by(partitions: Iterable[PartitionInfo], node: int) -> list[PartitionInfo]:
    return [p for p in partitions if p.leader == node]


def describe_partitions(bootstrap: str, topics: Iterable[str] | None = None) -> list[PartitionInfo]:
    """Every partition of ``topics`` (default: every topic) as the cluster's metadata says now."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, "socket.timeout.ms": 3000})
    metadata = admin.list_topics(timeout=10)
    wanted = None if topics is None else set(topics)
    found = []
    for name, topic in metadata.topics.items():
        if wanted is not None and name not in wanted:
            continue
        for number, partition in topic.partitions.items():
            found.append(
                PartitionInfo(
                    name, number, partition.leader, tuple(partition.replicas), tuple(partition.isrs)
                )
            )
    return sorted(found, key=lambda p: (p.topic, p.partition))


def wait_in_sync(
    bootstrap: str, topics: Iterable[str] | None = None, *, timeout_s: float = 120.0
) -> Mapping[str, float]:
    """Wait until every partition has a leader and all its replicas in sync; ``{"waited_s": ...}``."""
    began = time.monotonic()
    deadline = began + timeout_s
    wanted = None if topics is None else list(topics)
    behind: list[PartitionInfo] = []
    while time.monotonic() < deadline:
        try:
            behind = lagging(describe_partitions(bootstrap, wanted))
        except Exception:  # a metadata request during a restart: try again
            behind = behind or []
            time.sleep(0.5)
            continue
        if not behind:
            return {"waited_s": time.monotonic() - began}
        time.sleep(0.5)
    sample = ", ".join(
        f"{p.topic}[{p.partition}] isr {list(p.isr)} of {list(p.replicas)}" for p in behind[:5]
    )
    raise WmsError(f"{len(behind)} partition(s) not in sync after {timeout_s:.0f} s: {sample}")


def wait_leaders_away(bootstrap: str, topics: Iterable[str], node: int, *, timeout_s: float = 60.0) -> float:
    """Wait until no partition of ``topics`` is led by ``node`` (nor leaderless); seconds waited."""
    began = time.monotonic()
    wanted = list(topics)
    while time.monotonic() - began < timeout_s:
        try:
            partitions = describe_partitions(bootstrap, wanted)
        except Exception:  # a metadata request during the leader change: try again
            time.sleep(0.3)
            continue
        if partitions and not led_by(partitions, node) and all(p.leader >= 0 for p in partitions):
            return time.monotonic() - began
        time.sleep(0.3)
    raise WmsError(f"broker {node} still leads partitions of {wanted} after {timeout_s:.0f} s")
