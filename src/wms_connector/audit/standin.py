"""The audit's STAND-IN source: one PostgreSQL ``REPEATABLE READ READ ONLY`` transaction (read-only).

The point is the transaction's snapshot (``pg_current_snapshot()``: ``xmin:xmax:xip``) and the WAL
insert position read in the same statement, just after the snapshot was taken. Every transaction
the snapshot sees committed before it, so its commit record lies below that position; once the
connector's committed offset (``lsn``) has reached the position, every change of every such
transaction is in the topics (``PgSnapshotPoint`` and docs/operations.md, "Audit").

Values are rendered as Debezium's PostgreSQL connector writes them with our settings
(``decimal.handling.mode=string``, ``time.precision.mode=adaptive``), then canonicalised as the
topic side decodes them (``audit.compare``).
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import psycopg
from psycopg import sql

from wms_connector.audit.compare import (
    NULL,
    Canon,
    Key,
    PgSnapshotPoint,
    aware_ns,
    canon_bool,
    canon_float,
    canon_instant_ns,
    canon_int,
    canon_text,
    canon_zoned,
    date_ns,
    decimal_text,
    format_lsn,
    key_of,
    naive_ns,
    parse_lsn,
)
from wms_connector.audit.ranges import KeyRange, summarise
from wms_connector.errors import WmsError
from wms_connector.naming import TableId

#: PostgreSQL type OIDs -> how Debezium writes the value, canonicalised.
_BY_OID: Final[Mapping[int, Callable[[Any], Canon]]] = {
    16: canon_bool,
    20: canon_int,
    21: canon_int,
    23: canon_int,
    700: canon_float,
    701: canon_float,
    1700: lambda v: canon_text(decimal_text(Decimal(v))),
    25: canon_text,
    1042: canon_text,
    1043: canon_text,
    1082: lambda v: canon_instant_ns(date_ns(v)),
    1114: lambda v: canon_instant_ns(naive_ns(v)),
    1184: lambda v: canon_zoned(aware_ns(v), 0),  # Debezium writes timestamptz in UTC
}

POINT_SQL: Final = (
    "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text, "
    "pg_current_wal_flush_lsn()::text, "
    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
)
PRIMARY_KEY_SQL: Final = (
    "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
    "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
    "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"
)


def canon_pg(type_oid: int, value: Any) -> Canon:
    if value is None:
        return NULL
    convert = _BY_OID.get(type_oid)
    if convert is not None:
        return convert(value)
    if isinstance(value, dt.datetime | dt.date):
        return canon_text(value.isoformat())
    return canon_text(str(value))


SLOT_SQL: Final = "SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s"
FILENODES_SQL: Final = "SELECT pg_relation_filenode(%s::regclass)"
#: Heap changes and commits between two WAL positions (pg_walinspect, PostgreSQL 15+; read-only).
WAL_SQL: Final = (
    "SELECT xid::text::bigint, resource_manager, record_type, coalesce(block_ref, ''), start_lsn::text "
    "FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn) "
    "WHERE resource_manager IN ('Heap', 'Heap2') "
    "OR (resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%%')"
)
_BLOCK_REL: Final = re.compile(r"rel \d+/\d+/(\d+)")


def quiet_between(
    records: list[tuple[int, str, str, str, int]], filenodes: set[int], offset_xid: int, offset_lsn: int
) -> bool:
    """Whether every captured change of every transaction committed in ``records`` is behind the
    connector's offset (pure).

    ``records`` are ``(xid, resource manager, record type, block refs, start lsn)`` rows of WAL from
    before the oldest transaction the slot still decodes, up to the point. Debezium emits whole
    transactions in commit order, so the offset's transaction (``offset_xid``) is complete when none
    of its captured changes lies beyond ``offset_lsn``, and every other one is emitted when it
    committed before it; one that committed after it and wrote a captured table is still to come.
    """
    commits = {xid: lsn for xid, manager, _kind, _blocks, lsn in records if manager == "Transaction"}
    anchor = commits.get(offset_xid, -1)
    last_write: dict[int, int] = {}
    for xid, manager, _kind, blocks, lsn in records:
        if manager in ("Heap", "Heap2") and any(int(n) in filenodes for n in _BLOCK_REL.findall(blocks)):
            last_write[xid] = max(lsn, last_write.get(xid, -1))
    for xid, last in last_write.items():
        committed = commits.get(xid)
        if committed is None:
            continue  # not committed by the point: the snapshot does not see it
        if xid == offset_xid:
            if last > offset_lsn:
                return False
        elif committed > anchor:
            return False
    return True


class StandInSnapshot:
    """An open read-only snapshot of the stand-in database; :attr:`point` says which one."""

    def __init__(self, conninfo: str, slot: str | None = None) -> None:
        self._conninfo = conninfo
        self._slot = slot
        self._summarisers: list[Summariser] = []
        self._conn = psycopg.connect(conninfo, autocommit=False)
        self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = self._conn.execute(POINT_SQL).fetchone()
        assert row is not None
        snapshot, lsn, flushed, taken_at = row
        self.point = PgSnapshotPoint.parse(
            str(snapshot), parse_lsn(str(lsn)), str(taken_at), parse_lsn(str(flushed))
        )

    def rows(self, table: TableId, batch: int = 5000) -> Iterator[tuple[Key, dict[str, Canon]]]:
        """Every row of ``table`` in the snapshot, as ``(key, canonical columns)``."""
        return read_rows(self._conn, table, batch=batch)

    def range_rows(
        self, table: TableId, bounds: Sequence[tuple[Key, Key]]
    ) -> Iterator[tuple[Key, dict[str, Canon]]]:
        """The rows of ``table`` whose key lies within one of ``bounds`` (each ``first``..``last``
        in the database's key order), in the snapshot."""
        for first, last in bounds:
            yield from read_rows(self._conn, table, bounds=(first, last))

    def summaries(self, tables: Sequence[TableId], range_rows: int) -> Callable[[TableId], list[KeyRange]]:
        """Start summarising ``tables`` in a child process, in this very snapshot (exported:
        ``pg_export_snapshot()``; the child imports it into its own read-only transaction), while
        this process folds the topics. Returns the getter that waits for one table's ranges."""
        (exported,) = self._conn.execute("SELECT pg_export_snapshot()").fetchone() or ("",)
        request = {
            "conninfo": self._conninfo,
            "snapshot": str(exported),
            "tables": [(t.schema, t.table) for t in tables],
            "range_rows": range_rows,
        }
        summariser = Summariser(request)
        self._summarisers.append(summariser)
        return summariser.result

    def passed(self, offset: Mapping[str, Any], tables: Sequence[TableId]) -> bool:
        """Whether the connector's committed ``offset`` has passed the point.

        Normally its ``lsn`` is at or beyond the point's WAL position. On a quiet database it stays
        at its last captured change, below the point; then the WAL from the slot's ``restart_lsn``
        to the point's flush position (every commit the snapshot sees lies below it, with
        ``synchronous_commit=on``) decides, with :func:`quiet_between`.
        """
        lsn = offset.get("lsn")
        txid = offset.get("txId")
        if not isinstance(lsn, int):
            return False
        if lsn >= self.point.lsn:
            return True
        if self._slot is None or not isinstance(txid, int):
            return False
        end = self.point.flush_lsn or self.point.lsn
        if lsn >= end:
            # Every commit the snapshot sees is behind the offset, and Debezium emits in commit order.
            return True
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            slot = conn.execute(SLOT_SQL, (self._slot,)).fetchone()
            if slot is None or slot[0] is None:
                return False
            start = min(parse_lsn(str(slot[0])), lsn)
            filenodes = set()
            for table in tables:
                row = conn.execute(FILENODES_SQL, (f'"{table.schema}"."{table.table}"',)).fetchone()
                if row is not None and row[0] is not None:
                    filenodes.add(int(row[0]))
            records = [
                (int(x or 0), str(m), str(k), str(b), parse_lsn(str(at)))
                for x, m, k, b, at in conn.execute(WAL_SQL, (format_lsn(start), format_lsn(end))).fetchall()
            ]
        return quiet_between(records, filenodes, txid % (1 << 32), lsn)

    def close(self) -> None:
        try:
            for summariser in self._summarisers:
                summariser.close()
        finally:
            try:
                self._conn.rollback()
            finally:
                self._conn.close()


def key_columns_of(conn: psycopg.Connection[Any], table: TableId) -> list[str]:
    key_columns = [
        str(r[0]) for r in conn.execute(PRIMARY_KEY_SQL, (f'"{table.schema}"."{table.table}"',)).fetchall()
    ]
    if not key_columns:
        raise ValueError(f"table {table.qualified} has no primary key: its topic has no row keys to compare")
    return key_columns


def select_rows(table: TableId, key_columns: Sequence[str], ranged: bool) -> sql.Composed:
    """``SELECT *`` in primary-key order; ``ranged``: only keys between two row values (a row
    comparison, so a composite key ranges as the ``ORDER BY`` orders it)."""
    qualified = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.table))
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in key_columns)
    marks = sql.SQL(", ").join(sql.Placeholder() for _ in key_columns)
    where = sql.SQL(" WHERE ({}) BETWEEN ({}) AND ({})").format(keys, marks, marks) if ranged else sql.SQL("")
    return sql.SQL("SELECT * FROM {}{} ORDER BY {}").format(qualified, where, keys)


