"""The audit's pure core: decode, fold and compare (no I/O).

Everything here is a function of values handed in by the readers (``audit/standin.py``,
``audit/oracle.py``, ``audit/topic.py``):

* **Canonical values.** Each column value becomes a short ``bytes`` with a type tag, the same on
  both sides: what a consumer decodes from the topic's JSON per ``docs/stream.md`` (the schema's
  logical ``name`` says which numbers and strings are instants), and what the source reader builds
  from the database value with the same mapping. Decimals stay the exact text Debezium writes
  (``decimal.handling.mode=string``: every digit and the scale), instants become integer
  nanoseconds since the epoch (UTC), so no digit can differ without a mismatch.
* **Row digests.** A row is kept as one small ``bytes``: a 16-byte BLAKE2b digest of the whole row
  (what decides equal / mismatched) plus 4 bytes per column (only to name the differing columns).
  Memory is bounded by the number of keys, never by the topic's length or the values' size.
* **The fold.** Latest value per key; a delete or a tombstone removes the key; only the events the
  :class:`Point` includes are applied (the source's state at that one point).
* **The compare.** Source rows stream past the folded state once: missing, extra, mismatched
  counts and bounded, sorted samples.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Protocol

#: How many keys of each kind a result shows.
SAMPLE_SIZE: Final = 10
DIGEST_BYTES: Final = 16

Canon = bytes
Key = Any  # a JSON scalar (one key column) or a tuple of them

NULL: Final = b"n"
_EPOCH: Final = dt.datetime(1970, 1, 1)
_EPOCH_DATE: Final = dt.date(1970, 1, 1)
_NS_PER_DAY: Final = 86_400 * 10**9

# -- canonical values -------------------------------------------------------------------------------


def canon_int(value: int) -> Canon:
    return b"i" + str(int(value)).encode()


def canon_text(value: str) -> Canon:
    return b"s" + value.encode("utf-8")


def canon_float(value: float) -> Canon:
    return b"f" + repr(float(value)).encode()


def canon_bool(value: bool) -> Canon:
    return b"b1" if value else b"b0"


def canon_instant_ns(ns: int) -> Canon:
    """An instant (or a date, or a local date-time read as UTC) in nanoseconds since the epoch."""
    return b"t" + str(ns).encode()


def canon_zoned(ns: int, offset_s: int) -> Canon:
    """A zoned timestamp: its instant and its UTC offset in seconds, both as a consumer reads an
    ``io.debezium.time.ZonedTimestamp`` (zero for the types Debezium writes in UTC)."""
    return b"z%d@%d" % (ns, offset_s)


def decimal_text(value: Decimal, scale: int | None = None) -> str:
    """The text Debezium writes for a decimal with ``decimal.handling.mode=string``: plain
    notation (never an exponent), at the column's ``scale`` when it has one, else the value's own."""
    if scale is not None:
        value = value.quantize(Decimal(1).scaleb(-scale))
    return format(value, "f")


def naive_ns(value: dt.datetime) -> int:
    """A date-time without zone (Oracle DATE/TIMESTAMP, PostgreSQL timestamp) as nanoseconds."""
    delta = value.replace(tzinfo=None) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def aware_ns(value: dt.datetime) -> int:
    """A date-time with a zone, as the instant in nanoseconds (UTC)."""
    return naive_ns(value.astimezone(dt.UTC).replace(tzinfo=None))


def date_ns(value: dt.date) -> int:
    return (value - _EPOCH_DATE).days * _NS_PER_DAY


_ISO: Final = re.compile(
    r"^(\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d(?::?\d\d)?)?$"
)


def iso_ns(text: str) -> int:
    """An ISO 8601 date-time (``io.debezium.time.ZonedTimestamp``) as the instant in nanoseconds,
    every fractional digit kept (Python's datetime stops at microseconds)."""
    return iso_parts(text)[0]


def iso_parts(text: str) -> tuple[int, int]:
    """An ISO 8601 date-time as ``(instant in nanoseconds, UTC offset in seconds)`` (no offset, or
    ``Z``: zero)."""
    match = _ISO.match(text)
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    base = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    offset_s = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset_s = sign * (int(digits[0:2]) * 3600 + int(digits[2:4]) * 60 + int(digits[4:6] or 0))
    nanos = int((fraction or "").ljust(9, "0"))
    return naive_ns(base) - offset_s * 10**9 + nanos, offset_s


#: Debezium's temporal logical types that are integers, and nanoseconds per unit.
_INT_INSTANTS: Final = {
    "io.debezium.time.Date": _NS_PER_DAY,
    "io.debezium.time.Timestamp": 10**6,
    "io.debezium.time.MicroTimestamp": 10**3,
    "io.debezium.time.NanoTimestamp": 1,
    "org.apache.kafka.connect.data.Date": _NS_PER_DAY,
    "org.apache.kafka.connect.data.Timestamp": 10**6,
    "io.debezium.time.Time": 10**6,
    "io.debezium.time.MicroTime": 10**3,
    "io.debezium.time.NanoTime": 1,
}
_STRING_INSTANTS: Final = frozenset({"io.debezium.time.ZonedTimestamp"})


def column_decoder(logical_name: str | None) -> Callable[[Any], Canon]:
    """:func:`decode_column` for one column's logical type, chosen once per schema (the fold's
    hot path: a million records decode 13 million values)."""
    unit = _INT_INSTANTS.get(logical_name or "")
    if unit is not None:
        return lambda v: (
            NULL
            if v is None
            else canon_instant_ns(v * unit)
            if type(v) is int
            else decode_column(v, logical_name)
        )
    if logical_name in _STRING_INSTANTS:
        return lambda v: NULL if v is None else decode_column(v, logical_name)

    def plain(value: Any) -> Canon:
        kind = type(value)
        if kind is str:
            text: str = value
            return b"s" + text.encode("utf-8")
        if kind is int:
            return b"i%d" % value
        return decode_column(value, logical_name)

    return plain


def decode_column(value: Any, logical_name: str | None) -> Canon:
    """One column of a change event's JSON, as a consumer decodes it (``docs/stream.md``)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return canon_bool(value)
    if isinstance(value, int):
        unit = _INT_INSTANTS.get(logical_name or "")
        return canon_instant_ns(value * unit) if unit else canon_int(value)
    if isinstance(value, float):
        return canon_float(value)
    if isinstance(value, str):
        if logical_name in _STRING_INSTANTS:
            return canon_zoned(*iso_parts(value))
        return canon_text(value)
    # Structs, arrays, bytes in other modes: compared as their exact JSON.
    return b"j" + json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


# -- row digests ------------------------------------------------------------------------------------


class Layouts:
    """The column-name lists a table's rows have had (usually one), numbered for the row bytes."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], int] = {}
        self.names: list[tuple[str, ...]] = []
        #: Per layout: its column names as digest input (the same in every process, unlike its id).
        self.prefixes: list[bytes] = []
        #: A row's column order as it arrives -> (layout id, the sorted names).
        self._plans: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = {}

    def id_of(self, names: tuple[str, ...]) -> int:
        found = self._ids.get(names)
        if found is None:
            found = self._ids[names] = len(self.names)
            self.names.append(names)
            self.prefixes.append(
                struct.pack(">I", len(names)) + b"".join(n.encode() + b"\x00" for n in names) + b";"
            )
        return found

    def plan(self, arrived: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        found = self._plans.get(arrived)
        if found is None:
            names = tuple(sorted(arrived))
            found = self._plans[arrived] = (self.id_of(names), names)
        return found


def row_digest(layouts: Layouts, row: Mapping[str, Canon]) -> bytes:
    """``layout id (2 bytes) + BLAKE2b-128 of the row + 16 bits of CRC-32 per column`` (sorted).

    The 128-bit digest decides equal or not: it covers the column names (not the layout's id,
    which is local to one :class:`Layouts`: digests made in two processes compare) and every
    value with its length, so no two different rows share an input. The CRCs only name which
    columns differ."""
    layout, names = layouts.plan(tuple(row))
    return digest_values(layouts, layout, [row[name] for name in names])


_STRUCTS: dict[int, tuple[struct.Struct, struct.Struct]] = {}


def digest_values(layouts: Layouts, layout: int, values: Sequence[Canon]) -> bytes:
    """:func:`row_digest` of the values of ``layout``'s columns, in its (sorted) order."""
    count = len(values)
    found = _STRUCTS.get(count)
    if found is None:
        found = _STRUCTS[count] = (struct.Struct(f">{count}I"), struct.Struct(f">{count}H"))
    lengths, crcs = found
    whole = hashlib.blake2b(
        layouts.prefixes[layout] + lengths.pack(*map(len, values)) + b"".join(values),
        digest_size=DIGEST_BYTES,
    )
    return (
        layout.to_bytes(2, "big")
        + whole.digest()
        + crcs.pack(*[zlib.crc32(value) & 0xFFFF for value in values])
    )


def differing_columns(layouts: Layouts, source: bytes, topic: bytes) -> list[str]:
    """The columns whose values differ between two row digests of one table (sorted)."""

    def columns(row: bytes) -> dict[str, int]:
        (layout,) = struct.unpack_from(">H", row)
        names = layouts.names[layout]
        hashes = struct.unpack_from(f">{len(names)}H", row, 2 + DIGEST_BYTES)
        return dict(zip(names, hashes, strict=True))

    left, right = columns(source), columns(topic)
    names = sorted(set(left) | set(right))
    return [n for n in names if left.get(n) != right.get(n)] or ["(a value; columns not told apart)"]


# -- the point ------------------------------------------------------------------------------------


class Point(Protocol):
    """One consistent point of the source: which change events its state includes."""

    def includes(self, op: str, source: Mapping[str, Any]) -> bool: ...

    def describe(self) -> dict[str, object]: ...


XID_WRAP: Final = 1 << 32


@dataclass(frozen=True)
class PgSnapshotPoint:
    """A PostgreSQL ``REPEATABLE READ`` snapshot (``pg_current_snapshot()``: ``xmin:xmax:xip``)
    and the WAL insert position read inside it (``lsn``).

    A transaction's changes are in the snapshot exactly when it committed before the snapshot was
    taken: its id is below ``xmax`` and not in ``xip`` (ids below ``xmin`` are all finished; an
    aborted one never reaches the topic). Debezium's events carry that id (``source.txId``, 32-bit,
    so it is widened with ``xmax``'s epoch). Snapshot reads (``op=r``) are included: the connector
    must have finished its snapshot before this point was taken (checked by the runner).
    """

    xmin: int
    xmax: int
    xip: frozenset[int]
    lsn: int
    taken_at: str = ""
    #: The WAL flush position read with the snapshot: with ``synchronous_commit=on`` (the
    #: stand-in's) every commit the snapshot sees was flushed before it became visible, so its
    #: commit record lies below this too (the end of the quiet-database check's WAL scan).
    flush_lsn: int = 0

    @classmethod
    def parse(cls, snapshot: str, lsn: int, taken_at: str = "", flush_lsn: int = 0) -> PgSnapshotPoint:
        """``snapshot`` as PostgreSQL prints it, e.g. ``'742:748:742,745'``."""
        parts = snapshot.split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ValueError(f"not a PostgreSQL snapshot: {snapshot!r}")
        xip = frozenset(int(x) for x in parts[2].split(",") if x)
        return cls(int(parts[0]), int(parts[1]), xip, lsn, taken_at, flush_lsn)

    def widen(self, txid: int) -> int:
        """A 32-bit transaction id as the 64-bit one nearest to ``xmax`` (PostgreSQL's own rule:
        ids within 2^31 after ``xmax`` are in the future, within 2^31 before it in the past)."""
        if txid >= XID_WRAP:
            return txid
        ahead = (txid - self.xmax) % XID_WRAP
        return self.xmax + ahead if ahead < XID_WRAP // 2 else self.xmax - (XID_WRAP - ahead)

    def visible(self, txid: int) -> bool:
        full = self.widen(txid)
        return full < self.xmin or (full < self.xmax and full not in self.xip)

    def includes(self, op: str, source: Mapping[str, Any]) -> bool:
        if op == "r":
            return True
        txid = source.get("txId")
        if txid is None:
            raise ValueError("a stand-in change event without source.txId cannot be placed")
        return self.visible(int(txid))

    def describe(self) -> dict[str, object]:
        return {
            "kind": "postgresql-snapshot",
            "snapshot": f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in sorted(self.xip))}",
            "lsn": format_lsn(self.lsn),
            "time": self.taken_at,
        }


