"""Hashed key ranges: compare a large table range by range, fetch only the ranges that differ (pure).

The source reader walks the table ``ORDER BY`` its primary key at the point and cuts it into
ranges of ``range_rows`` consecutive rows; each range is summarised as ``(first key, last key,
row count, aggregate)``, where the aggregate is the sum modulo 2^128 of one BLAKE2b-128 per row
over the key and the row's digest (:func:`entry_hash`). A sum is order-independent, so the topic
side, which holds its folded keys in no order, computes the same aggregate per range by placing
each key with a binary search over the ranges' first keys (:func:`range_aggregates`). A range
whose count and aggregate are equal holds the same keys with the same rows on both sides (short
of a 128-bit collision); only the others are fetched again (``WHERE key BETWEEN first AND
last``, at the same point) and compared key by key with :func:`compare.compare`.

Exactness does not depend on Python ordering keys as the database does (collations, mixed types):
a key the database put in range A that Python places in range B (or in no range) makes the
aggregates of A and of B differ, so both are fetched; the key-by-key comparison runs over the
union of every differing range and every key placed in no range, so it finds the key on both
sides. A key placed in an equal range cannot be elsewhere in the source: that range's source rows
hold it, and keys are unique. So the counts and samples are those of the full comparison.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from wms_connector.audit.compare import (
    DIGEST_BYTES,
    Canon,
    Key,
    Layouts,
    TableFold,
    TableResult,
    compare,
    row_digest,
)

#: Rows per range by default: 100 ranges for a million rows (a few kB to hand back), and a
#: differing range costs one indexed read of this many rows.
RANGE_ROWS: Final = 10_000
_MODULUS: Final = 1 << 128


def key_bytes(key: Key) -> bytes:
    """The key as digest input: equal bytes only for keys Python finds equal (type and value)."""
    if isinstance(key, tuple):
        parts = [key_bytes(part) for part in key]
        return b"(" + b"".join(b"%d:" % len(p) + p for p in parts) + b")"
    kind = type(key)
    if kind is int:
        return b"i%d" % key
    if kind is str:
        text: str = key
        return b"s" + text.encode("utf-8")
    return kind.__name__.encode() + b"=" + repr(key).encode("utf-8", "backslashreplace")


def entry_hash(key: Key, digest: bytes) -> int:
    """One row's share of its range's aggregate: BLAKE2b-128 over the key and the row digest
    (``digest``: the 16 bytes that decide equality, :func:`whole_digest`)."""
    return int.from_bytes(hashlib.blake2b(digest + key_bytes(key), digest_size=DIGEST_BYTES).digest())


def whole_digest(row: bytes) -> bytes:
    """The part of a :func:`compare.row_digest` that decides equal or not."""
    return row[2 : 2 + DIGEST_BYTES]


@dataclass(frozen=True)
class KeyRange:
    """``rows`` consecutive source rows in the database's key order, ``first`` to ``last``."""

    first: Key
    last: Key
    rows: int
    aggregate: int


class RangeBuilder:
    """Cuts an ordered stream of ``(key, row digest)`` into :class:`KeyRange` summaries; holds one
    range's running sum, never a key set."""

    def __init__(self, range_rows: int = RANGE_ROWS) -> None:
        if range_rows < 1:
            raise ValueError(f"range_rows must be at least 1, not {range_rows}")
        self.range_rows = range_rows
        self.ranges: list[KeyRange] = []
        self._first: Key = None
        self._last: Key = None
        self._rows = 0
        self._sum = 0

    def add(self, key: Key, digest: bytes) -> None:
        if self._rows == 0:
            self._first = key
        self._last = key
        self._rows += 1
        self._sum = (self._sum + entry_hash(key, digest)) % _MODULUS
        if self._rows == self.range_rows:
            self._close()

    def _close(self) -> None:
        if self._rows:
            self.ranges.append(KeyRange(self._first, self._last, self._rows, self._sum))
        self._first = self._last = None
        self._rows = self._sum = 0

    def finish(self) -> list[KeyRange]:
        self._close()
        return self.ranges


