"""Write a connector's offsets until they stay written (pure: the I/O is handed in).

Kafka Connect reports a connector ``STOPPED`` once its tasks were asked to stop, but a task that
was mid-way through an offset flush may still commit one last offset after that (seen in the
audit test: a KIP-875 ``PATCH`` answered 200, read back once, then overwritten by the stopped
task's final commit a second later). A single read-back therefore proves nothing. The procedures
write, then read back every second until the reads in a row that show the wanted offsets span the
time a stopping task may still run (:data:`TASK_SHUTDOWN_S`), writing again whenever a read shows
something else, within a deadline. With exactly-once (production), Connect also fences the old
task generation before it alters offsets; this covers the at-least-once stages too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from wms_connector.errors import WmsError

#: Kafka Connect's ``task.shutdown.graceful.timeout.ms`` (5 s, which our workers keep): how long a
#: task asked to stop may still run, and flush its offsets, after the connector reads STOPPED.
TASK_SHUTDOWN_S: Final = 5.0
INTERVAL_S: Final = 1.0
#: Reads in a row that must show the write: together they outlast a stopping task's last flush.
STABLE_READS: Final = int(TASK_SHUTDOWN_S / INTERVAL_S) + 1
TIMEOUT_S: Final = 30.0


class OffsetsDidNotSettleError(WmsError):
    """The offsets were written but did not stay: something else keeps writing them."""


@dataclass(frozen=True)
class Settled:
    writes: int
    reads: int


def write_until_stable(
    write: Callable[[], object],
    holds: Callable[[], bool],
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    what: str,
    stable_reads: int = STABLE_READS,
    interval_s: float = INTERVAL_S,
    timeout_s: float = TIMEOUT_S,
) -> Settled:
    """``write()``, then ``holds()`` every ``interval_s`` until it is true ``stable_reads`` times in
    a row; each false read writes again. Raises :class:`OffsetsDidNotSettleError` (naming ``what``)
    at ``timeout_s``; the caller leaves the connector STOPPED then."""
    if stable_reads < 1:
        raise ValueError("stable_reads must be at least 1")
    deadline = clock() + timeout_s
    write()
    writes, reads, stable = 1, 0, 0
    while True:
        sleep(interval_s)
        reads += 1
        if holds():
            stable += 1
            if stable >= stable_reads:
                return Settled(writes, reads)
            continue
        stable = 0
        if clock() >= deadline:
            raise OffsetsDidNotSettleError(
                f"{what} did not stay written for {timeout_s:.0f} s ({writes} writes, each undone): "
                "another process writes the connector's offsets (a task still running on a worker, or "
                "a second operator); the connector is left STOPPED, check `ops status` and the hold"
            )
        write()
        writes += 1