def parse_lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class ScnPoint:
    """An Oracle SCN ``s``: the source is read ``AS OF SCN s``; a change is included when its
    transaction committed at or before ``s`` (``source.commit_scn``), a snapshot read when the
    snapshot's SCN (``source.scn``) is at or before ``s``."""

    scn: int
    time: str = ""

    def includes(self, op: str, source: Mapping[str, Any]) -> bool:
        if op == "r":
            return scn_of(source.get("scn")) <= self.scn
        return scn_of(source.get("commit_scn")) <= self.scn

    def describe(self) -> dict[str, object]:
        return {"kind": "oracle-scn", "scn": self.scn, "time": self.time}


def scn_of(value: Any) -> int:
    """An SCN as Debezium writes it: a number, or a string (``"123"``; RAC ``"123:1:..."`` keeps
    the SCN first)."""
    if value is None:
        raise ValueError("a change event without an SCN cannot be placed")
    return int(str(value).split(":")[0])


def oracle_point_scn(offset: Mapping[str, Any]) -> int:
    """The highest SCN the connector's committed offset provably passed.

    ``scn`` is where mining resumes: every transaction that committed before it was finished and,
    if it touched a captured table, emitted. ``commit_scn`` is the commit SCN of the last
    transaction emitted; another one may share that SCN and still be on its way. So every change
    with commit SCN ``<= max(scn, commit_scn) - 1`` is in the topic.
    """
    candidates = [scn_of(offset[k]) for k in ("scn", "commit_scn") if offset.get(k) not in (None, "")]
    if not candidates:
        raise ValueError("the connector's offset holds no SCN (has it ever started streaming?)")
    return max(candidates) - 1


