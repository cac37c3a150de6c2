"""The Oracle reader of the audit: its query text, and values as Oracle returns them (recorded shapes).

Oracle cannot run here: a small fake (also for the hashed key ranges' ``ORDER BY`` / ``BETWEEN``
reads, which no test runs against a real Oracle) stands where ``oracledb.connect`` returns and answers with
the shapes python-oracledb gives for these statements (``TO_CHAR`` text, ``ALL_TAB_COLUMNS``
rows). The real run (``make test-oracle``) is
``tests/integration/test_oracle_optin.py::test_the_audit_finds_oracle_and_its_topics_equal``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from wms_connector.audit.compare import (
    NULL,
    canon_float,
    canon_instant_ns,
    canon_int,
    canon_text,
    decode_column,
    naive_ns,
)
from wms_connector.audit.oracle import (
    COLUMNS_SQL,
    POINT_TIME_SQL,
    PRIMARY_KEY_SQL,
    OracleColumn,
    OracleSnapshot,
    key_range_condition,
    ns_text,
    range_binds,
    select_sql,
)
from wms_connector.audit.ranges import summarise
from wms_connector.naming import TableId
from wms_connector.preflight.queries import NotReadOnlyError, ensure_read_only

TABLE = TableId("WMS", "PLAN_BASE_WVR_TBL")
COLUMNS = [
    ("PLAN_BASE_WVR_ID", "NUMBER", 19, 0),
    ("WVR_NUM", "VARCHAR2", None, None),
    ("EFF_DT", "DATE", None, None),
    ("WVR_AMT", "NUMBER", 14, 2),
    ("WVR_RATE", "NUMBER", None, None),
    ("SLOT_CNT", "NUMBER", 9, 0),
    ("SBMT_TS", "TIMESTAMP(6) WITH TIME ZONE", None, 6),
    ("LAST_UPDT_TS", "TIMESTAMP(9)", None, 9),
    ("RATIO", "BINARY_DOUBLE", None, None),
]


def test_the_flashback_query_reads_every_column_in_its_comparable_form() -> None:
    columns = [OracleColumn(*c) for c in COLUMNS]
    sql = select_sql(TABLE, columns)
    ensure_read_only(sql)
    assert sql.endswith('FROM "WMS"."PLAN_BASE_WVR_TBL" AS OF SCN :scn')
    assert """TO_CHAR("EFF_DT", 'YYYY-MM-DD HH24:MI:SS') AS "EFF_DT\"""" in sql
    assert """TO_CHAR("SBMT_TS", 'YYYY-MM-DD HH24:MI:SS.FF9TZH:TZM') AS "SBMT_TS\"""" in sql
    assert """TO_CHAR("LAST_UPDT_TS", 'YYYY-MM-DD HH24:MI:SS.FF9')""" in sql
    assert """TO_CHAR("WVR_AMT", 'TM9') AS "WVR_AMT\"""" in sql
    assert '"RATIO" AS "RATIO"' in sql and '"WVR_NUM" AS "WVR_NUM"' in sql


def test_every_statement_is_read_only() -> None:
    for sql in (COLUMNS_SQL, PRIMARY_KEY_SQL, POINT_TIME_SQL):
        ensure_read_only(sql)
    with pytest.raises(NotReadOnlyError):
        ensure_read_only("DELETE FROM WMS.PLAN_BASE_WVR_TBL")


@pytest.mark.parametrize(
    ("column", "value", "topic_value", "logical"),
    [
        # Per docs/stream.md: what Debezium writes for each Oracle type, and what Oracle returns here.
        (("ID", "NUMBER", 9, 0), "42", 42, None),
        (("BIG", "NUMBER", 19, 0), "12345678901234567890", "12345678901234567890", None),
        (("AMT", "NUMBER", 14, 2), "1.5", "1.50", None),
        (("N", "NUMBER", None, None), ".000595939284986544", "0.000595939284986544", None),
        (("D", "DATE", None, None), "2026-01-01 08:30:00", 1_767_256_200_000, "io.debezium.time.Timestamp"),
        (
            ("T6", "TIMESTAMP(6)", None, 6),
            "2026-01-01 08:30:00.123456000",
            1_767_256_200_123_456,
            "io.debezium.time.MicroTimestamp",
        ),
        (
            ("T9", "TIMESTAMP(9)", None, 9),
            "2026-01-01 08:30:00.123456789",
            1_767_256_200_123_456_789,
            "io.debezium.time.NanoTimestamp",
        ),
        (
            ("TZ", "TIMESTAMP(6) WITH TIME ZONE", None, 6),
            "2026-01-01 08:30:00.123456000-05:00",
            "2026-01-01T08:30:00.123456-05:00",
            "io.debezium.time.ZonedTimestamp",
        ),
        (
            ("LTZ", "TIMESTAMP(6) WITH LOCAL TIME ZONE", None, 6),
            "2026-01-01 13:30:00.123456000",
            "2026-01-01T13:30:00.123456Z",
            "io.debezium.time.ZonedTimestamp",
        ),
        (("F", "BINARY_DOUBLE", None, None), 0.1, 0.1, None),
        (("S", "VARCHAR2", None, None), "TX.00001", "TX.00001", None),
        (("S", "VARCHAR2", None, None), None, None, None),
    ],
)
def test_an_oracle_value_equals_what_a_consumer_decodes_from_debezium(
    column: tuple[str, str, int | None, int | None], value: Any, topic_value: Any, logical: str | None
) -> None:
    assert OracleColumn(*column).canon(value) == decode_column(topic_value, logical)


