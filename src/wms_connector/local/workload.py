"""The demo workload on the STAND-IN source: inserts, updates and deletes of waiver rows.

Pure: :func:`demo_steps` yields :class:`Change` values; :func:`apply` runs one on a psycopg
connection and commits it (one change per transaction, so every change has its own commit time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import psycopg

from wms_connector.local.standin import KEY_COLUMN, quoted
from wms_connector.naming import CAPTURED_TABLES, TableId

STATES: Final = ("CA", "NY", "TX", "WA", "FL", "IL")
STATUSES: Final = ("DRAFT", "SUBMITTED", "APPROVED", "ACTIVE", "CLOSED")


class Op(StrEnum):
    """Debezium's operation codes."""

    CREATE = "c"
    UPDATE = "u"
    DELETE = "d"
    READ = "r"  # snapshot


@dataclass(frozen=True)
class Change:
    table: TableId
    op: Op
    key: int
    values: dict[str, Any]


def waiver_row(table: TableId, key: int, version: int = 0) -> dict[str, Any]:
    """Column values of row ``key`` (deterministic, so tests can compare what arrives)."""
    number = f"{STATES[key % len(STATES)]}.{key:05d}.R{version:02d}"
    day = dt.date(2026, 1, 1) + dt.timedelta(days=key % 300)
    # Every digit of these must survive the trip (microseconds, 18 decimals, 30 significant digits).
    micros = (key * 7919 + version * 104_729) % 1_000_000
    moment = dt.datetime(2026, 1, 1, 8, 30) + dt.timedelta(seconds=key % 86_400, microseconds=micros)
    fraction = f"{(key * 48_271 + version) % 10**18:018d}"
    if table.table == "PLAN_BASE_WVR_TBL":
        return {
            "PLAN_BASE_WVR_ID": key,
            "WVR_NUM": number,
            "STATE_CD": STATES[key % len(STATES)],
            "WVR_STATUS_CD": STATUSES[version % len(STATUSES)],
            "WVR_TYPE_CD": "1915C",
            "EFF_DT": day,
            "END_DT": day + dt.timedelta(days=365 * 5),
            "WVR_AMT": Decimal(key * 1000 + version) / 100,
            "SLOT_CNT": 100 + version,
            "CREATED_BY": "demo",
            "WVR_RATE": Decimal(f"{key % 10**20}.{fraction}"),
            "SBMT_TS": moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        }
    return {
        "PLAN_WVR_RVSN_ID": key,
        "PLAN_BASE_WVR_ID": key // 10 + 1,
        "WVR_NUM": number,
        "RVSN_NUM": version,
        "RVSN_TYPE_CD": "AMEND",
        "RVSN_STATUS_CD": STATUSES[version % len(STATUSES)],
        "RVSN_EFF_DT": day,
        "APRVL_DT": day + dt.timedelta(days=30) if version else None,
        "RVSN_AMT": Decimal(key * 10 + version) / 100,
        "CMNT_TXT": f"revision {version} of {number}",
        "RVSN_FACTOR": Decimal(f"0.{fraction}{micros:06d}") * 10 ** (key % 7),
        "APRVL_TS": moment if version else None,
    }


def demo_steps(rows_per_table: int = 3, first_key: int = 1) -> Iterator[Change]:
    """Per table: insert ``rows_per_table`` rows, update each twice, delete the first one."""
    for table in CAPTURED_TABLES:
        keys = range(first_key, first_key + rows_per_table)
        for key in keys:
            yield Change(table, Op.CREATE, key, waiver_row(table, key))
        for version in (1, 2):
            for key in keys:
                yield Change(table, Op.UPDATE, key, waiver_row(table, key, version))
        yield Change(table, Op.DELETE, first_key, {})


def statement(change: Change) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one change (pure).

    Identifiers come from ``naming.CAPTURED_TABLES`` and the fixed column lists above, never from
    input; values are always bound parameters.
    """
    target = quoted(change.table)
    key_column = KEY_COLUMN[change.table.table]
    if change.op is Op.CREATE:
        columns = ", ".join(f'"{c}"' for c in change.values)
        params = ", ".join(f"%({c})s" for c in change.values)
        return f"INSERT INTO {target} ({columns}) VALUES ({params})", change.values  # noqa: S608
    if change.op is Op.UPDATE:
        sets = ", ".join(f'"{c}" = %({c})s' for c in change.values if c != key_column)
        return (
            f'UPDATE {target} SET {sets}, "LAST_UPDT_TS" = localtimestamp WHERE "{key_column}" = %(key)s',  # noqa: S608
            {**change.values, "key": change.key},
        )
    if change.op is Op.DELETE:
        return f'DELETE FROM {target} WHERE "{key_column}" = %(key)s', {"key": change.key}  # noqa: S608
    raise ValueError(f"cannot apply a {change.op!r} change")


def apply(conn: psycopg.Connection[Any], change: Change) -> None:
    """Run one change in its own transaction."""
    sql, params = statement(change)
    with conn.transaction():
        conn.execute(sql, params)
