from __future__ import annotations

import json
from collections import Counter

import pytest

from wms_connector.local.events import parse_event, percentile
from wms_connector.local.standin import schema_sql
from wms_connector.local.workload import Op, demo_steps, statement
from wms_connector.naming import CAPTURED_TABLES


def test_schema_sql_quotes_uppercase_and_full_replica_identity() -> None:
    sql = "\n".join(schema_sql())
    for table in CAPTURED_TABLES:
        assert f'CREATE TABLE IF NOT EXISTS "{table.schema}"."{table.table}"' in sql
        assert f'ALTER TABLE "{table.schema}"."{table.table}" REPLICA IDENTITY FULL' in sql


def test_demo_covers_every_table_and_operation() -> None:
    steps = list(demo_steps(rows_per_table=3))
    counts = Counter((s.table, s.op) for s in steps)
    for table in CAPTURED_TABLES:
        assert counts[table, Op.CREATE] == 3
        assert counts[table, Op.UPDATE] == 6
        assert counts[table, Op.DELETE] == 1


def test_statements_bind_values() -> None:
    for change in demo_steps(rows_per_table=1):
        sql, params = statement(change)
        assert "%(" in sql
        for value in params.values():
            assert str(value) not in sql or value in (None,)


def _msg(payload: object) -> bytes:
    return json.dumps({"schema": {}, "payload": payload}).encode()


def test_parse_update_event() -> None:
    event = parse_event(
        "wms.WMS.PLAN_BASE_WVR_TBL",
        _msg({"PLAN_BASE_WVR_ID": 7}),
        _msg(
            {
                "op": "u",
                "before": {"PLAN_BASE_WVR_ID": 7, "WVR_STATUS_CD": "DRAFT"},
                "after": {"PLAN_BASE_WVR_ID": 7, "WVR_STATUS_CD": "ACTIVE"},
                "source": {"ts_ms": 1000},
            }
        ),
        1120,
        offset=4,
    )
    assert (event.op, event.op_name, event.key, event.latency_ms) == (
        "u",
        "update",
        {"PLAN_BASE_WVR_ID": 7},
        120,
    )
    assert event.summary() == "WVR_STATUS_CD: DRAFT -> ACTIVE"
    assert event.key_text == "PLAN_BASE_WVR_ID=7"


def test_tombstone() -> None:
    event = parse_event("t", _msg({"PLAN_BASE_WVR_ID": 7}), None, 5)
    assert event.op == "tombstone"
    assert event.latency_ms is None


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([1.0], 0.5, 1.0),
        ([1, 2, 3, 4], 0.5, 2),
        (list(range(1, 101)), 0.99, 99),
        (list(range(1, 101)), 0.5, 50),
    ],
)
def test_percentile(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected
