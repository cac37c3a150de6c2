"""Write a connector's offsets until they stay written (pure: the I/O is handed in).

Kafka Connect reports a connector ``STOPPED`` once its tasks were asked to stop, but a task that
was mid-way through an offset flush may still commit one last offset after that (seen in the
audit test: a KIP-875 ``PATCH`` answered 200, read back once, then overwritten by the stopped
task's final commit a second later). A single read-back therefore proves nothing. The procedures
write, then read back on an interval until ``stable_reads`` reads in a row show the wanted
offsets, writing again whenever a read shows something else, within a deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from wms_connector.errors import WmsError

STABLE_READS: Final = 2
INTERVAL_S: Final = 1.0
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