def read_rows(
    conn: psycopg.Connection[Any],
    table: TableId,
    *,
    bounds: tuple[Key, Key] | None = None,
    batch: int = 5000,
) -> Iterator[tuple[Key, dict[str, Canon]]]:
    """The rows of ``table`` in ``conn``'s transaction, in primary-key order, as ``(key,
    canonical columns)``; within ``bounds`` (first and last key, inclusive) when given."""
    key_columns = key_columns_of(conn, table)
    params: list[Any] = []
    if bounds is not None:
        for bound in bounds:
            params.extend(bound if isinstance(bound, tuple) else (bound,))
    with conn.cursor(name=f"audit_{table.schema}_{table.table}".lower()) as cursor:
        cursor.itersize = batch
        cursor.execute(select_rows(table, key_columns, bounds is not None), params or None)
        names: list[str] | None = None
        oids: list[int] = []
        key_index: list[int] = []
        for record in cursor:
            if names is None:
                description = cursor.description or []
                names = [d.name for d in description]
                oids = [d.type_code for d in description]
                key_index = [names.index(k) for k in key_columns]
            yield (
                key_of([record[i] for i in key_index]),
                {name: canon_pg(oid, value) for name, oid, value in zip(names, oids, record, strict=True)},
            )


class SummariserError(WmsError):
    """The child that summarises the source failed; its error is told."""


