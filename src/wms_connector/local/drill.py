"""MSK maintenance and ECS deploy drills: what each one measures, and the line it prints (pure).

``bench/drills.py`` runs them on production's topology (three brokers, two workers, the agent,
exactly-once, a ``read_committed`` reader); this module holds the arithmetic so it is tested on
its own: events counted against the source (``failover.count_delivery``), the longest stall, and
the one line per drill.

**Max stall** is the longest time the reader waited while a change was already committed in the
source and not yet read: for each event read, the wait that ended with it started at the later of
the previous read and the earliest commit still unread. A quiet source (the database-outage drill,
while the database is down) is not a stall; ordinary latency (~0.1 to 0.3 s) is the floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from wms_connector.local.failover import Delivery


class DrillName(StrEnum):
    ROLLING_RESTART = "rolling-restart"
    BROKER_HANG = "broker-hang"
    BROKER_LOSS = "broker-loss"
    WORKER_ROLLING_DEPLOY = "worker-rolling-deploy"
    DATABASE_OUTAGE = "database-outage"
    EVERYTHING = "everything"


def longest_stall(committed: Mapping[int, float], arrived: Mapping[int, float]) -> tuple[float, float, float]:
    """``(seconds, began, ended)`` of the longest wait of the reader for an already committed change.

    ``committed``: key -> when its transaction committed; ``arrived``: key -> when the reader
    first read it (same clock). Keys never read are the ``lost`` figure's business, not this one's.
    """
    pairs = sorted((arrived[key], committed[key]) for key in committed if key in arrived)
    if not pairs:
        return 0.0, 0.0, 0.0
    # Earliest commit among the events read at or after position i.
    earliest_unread = [0.0] * len(pairs)
    running = float("inf")
    for index in range(len(pairs) - 1, -1, -1):
        running = min(running, pairs[index][1])
        earliest_unread[index] = running
    longest = (0.0, 0.0, 0.0)
    previous = float("-inf")
    for index, (read_at, _commit) in enumerate(pairs):
        began = max(previous, earliest_unread[index])
        if read_at - began > longest[0]:
            longest = (read_at - began, began, read_at)
        previous = read_at
    return longest


def max_stall(committed: Mapping[int, float], arrived: Mapping[int, float]) -> float:
    """The longest wait (seconds) of the reader for an already committed change (:func:`longest_stall`)."""
    return longest_stall(committed, arrived)[0]


@dataclass(frozen=True)
class DrillResult:
    name: DrillName
    delivery: Delivery
    max_stall_s: float
    task_failures: int
    agent_restarts: int

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing twice, no task FAILED: what every drill must show."""
        return not self.delivery.lost and self.delivery.duplicates == 0 and self.task_failures == 0

    def line(self) -> str:
        """The drill's line, exactly in the issue's shape."""
        lost, duplicated = len(self.delivery.lost), self.delivery.duplicates
        return (
            f"drill {self.name.value}: lost {lost}, duplicated {duplicated}, "
            f"max stall {self.max_stall_s:.1f} s, task failures {self.task_failures}, "
            f"agent restarts {self.agent_restarts}"
        )