# -- the fold -------------------------------------------------------------------------------------


@dataclass
class TableFold:
    """A table's state folded from its topic: key -> row digest."""

    point: Point
    layouts: Layouts = field(default_factory=Layouts)
    rows: dict[Key, bytes] = field(default_factory=dict)
    #: Keys whose latest delete lies beyond the point: the tombstone after it is skipped too.
    _deferred_deletes: set[Key] = field(default_factory=set)
    events: int = 0
    beyond_point: int = 0

    def apply(
        self, key: Key, envelope: Mapping[str, Any] | None, columns: Callable[[], dict[str, Canon]]
    ) -> None:
        """One record: ``envelope`` is the value's payload (``None`` for a tombstone); ``columns``
        decodes ``after`` only when it is needed."""
        self.apply_digest(key, envelope, lambda: row_digest(self.layouts, columns()))

    def apply_digest(self, key: Key, envelope: Mapping[str, Any] | None, digest: Callable[[], bytes]) -> None:
        """:meth:`apply` with ``digest`` giving the row digest of ``after`` (the fold's fast path)."""
        self.events += 1
        if envelope is None:  # tombstone: follows its delete
            if key in self._deferred_deletes:
                self._deferred_deletes.discard(key)
                self.beyond_point += 1
            else:
                self.rows.pop(key, None)
            return
        op = str(envelope.get("op"))
        if not self.point.includes(op, envelope.get("source") or {}):
            self.beyond_point += 1
            if op == "d":
                self._deferred_deletes.add(key)
            return
        self._deferred_deletes.discard(key)
        if op == "d":
            self.rows.pop(key, None)
        elif op in ("c", "u", "r"):
            self.rows[key] = digest()
        # "t" (truncate) and "m" (message) are not emitted for these tables (docs/operations.md).


