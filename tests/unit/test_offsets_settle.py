"""operations.settle: offsets are written until two reads in a row show them.

The "store" below plays Connect's offsets: the procedure's write lands, and a stopped task's late
flush may land after it (what the audit test saw on the real cluster)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms_connector.operations.settle import OffsetsDidNotSettleError, write_until_stable


@dataclass
class Offsets:
    """The offsets as Connect stores them; ``late`` holds flushes that land after a read."""

    value: str = "old"
    late: list[str] = field(default_factory=list)
    writes: int = 0
    now: float = 0.0

    def write(self) -> None:
        self.writes += 1
        self.value = "wanted"

    def read(self) -> bool:
        if self.late:
            self.value = self.late.pop(0)
        return self.value == "wanted"

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def settle(store: Offsets, *, stable_reads: int = 2, timeout_s: float = 30.0) -> tuple[int, int]:
    done = write_until_stable(
        store.write,
        store.read,
        sleep=store.sleep,
        clock=store.clock,
        what="the offsets",
        stable_reads=stable_reads,
        timeout_s=timeout_s,
    )
    return done.writes, done.reads


def test_a_write_that_stays_is_written_once_and_read_twice() -> None:
    assert settle(Offsets()) == (1, 2)


def test_a_late_flush_after_the_first_read_back_is_written_over() -> None:
    # The single read-back of before would have passed here: the first read shows the write.
    store = Offsets(late=["wanted", "old"])
    assert settle(store) == (2, 4)
    assert store.value == "wanted"


def test_a_late_flush_before_the_first_read_back_is_written_over() -> None:
    store = Offsets(late=["old"])
    assert settle(store) == (2, 3)


def test_offsets_that_never_stay_fail_naming_what_and_what_to_check() -> None:
    store = Offsets(late=["old"] * 1000)
    with pytest.raises(OffsetsDidNotSettleError) as caught:
        settle(store, timeout_s=10)
    message = str(caught.value)
    assert "the offsets did not stay written for 10 s" in message
    assert "left STOPPED" in message
    assert store.now == pytest.approx(10.0)  # gave up at the deadline, not before
    assert caught.value.exit_code == 1


def test_by_default_the_reads_outlast_a_stopping_tasks_graceful_shutdown() -> None:
    from wms_connector.operations.settle import INTERVAL_S, STABLE_READS, TASK_SHUTDOWN_S

    assert STABLE_READS * INTERVAL_S > TASK_SHUTDOWN_S
    # a flush 5 s after the write (the whole graceful shutdown) is still seen and written over
    store = Offsets(late=["wanted"] * 4 + ["old"])
    done = write_until_stable(store.write, store.read, sleep=store.sleep, clock=store.clock, what="x")
    assert done.writes == 2 and store.value == "wanted"


def test_stable_reads_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="stable_reads"):
        settle(Offsets(), stable_reads=0)


@given(st.lists(st.sampled_from(["old", "wanted", "other"]), max_size=12), st.integers(1, 4))
def test_it_returns_only_after_enough_reads_in_a_row_show_the_write(late: list[str], needed: int) -> None:
    store = Offsets(late=list(late))
    shown: list[bool] = []

    def read() -> bool:
        seen = store.read()
        shown.append(seen)
        return seen

    done = write_until_stable(
        store.write, read, sleep=store.sleep, clock=store.clock, what="x", stable_reads=needed, timeout_s=1e9
    )
    assert shown[-needed:] == [True] * needed
    assert store.value == "wanted"
    # one write, plus one after every read that did not show it
    assert done.writes == 1 + shown.count(False)
