"""Worker failover on the local cluster: who runs the task, waiting for it to move, counting events.

Shared by ``bench/failover.py`` (which measures how long a failover takes) and
``tests/integration/test_failover.py`` (which proves nothing is lost). The counting and the status
reading are pure; :class:`InsertLoad` and :func:`wait_task_moved` are the thin I/O around them.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wms_connector.connect.rest import ConnectApi, ConnectRestError, ConnectUnreachableError
from wms_connector.errors import WmsError
from wms_connector.local.events import ChangeEvent
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES


def worker_id(port: int, host: str = "127.0.0.1") -> str:
    """The id Connect gives a worker: its advertised REST ``host:port``."""
    return f"{host}:{port}"


def task_worker(status: Mapping[str, Any], task: int = 0) -> str | None:
    """The worker id running task ``task`` according to a connector status, if it is RUNNING."""
    for entry in status.get("tasks", []):
        if entry.get("id") == task and entry.get("state") == "RUNNING":
            return str(entry.get("worker_id"))
    return None


@dataclass(frozen=True)
class Delivery:
    """Change events counted against the ids written to the source."""

    written: int
    #: Ids written to the source and never seen in Kafka.
    lost: tuple[int, ...]
    #: Ids seen more than once, with how many times (at-least-once after a crash).
    repeated: Mapping[int, int]

    @property
    def duplicates(self) -> int:
        """Extra copies beyond the first, summed over every repeated id."""
        return sum(count - 1 for count in self.repeated.values())

    def describe(self) -> str:
        lost = f"{len(self.lost)} lost" + (f" (first: {list(self.lost[:10])})" if self.lost else "")
        repeats = f"{self.duplicates} duplicate(s) over {len(self.repeated)} id(s)"
        return f"{self.written} written, {lost}, {repeats}"


def count_delivery(written: Iterable[int], seen: Iterable[int]) -> Delivery:
    """Compare the ids written with the ids seen (a list, repeats included). Ids seen that were not
    written (other runs' rows) are ignored."""
    wanted = list(written)
    wanted_set = set(wanted)
    counts = Counter(key for key in seen if key in wanted_set)
    lost = tuple(sorted(key for key in wanted_set if key not in counts))
    repeated = {key: n for key, n in sorted(counts.items()) if n > 1}
    return Delivery(written=len(wanted_set), lost=lost, repeated=repeated)


def delivered_keys(events: Iterable[ChangeEvent]) -> list[int]:
    """The key of every event that delivers a row, insert (``c``) or snapshot read (``r``),
    repeats kept, in the order read.

    Reads count: a task that restarts without a committed source offset (killed before its first
    offset flush) snapshots the tables again, and the rows then arrive as reads, not inserts."""
    return [int(next(iter(e.key.values()))) for e in events if e.op in ("c", "r") and e.key]


def first_produced_after(events: Iterable[ChangeEvent], moment_ms: int) -> int | None:
    """The earliest Kafka record timestamp at or after ``moment_ms`` (epoch ms), if any.

    Records are stamped by the Connect producer when sent, so after a kill this is when the stream
    resumed, whether the record is new or a re-delivery."""
    stamps = [e.kafka_ms for e in events if e.kafka_ms is not None and e.kafka_ms >= moment_ms]
    return min(stamps) if stamps else None


@dataclass
class InsertLoad:
    """Inserts rows with unique ids at ``rate`` per second (one per transaction, round-robin over
    the four tables) in a background thread, until :meth:`stop`."""

    standin: StandInPostgres
    first_key: int
    rate: float = 25.0
    written: list[int] = field(default_factory=list)
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> InsertLoad:
        self._thread = threading.Thread(target=self._run, name="insert-load", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        interval = 1.0 / self.rate
        try:
            with self.standin.connect() as conn:
                began = time.monotonic()
                index = 0
                while not self._stop.is_set():
                    delay = began + index * interval - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                        continue
                    key = self.first_key + index
                    table = CAPTURED_TABLES[index % len(CAPTURED_TABLES)]
                    apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
                    self.written.append(key)  # only once committed
                    index += 1
        except BaseException as error:  # reported by stop(): a silent half-load would skew counts
            self.error = error

    def stop(self) -> list[int]:
        """Stop inserting; the ids committed. Raises if the load failed on its way."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.error is not None:
            raise WmsError(f"the insert load stopped on an error: {self.error}") from self.error
        return list(self.written)


def has_committed_offsets(offsets: Mapping[str, Any]) -> bool:
    """Whether a ``GET /connectors/{name}/offsets`` answer holds a committed source offset."""
    return any(entry.get("offset") for entry in offsets.get("offsets", []))


def wait_offsets_committed(api: ConnectApi, name: str, *, timeout_s: float = 60.0) -> None:
    """Wait until the connector has committed a source offset (``offset.flush.interval.ms`` after
    its first events): the steady state a failover starts from, not a first start."""
    deadline = time.monotonic() + timeout_s
    while not has_committed_offsets(api.offsets(name)):
        if time.monotonic() > deadline:
            raise WmsError(f"connector {name!r} committed no source offset within {timeout_s:.0f} s")
        time.sleep(0.5)


_LEADER_URL = re.compile(r"leaderUrl='https?://([^/']+)/?'")


def last_leader(worker_log: str) -> str | None:
    """The group leader's worker id in a worker's log: the ``leaderUrl`` of its last assignment."""
    found = _LEADER_URL.findall(worker_log)
    return str(found[-1]) if found else None


def wait_task_moved(
    api: ConnectApi,
    name: str,
    away_from: str,
    *,
    timeout_s: float,
    task: int = 0,
    poll_s: float = 0.2,
) -> tuple[str, float]:
    """Poll ``api`` (a surviving worker) until task ``task`` is RUNNING on a worker other than
    ``away_from``; returns that worker id and the monotonic time it was first seen so.

    A FAILED task ends the wait with its trace; REST answers during a rebalance (409, a worker
    not answering) only mean "not yet"."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = api.status(name)
        except (ConnectRestError, ConnectUnreachableError):
            time.sleep(poll_s)
            continue
        for entry in last.get("tasks", []):
            if entry.get("id") == task and entry.get("state") == "FAILED":
                trace = " | ".join(str(entry.get("trace", "")).splitlines()[:3])
                raise WmsError(f"task {task} of {name!r} FAILED after the worker was lost: {trace}")
        running_on = task_worker(last, task)
        if running_on is not None and running_on != away_from:
            return running_on, time.monotonic()
        time.sleep(poll_s)
    raise WmsError(
        f"task {task} of {name!r} was not RUNNING on another worker than {away_from} within "
        f"{timeout_s:.0f} s (last status: {last})"
    )