def key_of(values: Sequence[Any]) -> Key:
    """The dictionary key of a row: the key column's value, or a tuple of several."""
    return values[0] if len(values) == 1 else tuple(values)


# -- the comparison -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    key: Key
    columns: tuple[str, ...]


@dataclass
class TableResult:
    table: str
    source_rows: int = 0
    topic_rows: int = 0
    missing: int = 0
    extra: int = 0
    mismatched: int = 0
    missing_keys: list[Key] = field(default_factory=list)
    extra_keys: list[Key] = field(default_factory=list)
    mismatched_keys: list[Mismatch] = field(default_factory=list)
    #: How the result was reached (not part of ``to_json``): hashed key ranges, how many differed,
    #: how many source rows were read again, and the seconds of each step.
    ranges: int = 0
    ranges_differing: int = 0
    rows_read_again: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return self.missing == self.extra == self.mismatched == 0

    def to_json(self) -> dict[str, object]:
        """Exactly the keys of issue 21 (``table``, the counts and ``samples``)."""
        return {
            "table": self.table,
            "source_rows": self.source_rows,
            "topic_rows": self.topic_rows,
            "missing": self.missing,
            "extra": self.extra,
            "mismatched": self.mismatched,
            "samples": {
                "missing": [_jsonable(k) for k in self.missing_keys],
                "extra": [_jsonable(k) for k in self.extra_keys],
                "mismatched": [
                    {"key": _jsonable(m.key), "columns": list(m.columns)} for m in self.mismatched_keys
                ],
            },
        }