def test_a_lost_digit_is_a_difference() -> None:
    amount = OracleColumn("AMT", "NUMBER", 14, 2)
    assert amount.canon("1.5") != decode_column("1.5", None)  # the scale is part of the value
    stamp = OracleColumn("T6", "TIMESTAMP(6)", None, 6)
    assert stamp.canon("2026-01-01 08:30:00.123456000") != decode_column(
        1_767_256_200_123, "io.debezium.time.Timestamp"
    )


def test_a_zoned_timestamp_at_another_offset_is_a_difference_even_at_the_same_instant() -> None:
    """Debezium writes TIMESTAMP WITH TIME ZONE with the row's own offset (a consumer reads it),
    WITH LOCAL TIME ZONE in UTC (Oracle stores no zone there)."""
    zoned = OracleColumn("TZ", "TIMESTAMP(6) WITH TIME ZONE", None, 6)
    name = "io.debezium.time.ZonedTimestamp"
    assert zoned.canon("2026-01-01 08:30:00.000000000-05:00") == decode_column(
        "2026-01-01T08:30:00-05:00", name
    )
    assert zoned.canon("2026-01-01 09:30:00.000000000-04:00") != decode_column(
        "2026-01-01T08:30:00-05:00", name
    )
    local = OracleColumn("LTZ", "TIMESTAMP(6) WITH LOCAL TIME ZONE", None, 6)
    assert local.expression == """TO_CHAR(SYS_EXTRACT_UTC("LTZ"), 'YYYY-MM-DD HH24:MI:SS.FF9')"""
    assert local.canon("2026-01-01 13:30:00.000000000") == decode_column("2026-01-01T13:30:00Z", name)


class FakeCursor:
    def __init__(
        self, answers: dict[str, list[tuple[Any, ...]]], log: list[tuple[str, dict[str, Any]]]
    ) -> None:
        self._answers = answers
        self._log = log
        self._rows: list[tuple[Any, ...]] = []
        self.arraysize = 100
        self.prefetchrows = 2

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        self._log.append((sql, params))
        key = next(k for k in self._answers if sql.startswith(k))
        self._rows = list(self._answers[key])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def __iter__(self) -> Any:
        return iter(self._rows)

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]) -> None:
        self.answers = answers
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.answers, self.log)

    def close(self) -> None:
        self.closed = True


def test_rows_are_read_as_of_the_point_with_their_keys() -> None:
    columns = [
        ("PLAN_BASE_WVR_ID", "NUMBER", 10, 0),
        ("WVR_AMT", "NUMBER", 14, 2),
        ("EFF_DT", "DATE", None, None),
    ]
    connection = FakeConnection(
        {
            POINT_TIME_SQL: [("2026-12-05T14:00:00.000000Z",)],
            COLUMNS_SQL: columns,
            PRIMARY_KEY_SQL: [("PLAN_BASE_WVR_ID",)],
            "SELECT TO_CHAR": [("7", "70.5", "2026-01-01 00:00:00"), ("8", None, None)],
        }
    )
    snapshot = OracleSnapshot(connection, 123456)
    assert snapshot.point.describe() == {
        "kind": "oracle-scn",
        "scn": 123456,
        "time": "2026-12-05T14:00:00.000000Z",
    }
    rows = list(snapshot.rows(TABLE))
    assert [key for key, _ in rows] == [7, 8]
    assert rows[0][1] == {
        "PLAN_BASE_WVR_ID": canon_int(7),
        "WVR_AMT": canon_text("70.50"),
        "EFF_DT": canon_instant_ns(naive_ns(dt.datetime(2026, 1, 1))),
    }
    assert rows[1][1]["WVR_AMT"] == NULL
    flashback = [params for sql, params in connection.log if "AS OF SCN" in sql]
    assert flashback == [{"scn": 123456}]
    snapshot.close()
    assert connection.closed


def test_a_table_without_a_primary_key_is_refused() -> None:
    connection = FakeConnection(
        {POINT_TIME_SQL: [("t",)], COLUMNS_SQL: [("A", "NUMBER", 9, 0)], PRIMARY_KEY_SQL: []}
    )
    with pytest.raises(ValueError, match="no primary key"):
        list(OracleSnapshot(connection, 1).rows(TABLE))