class Summariser:
    """The child process (``python -m wms_connector.audit.summarise``: a lean interpreter, not
    this CLI's) that summarises the tables in the exported snapshot. The request, the password
    included, goes through its stdin (never its argv or environment); one pickled answer per table
    comes back on its stdout, in the request's order."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "wms_connector.audit.summarise"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None
        pickle.dump(dict(request), self._process.stdin)
        self._process.stdin.close()
        self._done: dict[TableId, list[KeyRange]] = {}

    def result(self, table: TableId) -> list[KeyRange]:
        assert self._process.stdout is not None
        while table not in self._done:
            try:
                kind, schema, name, payload = pickle.load(self._process.stdout)  # noqa: S301 - our child
            except EOFError:
                raise SummariserError(
                    f"the source summariser ended (exit {self._process.wait()}) before {table.qualified}"
                ) from None
            if kind == "error":
                raise SummariserError(f"summarising {schema}.{name} failed: {payload}")
            self._done[TableId(schema, name)] = payload
        return self._done.pop(table)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait(30)
        if self._process.stdout is not None:
            self._process.stdout.close()


def summarise_in_snapshot(
    request: Mapping[str, Any], answer: Callable[[tuple[str, str, str, object]], None]
) -> None:
    """In the child process: each table's range summaries in the exported snapshot (one
    ``REPEATABLE READ READ ONLY`` transaction, the snapshot imported before any query)."""
    with psycopg.connect(str(request["conninfo"]), autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(str(request["snapshot"]))))
        try:
            for schema, table in request["tables"]:
                try:
                    rows = read_rows(conn, TableId(schema, table), batch=1000)
                    answer(("ranges", schema, table, summarise(rows, int(request["range_rows"]))))
                except (psycopg.Error, ValueError) as error:
                    answer(("error", schema, table, str(error)))
                    return
        finally:
            conn.rollback()
