"""Hashed key ranges (``audit/ranges.py``): the range comparison gives exactly the full comparison's
result, whatever the differences and whatever order the database keeps its keys in."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms_connector.audit.compare import (
    NULL,
    Canon,
    Key,
    Layouts,
    PgSnapshotPoint,
    TableFold,
    canon_int,
    canon_text,
    compare,
    row_digest,
)
from wms_connector.audit.ranges import (
    KeyRange,
    RangeBuilder,
    compare_ranges,
    differing,
    entry_hash,
    key_bytes,
    spans,
    summarise,
    whole_digest,
)

POINT = PgSnapshotPoint(10, 20, frozenset(), 0)
Row = dict[str, Canon]


def row(key: Key, version: int = 0) -> Row:
    return {"ID": canon_text(repr(key)), "AMT": canon_int(version), "NOTE": NULL if version % 2 else b"sx"}


class Database:
    """A source that keeps its keys in ``order`` (its collation, not Python's) and answers a
    ``BETWEEN first AND last`` as the database would: every row from ``first`` to ``last`` in that
    order. Counts what it was asked to read."""

    def __init__(self, rows: Mapping[Key, Row], order: Sequence[Key]) -> None:
        self.rows = dict(rows)
        self.order = list(order)
        self.fetched = 0

    def scan(self) -> Iterator[tuple[Key, Row]]:
        for key in self.order:
            yield key, self.rows[key]

    def fetch(self, bounds: list[tuple[Key, Key]]) -> Iterator[tuple[Key, Row]]:
        for first, last in bounds:
            low, high = self.order.index(first), self.order.index(last)
            assert low <= high, "a span runs backwards in the database's own order"
            for key in self.order[low : high + 1]:
                self.fetched += 1
                yield key, self.rows[key]


def fold_of(rows: Mapping[Key, Row], layouts: Layouts | None = None) -> TableFold:
    fold = TableFold(POINT, layouts=layouts or Layouts())
    fold.rows = {key: row_digest(fold.layouts, value) for key, value in rows.items()}
    return fold


def both(database: Database, topic: Mapping[Key, Row], range_rows: int) -> tuple[Any, Any]:
    """The full comparison's JSON and the range comparison's JSON."""
    full = compare("T", database.scan(), fold_of(topic)).to_json()
    ranges = summarise(database.scan(), range_rows)
    ranged = compare_ranges("T", ranges, fold_of(topic), database.fetch).to_json()
    return full, ranged


# -- the pieces ------------------------------------------------------------------------------------


def test_key_bytes_tell_types_and_tuple_boundaries_apart() -> None:
    keys: list[Key] = [1, "1", (1,), ("a", "bc"), ("ab", "c"), 1.0, "i1", ("1",), (1, 2), ((1, 2),)]
    encoded = [key_bytes(k) for k in keys]
    assert len(set(encoded)) == len(keys)
    assert key_bytes((7, "x")) == key_bytes((7, "x"))


def test_a_range_hash_covers_the_key_and_the_row() -> None:
    digest = whole_digest(row_digest(Layouts(), row(1)))
    assert entry_hash(1, digest) == entry_hash(1, digest)
    assert entry_hash(2, digest) != entry_hash(1, digest)
    assert entry_hash(1, whole_digest(row_digest(Layouts(), row(1, 1)))) != entry_hash(1, digest)


def test_row_digests_compare_across_processes_whatever_layouts_they_saw_first() -> None:
    """The source's summariser runs in another process with its own :class:`Layouts`."""
    here, there = Layouts(), Layouts()
    row_digest(here, {"OLD": b"i1"})  # the topic once had another layout: numbered differently
    assert whole_digest(row_digest(here, row(5))) == whole_digest(row_digest(there, row(5)))


def test_ranges_are_consecutive_runs_of_the_given_size() -> None:
    builder = RangeBuilder(3)
    for key in range(1, 8):
        builder.add(key, bytes(16))
    ranges = builder.finish()
    assert [(r.first, r.last, r.rows) for r in ranges] == [(1, 3, 3), (4, 6, 3), (7, 7, 1)]
    assert RangeBuilder(3).finish() == []
    with pytest.raises(ValueError, match="range_rows must be at least 1, not 0"):
        RangeBuilder(0)


def test_neighbouring_differing_ranges_are_fetched_as_one_span() -> None:
    ranges = [KeyRange(i * 10, i * 10 + 9, 10, 0) for i in range(6)]
    assert spans(ranges, [4, 0, 1, 3]) == [(0, 19), (30, 49)]
    assert spans(ranges, []) == []


def test_equal_tables_fetch_nothing_again() -> None:
    rows = {k: row(k) for k in range(100)}
    database = Database(rows, sorted(rows))
    ranges = summarise(database.scan(), 7)
    assert differing(ranges, fold_of(rows).rows) == []
    result = compare_ranges("T", ranges, fold_of(rows), database.fetch)
    assert database.fetched == 0
    assert result.to_json() == compare("T", database.scan(), fold_of(rows)).to_json()
    assert (result.source_rows, result.topic_rows) == (100, 100)


def test_one_changed_row_fetches_its_range_only() -> None:
    rows = {k: row(k) for k in range(100)}
    topic = {**rows, 42: row(42, 3)}
    database = Database(rows, sorted(rows))
    result = compare_ranges("T", summarise(database.scan(), 10), fold_of(topic), database.fetch)
    assert database.fetched == 10
    assert result.mismatched == 1 and [m.key for m in result.mismatched_keys] == [42]
    assert result.mismatched_keys[0].columns == ("AMT", "NOTE")


def test_an_empty_source_makes_every_topic_key_extra() -> None:
    topic = {k: row(k) for k in range(5)}
    full, ranged = both(Database({}, []), topic, 3)
    assert ranged == full and full["extra"] == 5 and full["source_rows"] == 0


def test_keys_python_cannot_order_against_the_ranges_are_still_compared() -> None:
    rows: dict[Key, Row] = {k: row(k) for k in range(20)}
    topic: dict[Key, Row] = {**rows, "20": row("20")}  # a text key among integers: no order
    full, ranged = both(Database(rows, sorted(rows)), topic, 4)
    assert ranged == full and full["extra"] == 1 and full["samples"]["extra"] == ["20"]


# -- every mutation, every order ---------------------------------------------------------------------

KEYS: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(-50, 500),
    "text": st.text(alphabet="aAbB_ 1é", min_size=1, max_size=4),
    "pair": st.tuples(st.integers(0, 9), st.text(alphabet="xyZ", max_size=2)),
}