def test_binary_double_and_decimal_helpers() -> None:
    assert OracleColumn("F", "BINARY_FLOAT", None, None).canon(Decimal("0.5")) == canon_float(0.5)


# -- hashed key ranges (audit/ranges.py): ORDER BY the key, WHERE the key BETWEEN, AS OF SCN ----------


def test_a_key_range_is_written_out_for_one_and_for_several_key_columns() -> None:
    one = [OracleColumn("ID", "NUMBER", 10, 0)]
    assert key_range_condition(one) == '"ID" >= :lo0 AND "ID" <= :hi0'
    two = [OracleColumn("A", "VARCHAR2", None, None), OracleColumn("B", "NUMBER", 9, 0)]
    # Oracle has no < or > on row values: (A, B) >= (lo0, lo1) written out lexicographically.
    # Text keys by their binary sort key on both sides, whatever the session's NLS_SORT/NLS_COMP.
    text = "NLSSORT(\"A\", 'NLS_SORT=BINARY')"
    lo, hi = "NLSSORT(:lo0, 'NLS_SORT=BINARY')", "NLSSORT(:hi0, 'NLS_SORT=BINARY')"
    assert key_range_condition(two) == (
        f'({text} > {lo} OR ({text} = {lo} AND "B" >= :lo1)) '
        f'AND ({text} < {hi} OR ({text} = {hi} AND "B" <= :hi1))'
    )
    zoned = [OracleColumn("TS", "TIMESTAMP(6) WITH TIME ZONE", None, 6)]
    assert key_range_condition(zoned) == (
        "SYS_EXTRACT_UTC(\"TS\") >= TO_TIMESTAMP(:lo0, 'YYYY-MM-DD HH24:MI:SS.FF9') "
        "AND SYS_EXTRACT_UTC(\"TS\") <= TO_TIMESTAMP(:hi0, 'YYYY-MM-DD HH24:MI:SS.FF9')"
    )


def test_range_binds_give_each_key_column_its_bound_and_instants_their_text() -> None:
    keys = [OracleColumn("A", "VARCHAR2", None, None), OracleColumn("D", "DATE", None, None)]
    first = ("x", str(naive_ns(dt.datetime(2026, 1, 1, 8, 30))))
    last = ("y", str(naive_ns(dt.datetime(2026, 1, 2)) + 5))
    assert range_binds(keys, first, last) == {
        "lo0": "x",
        "lo1": "2026-01-01 08:30:00.000000000",
        "hi0": "y",
        "hi1": "2026-01-02 00:00:00.000000005",
    }
    assert ns_text(-1) == "1969-12-31 23:59:59.999999999"


def ranged_connection() -> FakeConnection:
    return FakeConnection(
        {
            POINT_TIME_SQL: [("2026-12-05T14:00:00.000000Z",)],
            COLUMNS_SQL: [("PLAN_BASE_WVR_ID", "NUMBER", 10, 0), ("WVR_AMT", "NUMBER", 14, 2)],
            PRIMARY_KEY_SQL: [("PLAN_BASE_WVR_ID",)],
            "SELECT TO_CHAR": [("7", "70.5"), ("8", None), ("9", "1")],
        }
    )


def test_summaries_read_in_key_order_as_of_the_point() -> None:
    connection = ranged_connection()
    snapshot = OracleSnapshot(connection, 123456)
    ranges = snapshot.summaries([TABLE], 2)(TABLE)
    assert [(r.first, r.last, r.rows) for r in ranges] == [(7, 8, 2), (9, 9, 1)]
    assert ranges == summarise(snapshot.rows(TABLE), 2)
    (sql, binds) = next((s, b) for s, b in connection.log if "AS OF SCN" in s)
    assert sql.endswith('AS OF SCN :scn ORDER BY "PLAN_BASE_WVR_ID"') and binds == {"scn": 123456}
    ensure_read_only(sql)


def test_differing_ranges_are_read_again_between_their_keys_at_the_point() -> None:
    connection = ranged_connection()
    snapshot = OracleSnapshot(connection, 123456)
    rows = list(snapshot.range_rows(TABLE, [(7, 8), (20, 30)]))
    assert [key for key, _ in rows][:3] == [7, 8, 9]  # the fake answers every query alike
    reads = [(s, b) for s, b in connection.log if "AS OF SCN" in s]
    assert [b for _, b in reads] == [
        {"lo0": 7, "hi0": 8, "scn": 123456},
        {"lo0": 20, "hi0": 30, "scn": 123456},
    ]
    for sql, _ in reads:
        ensure_read_only(sql)
        assert sql.endswith(
            'AS OF SCN :scn WHERE "PLAN_BASE_WVR_ID" >= :lo0 AND "PLAN_BASE_WVR_ID" <= :hi0 '
            'ORDER BY "PLAN_BASE_WVR_ID"'
        )
