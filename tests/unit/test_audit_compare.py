"""The audit's pure core: decoding as a consumer does, the fold at a point, the comparison."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms_connector.audit.compare import (
    NULL,
    Canon,
    Layouts,
    PgSnapshotPoint,
    ScnPoint,
    TableFold,
    aware_ns,
    canon_instant_ns,
    canon_int,
    canon_text,
    canon_zoned,
    compare,
    date_ns,
    decimal_text,
    decode_column,
    differing_columns,
    format_lsn,
    iso_ns,
    naive_ns,
    oracle_point_scn,
    parse_lsn,
    row_digest,
    verdict,
)
from wms_connector.audit.emf import audit_emf_lines
from wms_connector.naming import AuditMetric

# -- decoding ------------------------------------------------------------------------------------

DECODE_CASES: list[tuple[Any, str | None, Canon]] = [
    (None, None, NULL),
    (5, None, canon_int(5)),
    ("3000.00", None, canon_text("3000.00")),
    (20454, "io.debezium.time.Date", canon_instant_ns(date_ns(dt.date(2026, 1, 1)))),
    (
        1_767_256_200_000,
        "io.debezium.time.Timestamp",
        canon_instant_ns(naive_ns(dt.datetime(2026, 1, 1, 8, 30))),
    ),
    (
        1_767_256_200_123_456,
        "io.debezium.time.MicroTimestamp",
        canon_instant_ns(naive_ns(dt.datetime(2026, 1, 1, 8, 30, 0, 123_456))),
    ),
    (
        1_767_256_200_123_456_789,
        "io.debezium.time.NanoTimestamp",
        canon_instant_ns(1_767_256_200_123_456_789),
    ),
    (
        "2026-01-01T13:30:00.123456Z",
        "io.debezium.time.ZonedTimestamp",
        canon_zoned(
            aware_ns(dt.datetime(2026, 1, 1, 8, 30, 0, 123_456, dt.timezone(dt.timedelta(hours=-5)))), 0
        ),
    ),
    (
        "2026-01-01T08:30:00.123456-05:00",
        "io.debezium.time.ZonedTimestamp",
        canon_zoned(naive_ns(dt.datetime(2026, 1, 1, 13, 30, 0, 123_456)), -5 * 3600),
    ),
]


@pytest.mark.parametrize(("value", "name", "expected"), DECODE_CASES)
def test_a_column_decodes_as_a_consumer_reads_it(value: Any, name: str | None, expected: Canon) -> None:
    assert decode_column(value, name) == expected


def test_a_millisecond_timestamp_differs_from_the_microseconds_it_lost() -> None:
    """time.precision.mode=connect would write ms for a TIMESTAMP(6): the audit must see it."""
    source = canon_instant_ns(naive_ns(dt.datetime(2026, 1, 1, 8, 30, 0, 123_456)))
    assert decode_column(1_767_256_200_123, "io.debezium.time.Timestamp") != source


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T19:00:00.5-05:00", 500_000_000),
        ("2026-01-01 08:30:00.123456789", naive_ns(dt.datetime(2026, 1, 1, 8, 30)) + 123_456_789),
    ],
)
def test_iso_instants_keep_nine_digits_and_the_offset(text: str, ns: int) -> None:
    assert iso_ns(text) == ns


def test_a_zoned_timestamp_whose_offset_changed_but_not_its_instant_differs() -> None:
    """A consumer reads the offset of a ZonedTimestamp (Oracle TIMESTAMP WITH TIME ZONE keeps
    the row's own): the same instant at another offset is another value."""
    name = "io.debezium.time.ZonedTimestamp"
    moved = decode_column("2026-01-01T09:30:00-04:00", name)
    assert iso_ns("2026-01-01T09:30:00-04:00") == iso_ns("2026-01-01T08:30:00-05:00")
    assert moved != decode_column("2026-01-01T08:30:00-05:00", name)
    assert decode_column("2026-01-01T13:30:00Z", name) == decode_column("2026-01-01T13:30:00+00:00", name)


def test_an_iso_instant_with_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ISO 8601"):
        iso_ns("yesterday")


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [
        (Decimal("3000.00"), None, "3000.00"),
        (Decimal("1E-7"), None, "0.0000001"),
        (Decimal("1.5"), 3, "1.500"),
        (Decimal("1.0E+3"), None, "1000"),
        (Decimal("0.000595939284986544100000"), None, "0.000595939284986544100000"),
    ],
)
def test_decimals_are_plain_text_with_their_scale(value: Decimal, scale: int | None, text: str) -> None:
    assert decimal_text(value, scale) == text