def summarise(
    rows: Iterable[tuple[Key, Mapping[str, Canon]]], range_rows: int = RANGE_ROWS
) -> list[KeyRange]:
    """The range summaries of a source's rows, given in the database's key order."""
    layouts = Layouts()
    builder = RangeBuilder(range_rows)
    for key, row in rows:
        builder.add(key, whole_digest(row_digest(layouts, row)))
    return builder.finish()


class Placement:
    """Which range a folded key falls in by Python's ordering (``-1``: none)."""

    def __init__(self, ranges: Sequence[KeyRange]) -> None:
        self.ranges = ranges
        self._firsts = [r.first for r in ranges]

    def of(self, key: Key) -> int:
        try:
            index = bisect_right(self._firsts, key) - 1
            if index >= 0 and key <= self.ranges[index].last:
                return index
        except TypeError:  # a key Python cannot order against the range bounds
            pass
        return -1


def range_aggregates(ranges: Sequence[KeyRange], rows: Mapping[Key, bytes]) -> tuple[list[int], list[int]]:
    """Per range, the folded keys placed in it: ``(counts, aggregates)``."""
    placement = Placement(ranges)
    counts = [0] * len(ranges)
    sums = [0] * len(ranges)
    for key, digest in rows.items():
        index = placement.of(key)
        if index >= 0:
            counts[index] += 1
            sums[index] += entry_hash(key, whole_digest(digest))
    return counts, [s % _MODULUS for s in sums]


def differing(ranges: Sequence[KeyRange], rows: Mapping[Key, bytes]) -> list[int]:
    """The indexes of the ranges whose keys or rows differ between the source and ``rows``."""
    counts, sums = range_aggregates(ranges, rows)
    return [i for i, r in enumerate(ranges) if counts[i] != r.rows or sums[i] != r.aggregate]


def spans(ranges: Sequence[KeyRange], indexes: Iterable[int]) -> list[tuple[Key, Key]]:
    """``(first, last)`` bounds to fetch: the given ranges, neighbours merged (no source row lies
    between two consecutive ranges, so the merged span holds exactly their rows)."""
    merged: list[tuple[Key, Key]] = []
    previous = -2
    for index in sorted(set(indexes)):
        if index == previous + 1 and merged:
            merged[-1] = (merged[-1][0], ranges[index].last)
        else:
            merged.append((ranges[index].first, ranges[index].last))
        previous = index
    return merged


def compare_ranges(
    table: str,
    ranges: Sequence[KeyRange],
    fold: TableFold,
    fetch: Callable[[list[tuple[Key, Key]]], Iterable[tuple[Key, Mapping[str, Canon]]]],
    *,
    sample_size: int | None = None,
) -> TableResult:
    """The result :func:`compare.compare` gives over the whole table, from the range summaries:
    only the differing ranges' source rows (``fetch(spans)``) are
    compared with the folded keys placed in them or in no range. Consumes ``fold.rows``."""
    topic_rows = len(fold.rows)
    wrong = differing(ranges, fold.rows)
    wanted = set(wrong)
    placement = Placement(ranges)
    subset = {key: row for key, row in fold.rows.items() if (i := placement.of(key)) < 0 or i in wanted}
    fold.rows.clear()
    narrowed = TableFold(fold.point, layouts=fold.layouts, rows=subset)
    source: Iterable[tuple[Key, Mapping[str, Canon]]] = ()
    if wrong:
        source = fetch(spans(ranges, wrong))
    extra: dict[str, Any] = {} if sample_size is None else {"sample_size": sample_size}
    result = compare(table, source, narrowed, **extra)
    result.ranges, result.ranges_differing = len(ranges), len(wrong)
    result.rows_read_again = result.source_rows
    result.source_rows = sum(r.rows for r in ranges)
    result.topic_rows = topic_rows
    return result