@st.composite
def scenarios(draw: Callable[..., Any]) -> tuple[Database, dict[Key, Row], int, set[Key], set[Key], set[Key]]:
    """A table, the database's own key order (a random permutation: any collation), a topic
    state with keys dropped, added and altered, and the range size."""
    strategy = KEYS[draw(st.sampled_from(sorted(KEYS)))]
    keys = draw(st.lists(strategy, unique=True, max_size=60))
    rows = {k: row(k, draw(st.integers(0, 3))) for k in keys}
    order = draw(st.one_of(st.just(sorted(keys)), st.permutations(keys)))
    dropped = set(draw(st.lists(st.sampled_from(keys), max_size=5))) if keys else set()
    altered = set(draw(st.lists(st.sampled_from(keys), max_size=5))) if keys else set()
    altered -= dropped
    added = set(draw(st.lists(strategy, max_size=5))) - set(keys)
    topic = {k: v for k, v in rows.items() if k not in dropped}
    topic.update({k: row(k, 9) for k in altered})
    topic.update({k: row(k) for k in added})
    range_rows = draw(st.integers(1, 12))
    return Database(rows, order), topic, range_rows, dropped, added, altered


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_range_comparison_equals_the_full_one(
    scenario: tuple[Database, dict[Key, Row], int, set[Key], set[Key], set[Key]],
) -> None:
    """Any set of dropped, added and altered keys is found with exactly those keys, and no order
    the database keeps (a collation Python does not share) ever yields a false verdict."""
    database, topic, range_rows, dropped, added, altered = scenario
    full, ranged = both(database, topic, range_rows)
    assert ranged == full
    assert (ranged["missing"], ranged["extra"], ranged["mismatched"]) == (
        len(dropped),
        len(added),
        len(altered),
    )
    assert ranged["source_rows"] == len(database.rows) and ranged["topic_rows"] == len(topic)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), unique=True, min_size=1, max_size=200), st.integers(1, 20))
def test_an_unchanged_table_is_equal_range_by_range(keys: list[int], range_rows: int) -> None:
    rows = {k: row(k) for k in keys}
    database = Database(rows, sorted(keys))
    ranges = summarise(database.scan(), range_rows)
    assert sum(r.rows for r in ranges) == len(keys)
    assert all(r.rows == range_rows for r in ranges[:-1])
    assert differing(ranges, fold_of(rows).rows) == []