def test_lsn_text_round_trips() -> None:
    assert format_lsn(parse_lsn("0/1A87B58")) == "0/1A87B58"
    assert parse_lsn("1/0") == 1 << 32


# -- points --------------------------------------------------------------------------------------


def test_a_postgresql_snapshot_sees_exactly_the_transactions_committed_before_it() -> None:
    point = PgSnapshotPoint.parse("100:105:100,103", parse_lsn("0/10"))
    assert [t for t in range(95, 110) if point.visible(t)] == [95, 96, 97, 98, 99, 101, 102, 104]
    assert point.includes("r", {})  # snapshot reads (the connector's snapshot ended before)
    assert point.includes("u", {"txId": 104}) and not point.includes("u", {"txId": 103})
    assert point.describe()["snapshot"] == "100:105:100,103"


def test_a_32_bit_transaction_id_is_widened_to_the_snapshot_epoch() -> None:
    epoch = 3 << 32
    point = PgSnapshotPoint(epoch + 10, epoch + 20, frozenset(), 0)
    assert point.visible(15) and not point.visible(25)  # 25 began after the snapshot
    assert point.widen(25) == epoch + 25
    assert point.widen(0xFFFFFFF0) == epoch - 16 and point.visible(0xFFFFFFF0)  # the epoch before


@pytest.mark.parametrize("text", ["", "1:2", "a:b:", "1:2:3:4"])
def test_a_malformed_snapshot_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL snapshot"):
        PgSnapshotPoint.parse(text, 0)


def test_an_scn_point_includes_commits_and_snapshot_reads_up_to_it() -> None:
    point = ScnPoint(1000)
    assert point.includes("c", {"commit_scn": "1000", "scn": "990"})
    assert not point.includes("u", {"commit_scn": "1001", "scn": "990"})
    assert point.includes("r", {"scn": "900", "commit_scn": None})
    assert not point.includes("r", {"scn": "1001"})
    assert point.includes("d", {"commit_scn": "999:1:0a000b"})  # RAC: the SCN comes first


@pytest.mark.parametrize(
    ("offset", "scn"),
    [
        ({"scn": "500", "commit_scn": "480"}, 499),
        ({"scn": "500", "commit_scn": "520"}, 519),
        ({"scn": 700}, 699),
    ],
)
def test_the_oracle_point_is_below_what_the_committed_offset_passed(offset: dict[str, Any], scn: int) -> None:
    assert oracle_point_scn(offset) == scn


def test_an_offset_without_an_scn_is_refused() -> None:
    with pytest.raises(ValueError, match="no SCN"):
        oracle_point_scn({"snapshot": True})


# -- the fold and the comparison -----------------------------------------------------------------


def _event(op: str, txid: int, row: dict[str, Canon] | None = None) -> dict[str, Any]:
    return {"op": op, "source": {"txId": txid}, "after": row}


def _fold(events: list[tuple[int, dict[str, Any] | None]], point: PgSnapshotPoint) -> TableFold:
    fold = TableFold(point)
    for key, envelope in events:
        after = (envelope or {}).get("after") or {}
        fold.apply(key, envelope, lambda after=after: dict(after))
    return fold


POINT = PgSnapshotPoint.parse("50:60:55", 0)
ROW_A = {"ID": canon_int(1), "AMT": canon_text("1.00")}
ROW_B = {"ID": canon_int(1), "AMT": canon_text("2.00")}


