"""The audit's Oracle source: flashback queries ``AS OF SCN s`` (python-oracledb thin; read-only).

The point ``s`` comes from the connector's committed offset (``compare.oracle_point_scn``): an SCN
the connector has provably passed. Each table is read ``AS OF SCN :scn``, which needs only the
grants Debezium's snapshot already has (``FLASHBACK ANY TABLE`` or ``FLASHBACK`` on the table) and
undo that still covers ``s`` (``UNDO_RETENTION``; ORA-01555/ORA-08180 otherwise, reported as is).

Each column is selected in a form from which its Debezium JSON value follows exactly
(``docs/stream.md``): dates and timestamps as text with all nine fractional digits (Python's
datetime stops at microseconds), zoned timestamps as their UTC instant, numbers as text
(``TM9``, every digit; python-oracledb would otherwise hand back a binary float). Every
statement passes the preflight's read-only guard first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from wms_connector.audit.compare import (
    NULL,
    Canon,
    Key,
    ScnPoint,
    canon_float,
    canon_instant_ns,
    canon_int,
    canon_text,
    canon_zoned,
    decimal_text,
    iso_ns,
    iso_parts,
    key_of,
)
from wms_connector.audit.ranges import KeyRange, summarise
from wms_connector.naming import TableId
from wms_connector.preflight.queries import ensure_read_only, identifier

COLUMNS_SQL: Final = (
    "SELECT COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE FROM ALL_TAB_COLUMNS "
    "WHERE OWNER = :owner AND TABLE_NAME = :table_name ORDER BY COLUMN_ID"
)
PRIMARY_KEY_SQL: Final = (
    "SELECT cc.COLUMN_NAME FROM ALL_CONSTRAINTS c JOIN ALL_CONS_COLUMNS cc "
    "ON cc.OWNER = c.OWNER AND cc.CONSTRAINT_NAME = c.CONSTRAINT_NAME "
    "WHERE c.OWNER = :owner AND c.TABLE_NAME = :table_name AND c.CONSTRAINT_TYPE = 'P' "
    "ORDER BY cc.POSITION"
)
POINT_TIME_SQL: Final = (
    "SELECT TO_CHAR(SYS_EXTRACT_UTC(CAST(SCN_TO_TIMESTAMP(:scn) AS TIMESTAMP WITH TIME ZONE)), "
    '\'YYYY-MM-DD"T"HH24:MI:SS.FF6"Z"\') AS POINT_TIME FROM DUAL'
)
_TIME_FORMAT: Final = "'YYYY-MM-DD HH24:MI:SS.FF9'"
_ZONED_FORMAT: Final = "'YYYY-MM-DD HH24:MI:SS.FF9TZH:TZM'"
_DATE_FORMAT: Final = "'YYYY-MM-DD HH24:MI:SS'"
_BINARY: Final = "'NLS_SORT=BINARY'"
_TEXT_TYPES: Final = frozenset({"CHAR", "VARCHAR2", "NCHAR", "NVARCHAR2", "CLOB", "NCLOB", "LONG"})


@dataclass(frozen=True)
class OracleColumn:
    name: str
    data_type: str
    precision: int | None
    scale: int | None

    @property
    def expression(self) -> str:
        """The select-list expression for this column (the column name is checked by ``identifier``)."""
        quoted = f'"{identifier(self.name)}"'
        kind = self.data_type
        if kind == "DATE":
            return f"TO_CHAR({quoted}, {_DATE_FORMAT})"
        if kind.startswith("TIMESTAMP") and "LOCAL TIME ZONE" in kind:
            return f"TO_CHAR(SYS_EXTRACT_UTC({quoted}), {_TIME_FORMAT})"  # Debezium: UTC
        if kind.startswith("TIMESTAMP") and "TIME ZONE" in kind:
            return f"TO_CHAR({quoted}, {_ZONED_FORMAT})"  # Debezium keeps the row's own offset
        if kind.startswith("TIMESTAMP"):
            return f"TO_CHAR({quoted}, {_TIME_FORMAT})"
        if kind in ("NUMBER", "FLOAT"):
            return f"TO_CHAR({quoted}, 'TM9')"
        return quoted

    @property
    def temporal(self) -> bool:
        return self.data_type == "DATE" or self.data_type.startswith("TIMESTAMP")

    @property
    def key_expression(self) -> str:
        """The column as a key is ordered and ranged: a zoned timestamp by its UTC instant, text
        by its binary sort key (``NLSSORT(..., 'NLS_SORT=BINARY')``: the ``ORDER BY`` and the
        ``BETWEEN`` then agree whatever the session's ``NLS_SORT`` and ``NLS_COMP``, and in the
        order Python gives the same text)."""
        quoted = f'"{identifier(self.name)}"'
        if "TIME ZONE" in self.data_type:
            return f"SYS_EXTRACT_UTC({quoted})"
        return f"NLSSORT({quoted}, {_BINARY})" if self.data_type in _TEXT_TYPES else quoted

    def bind_expression(self, bind: str) -> str:
        if self.temporal:
            return f"TO_TIMESTAMP(:{bind}, {_TIME_FORMAT})"
        return f"NLSSORT(:{bind}, {_BINARY})" if self.data_type in _TEXT_TYPES else f":{bind}"

    def bind_value(self, value: Any) -> Any:
        """A key value (:func:`_key_value`'s form) as this column's bind: an instant's
        nanoseconds become the text :meth:`bind_expression` parses."""
        if self.temporal:
            return ns_text(int(value))
        return value

    def canon(self, value: Any) -> Canon:
        """The value (as :attr:`expression` returns it) as a consumer decodes Debezium's JSON."""
        if value is None:
            return NULL
        kind = self.data_type
        if kind.startswith("TIMESTAMP") and "TIME ZONE" in kind:
            return canon_zoned(*iso_parts(str(value)))  # ZonedTimestamp: the instant and the offset
        if kind == "DATE" or kind.startswith("TIMESTAMP"):
            return canon_instant_ns(iso_ns(str(value)))  # DATE: Timestamp (ms); TIMESTAMP(p): by p
        if kind in ("NUMBER", "FLOAT"):
            number = Decimal(str(value))
            if kind == "NUMBER" and self.scale == 0 and self.precision is not None and self.precision < 19:
                return canon_int(int(number))  # int8/16/32/64
            if kind == "NUMBER" and self.scale is not None and self.scale > 0:
                return canon_text(decimal_text(number, self.scale))  # the column's scale
            return canon_text(decimal_text(number))  # NUMBER, NUMBER(p>=19), s<0, FLOAT: own scale
        if kind in ("BINARY_FLOAT", "BINARY_DOUBLE"):
            return canon_float(float(value))
        if kind in _TEXT_TYPES:
            return canon_text(str(value))
        return canon_text(str(value))


def select_sql(table: TableId, columns: list[OracleColumn], keys: Sequence[OracleColumn] = ()) -> str:
    """The flashback query of ``table`` at ``:scn`` (every column in its comparable form), in
    primary-key order when ``keys`` are given."""
    owner, name = identifier(table.schema), identifier(table.table)
    select_list = ", ".join(f'{c.expression} AS "{identifier(c.name)}"' for c in columns)
    order = f" ORDER BY {', '.join(k.key_expression for k in keys)}" if keys else ""
    return f'SELECT {select_list} FROM "{owner}"."{name}" AS OF SCN :scn{order}'  # noqa: S608 - identifiers checked


def key_range_condition(keys: Sequence[OracleColumn]) -> str:
    """``keys BETWEEN :lo AND :hi`` in the ``ORDER BY``'s order, for one or several key columns
    (Oracle has no ``<``/``>`` on row values: a composite bound is written out lexicographically).
    The binds are ``lo0, lo1, ...`` and ``hi0, hi1, ...``."""

    def bound(index: int, side: str, strict: str, final: str) -> str:
        column = keys[index].key_expression
        value = keys[index].bind_expression(f"{side}{index}")
        if index == len(keys) - 1:
            return f"{column} {final} {value}"
        rest = bound(index + 1, side, strict, final)
        return f"({column} {strict} {value} OR ({column} = {value} AND {rest}))"

    return f"{bound(0, 'lo', '>', '>=')} AND {bound(0, 'hi', '<', '<=')}"


def range_binds(keys: Sequence[OracleColumn], first: Key, last: Key) -> dict[str, Any]:
    """The binds of :func:`key_range_condition` for one range's first and last key (as
    :func:`_key_value` gives them: an integer, or text; instants as their nanoseconds' text)."""
    binds: dict[str, Any] = {}
    for side, key in (("lo", first), ("hi", last)):
        values = key if isinstance(key, tuple) else (key,)
        for index, (column, value) in enumerate(zip(keys, values, strict=True)):
            binds[f"{side}{index}"] = column.bind_value(value)
    return binds


class OracleSnapshot:
    """Reads the captured tables ``AS OF SCN`` the point. ``connection`` is a python-oracledb
    connection (thin mode), or a recorded stand-in for it in the unit tests."""

    def __init__(self, connection: Any, scn: int, *, arraysize: int = 5000) -> None:
        self._connection = connection
        self._arraysize = arraysize
        (row,) = self._query(POINT_TIME_SQL, {"scn": scn})
        self.point = ScnPoint(scn, str(row[0]))

    def _query(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        ensure_read_only(sql)
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, dict(params))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def columns(self, table: TableId) -> list[OracleColumn]:
        params = {"owner": table.schema, "table_name": table.table}
        return [
            OracleColumn(str(n), str(t), None if p is None else int(p), None if s is None else int(s))
            for n, t, p, s in self._query(COLUMNS_SQL, params)
        ]

    def rows(self, table: TableId) -> Iterator[tuple[Key, dict[str, Canon]]]:
        """Every row of ``table`` at the point, in primary-key order."""
        columns, key_columns = self._shape(table)
        yield from self._read(select_sql(table, columns, key_columns), {}, columns, key_columns)

    def range_rows(
        self, table: TableId, bounds: Sequence[tuple[Key, Key]]
    ) -> Iterator[tuple[Key, dict[str, Canon]]]:
        """The rows whose key lies within one of ``bounds`` (first and last key, inclusive, in
        the ``ORDER BY``'s order), at the point."""
        columns, key_columns = self._shape(table)
        base = select_sql(table, columns, key_columns)
        head, order = base.split(" ORDER BY ")
        sql = f"{head} WHERE {key_range_condition(key_columns)} ORDER BY {order}"
        for first, last in bounds:
            yield from self._read(sql, range_binds(key_columns, first, last), columns, key_columns)

    def summaries(self, tables: Sequence[TableId], range_rows: int) -> Callable[[TableId], list[KeyRange]]:
        """Each table's range summaries, read when asked for (in this process: a second process
        would need the database password handed over again)."""
        return lambda table: summarise(self.rows(table), range_rows)

    def _shape(self, table: TableId) -> tuple[list[OracleColumn], list[OracleColumn]]:
        columns = self.columns(table)
        if not columns:
            raise ValueError(f"table {table.qualified} is not visible to the audit's user (ALL_TAB_COLUMNS)")
        params = {"owner": table.schema, "table_name": table.table}
        key_names = [str(r[0]) for r in self._query(PRIMARY_KEY_SQL, params)]
        if not key_names:
            raise ValueError(
                f"table {table.qualified} has no primary key: its topic has no row keys to compare"
            )
        by_name = {c.name: c for c in columns}
        return columns, [by_name[k] for k in key_names]

    def _read(
        self, sql: str, binds: Mapping[str, Any], columns: list[OracleColumn], key_columns: list[OracleColumn]
    ) -> Iterator[tuple[Key, dict[str, Canon]]]:
        ensure_read_only(sql)
        cursor = self._connection.cursor()
        cursor.arraysize = self._arraysize
        cursor.prefetchrows = self._arraysize
        try:
            cursor.execute(sql, {**binds, "scn": self.point.scn})
            names = [c.name for c in columns]
            index = {n: i for i, n in enumerate(names)}
            for record in cursor:
                canon = {c.name: c.canon(v) for c, v in zip(columns, record, strict=True)}
                yield key_of([_key_value(k, record[index[k.name]]) for k in key_columns]), canon
        finally:
            cursor.close()

    def close(self) -> None:
        self._connection.close()


def _key_value(column: OracleColumn, value: Any) -> Any:
    """A key column as the topic's key JSON holds it (an integer for NUMBER(p<19, 0), else text)."""
    canon = column.canon(value)
    return int(canon[1:]) if canon.startswith(b"i") else canon[1:].decode()


def ns_text(ns: int) -> str:
    """Nanoseconds since the epoch as ``YYYY-MM-DD HH24:MI:SS.FF9`` text (every digit)."""
    seconds, nanos = divmod(ns, 10**9)
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{nanos:09d}"


OracleConnect = Callable[[], Any]