def _jsonable(key: Key) -> object:
    return list(key) if isinstance(key, tuple) else key


def _sort_key(key: Key) -> tuple[str, str]:
    return (type(key).__name__, f"{key:0>40}" if isinstance(key, int) and key >= 0 else str(key))


def compare(
    table: str,
    source_rows: Iterable[tuple[Key, Mapping[str, Canon]]],
    fold: TableFold,
    sample_size: int = SAMPLE_SIZE,
) -> TableResult:
    """Stream the source's rows past the folded topic state. Consumes ``fold.rows``."""
    result = TableResult(table, topic_rows=len(fold.rows))
    missing: list[Key] = []
    mismatched: list[tuple[Key, bytes, bytes]] = []
    remaining = fold.rows
    for key, row in source_rows:
        result.source_rows += 1
        topic = remaining.pop(key, None)
        if topic is None:
            result.missing += 1
            missing.append(key)
            if len(missing) > 4 * sample_size:
                missing = heapq.nsmallest(sample_size, missing, key=_sort_key)
            continue
        source = row_digest(fold.layouts, row)
        if source[2 : 2 + DIGEST_BYTES] != topic[2 : 2 + DIGEST_BYTES]:
            result.mismatched += 1
            mismatched.append((key, source, topic))
            if len(mismatched) > 4 * sample_size:
                mismatched = heapq.nsmallest(sample_size, mismatched, key=lambda m: _sort_key(m[0]))
    result.extra = len(remaining)
    result.missing_keys = heapq.nsmallest(sample_size, missing, key=_sort_key)
    result.extra_keys = heapq.nsmallest(sample_size, remaining, key=_sort_key)
    result.mismatched_keys = [
        Mismatch(key, tuple(differing_columns(fold.layouts, source, topic)))
        for key, source, topic in heapq.nsmallest(sample_size, mismatched, key=lambda m: _sort_key(m[0]))
    ]
    remaining.clear()
    return result


def verdict(results: Sequence[TableResult]) -> str:
    return "equal" if all(r.equal for r in results) else "differ"