def test_latest_visible_value_wins_and_later_transactions_are_left_out() -> None:
    fold = _fold(
        [(1, _event("c", 40, ROW_A)), (1, _event("u", 45, ROW_B)), (1, _event("u", 55, ROW_A))], POINT
    )
    result = compare("T", [(1, ROW_B)], fold)
    assert result.equal and (result.source_rows, result.topic_rows) == (1, 1)
    assert fold.beyond_point == 1


def test_a_delete_and_its_tombstone_remove_the_key_unless_the_delete_is_beyond_the_point() -> None:
    gone = _fold([(1, _event("c", 40, ROW_A)), (1, _event("d", 41)), (1, None)], POINT)
    assert gone.rows == {}
    kept = _fold([(1, _event("c", 40, ROW_A)), (1, _event("d", 61)), (1, None)], POINT)
    assert set(kept.rows) == {1}  # the delete is in a transaction the snapshot does not see
    compacted = _fold([(1, None)], POINT)  # the cleaner left only the tombstone
    assert compacted.rows == {}


def test_missing_extra_and_mismatched_keys_with_their_columns() -> None:
    fold = _fold(
        [
            (1, _event("c", 40, ROW_A)),
            (2, _event("c", 40, {**ROW_A, "ID": canon_int(2)})),
            (9, _event("c", 41, ROW_A)),
        ],
        POINT,
    )
    source = [(1, ROW_B), (2, {**ROW_A, "ID": canon_int(2)}), (3, ROW_A)]
    result = compare("WMS.T", source, fold)
    assert (result.missing, result.extra, result.mismatched) == (1, 1, 1)
    assert result.missing_keys == [3] and result.extra_keys == [9]
    assert [(m.key, m.columns) for m in result.mismatched_keys] == [(1, ("AMT",))]
    assert verdict([result]) == "differ"
    assert set(result.to_json()) == {
        "table",
        "source_rows",
        "topic_rows",
        "missing",
        "extra",
        "mismatched",
        "samples",
    }
    assert result.to_json()["samples"] == {
        "missing": [3],
        "extra": [9],
        "mismatched": [{"key": 1, "columns": ["AMT"]}],
    }


def test_samples_are_bounded_and_the_smallest_keys() -> None:
    fold = _fold([], POINT)
    result = compare("T", [(k, ROW_A) for k in range(1000, 0, -1)], fold, sample_size=5)
    assert result.missing == 1000 and result.missing_keys == [1, 2, 3, 4, 5]


def test_a_column_only_one_side_has_is_named() -> None:
    layouts = Layouts()
    left = row_digest(layouts, ROW_A)
    right = row_digest(layouts, {**ROW_A, "NEW_COL": NULL})
    assert differing_columns(layouts, left, right) == ["NEW_COL"]


@given(
    st.dictionaries(
        st.text(alphabet="ABCDEFGHIJ_", min_size=1, max_size=8),
        st.one_of(st.integers(), st.text(), st.none()).map(lambda v: json.dumps(v).encode()),
        min_size=1,
        max_size=12,
    )
)
def test_a_row_digest_ignores_column_order_and_sees_every_value(row: dict[str, bytes]) -> None:
    layouts = Layouts()
    digest = row_digest(layouts, row)
    assert digest == row_digest(layouts, dict(reversed(list(row.items()))))
    name = next(iter(row))
    changed = row_digest(layouts, {**row, name: row[name] + b"0"})
    assert changed[2:18] != digest[2:18]
    assert differing_columns(layouts, digest, changed) == [name]


def test_emf_lines_carry_each_table_and_the_stage_roll_up() -> None:
    result = compare("WMS.T", [(1, ROW_A)], _fold([], POINT))
    (line,) = audit_emf_lines(
        [result],
        namespace="wms-connector-main",
        dimensions={"Stage": "main", "Connector": "c"},
        timestamp_ms=1,
    )
    document = json.loads(line)
    metrics = document["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Dimensions"] == [["Stage", "Connector", "Table"], ["Stage", "Connector"]]
    assert [m["Name"] for m in metrics["Metrics"]] == [m.value for m in AuditMetric]
    assert (document["AuditMissing"], document["AuditExtra"], document["AuditMismatched"]) == (1, 0, 0)
    assert document["Table"] == "WMS.T"
