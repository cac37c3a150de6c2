"""One audit: a point, the connector past it, then per table the fold and the comparison.

The order matters and is the whole consistency argument:

1. The connector's committed offset must show a finished initial snapshot (else the topics hold
   the state of a snapshot that is still being written).
2. The source opens its consistent read and names the point (stand-in: a snapshot and the WAL
   position after it; Oracle: an SCN the committed offset already passed).
3. Wait until the connector's committed offset (Connect's offsets topic, read_committed) has
   passed the point: every change at or before it is then in a committed Kafka transaction.
4. Per table: fold the topic from offset 0 to its end, keeping only events at or before the
   point, then stream the source's rows at the point past the fold.

Read-only: a consumer that never commits, a read-only transaction (or a flashback query).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from wms_connector.audit.compare import Canon, Key, Point, TableFold, TableResult, compare, verdict
from wms_connector.audit.ranges import RANGE_ROWS, KeyRange, compare_ranges
from wms_connector.audit.topic import connector_offset, fold_topic
from wms_connector.errors import InputError, WmsError
from wms_connector.naming import TableId


class AuditSource(Protocol):
    @property
    def point(self) -> Point: ...

    def rows(self, table: TableId) -> Iterator[tuple[Key, Mapping[str, Canon]]]: ...

    def range_rows(
        self, table: TableId, bounds: Sequence[tuple[Key, Key]]
    ) -> Iterator[tuple[Key, Mapping[str, Canon]]]: ...

    def summaries(
        self, tables: Sequence[TableId], range_rows: int
    ) -> Callable[[TableId], list[KeyRange]]: ...

    def close(self) -> None: ...


class NotPassedError(WmsError):
    """The connector did not pass the point in time: the audit cannot prove anything yet."""

    exit_code = 2


@dataclass
class AuditReport:
    stage: str
    connector: str
    point: dict[str, object]
    offset: dict[str, Any]
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return verdict(self.tables)

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "connector": self.connector,
            "point": self.point,
            "verdict": self.verdict,
            "tables": [t.to_json() for t in self.tables],
        }


def snapshotting(offset: Mapping[str, Any]) -> bool:
    """Whether a Debezium offset is one of an initial snapshot still running (its last record
    carries ``last_snapshot_record=true``; streaming offsets carry no ``snapshot`` flag)."""
    flag = offset.get("snapshot")
    running = flag not in (None, False, "false", "FALSE")
    return running and offset.get("last_snapshot_record") not in (True, "true")


def wait_passed(
    read_offset: Callable[[], dict[str, Any] | None],
    passed: Callable[[Mapping[str, Any]], bool],
    wait_s: float,
    *,
    what: str,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    deadline = clock() + wait_s
    last: dict[str, Any] | None = None
    while True:
        last = read_offset()
        if last is not None and passed(last):
            return last
        if clock() >= deadline:
            raise NotPassedError(
                f"the connector's committed offset ({last}) has not passed {what} within {wait_s:.0f} s: "
                "the topics cannot be proved complete at that point; audit again when the connector "
                "streams (on a quiet stand-in database, after the next change), or raise --wait"
            )
        sleep(0.5)


def run_audit(
    *,
    stage: str,
    connector: str,
    client: Mapping[str, Any],
    offsets_topic: str,
    topics: Mapping[TableId, str],
    open_source: Callable[[Mapping[str, Any]], AuditSource],
    passed: Callable[[AuditSource, Mapping[str, Any]], bool],
    wait_s: float,
    start_offsets: Mapping[str, Mapping[int, int]] | None = None,
    range_rows: int | None = RANGE_ROWS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> AuditReport:
    """``start_offsets`` (topic -> partition -> offset) folds from there instead of offset 0: only
    for a source whose history starts there (the local demo's fresh stand-in).

    ``range_rows``: compare by hashed key ranges of that many rows (``audit.ranges``; the source
    summarises its tables while the topics are folded, in a second process where the source can);
    ``None``: stream every source row past the fold."""
    start = clock()

    def read_offset() -> dict[str, Any] | None:
        return connector_offset(client, offsets_topic, connector)

    before = read_offset()
    if before is None:
        raise InputError(
            f"connector {connector!r} has no committed offset in {offsets_topic!r}: it has not run on this "
            "stage (check --stage and --source)"
        )
    before = wait_passed(
        read_offset,
        lambda o: not snapshotting(o),
        wait_s,
        what="the end of its initial snapshot",
        clock=clock,
        sleep=sleep,
    )
    source = open_source(before)
    try:
        # The point is fixed once the source is open: its summaries start now, beside the waits.
        summaries = source.summaries(list(topics), range_rows) if range_rows is not None else None
        offset = wait_passed(
            read_offset,
            lambda o: passed(source, o),
            wait_s,
            what=str(source.point.describe()),
            clock=clock,
            sleep=sleep,
        )
        report = AuditReport(stage, connector, source.point.describe(), offset)
        for table, topic in topics.items():
            began = clock()
            fold = TableFold(source.point)
            fold_topic(client, topic, fold, (start_offsets or {}).get(topic))
            folded = clock()
            if summaries is None:
                result = compare(table.qualified, source.rows(table), fold)
                result.timings = {"fold": folded - began, "compare": clock() - folded}
            else:
                ranges = summaries(table)
                summarised = clock()
                result = compare_ranges(table.qualified, ranges, fold, partial(source.range_rows, table))
                result.timings = {
                    "fold": folded - began,
                    "summaries_wait": summarised - folded,
                    "compare": clock() - summarised,
                }
            report.tables.append(result)
    finally:
        source.close()
    report.seconds = clock() - start
    return report


def tables_named(topics: Mapping[TableId, str], wanted: Sequence[str]) -> dict[TableId, str]:
    """The captured tables to audit (all when ``wanted`` is empty); unknown names are bad input."""
    if not wanted:
        return dict(topics)
    by_name = {t.qualified: t for t in topics}
    unknown = [w for w in wanted if w.upper() not in by_name]
    if unknown:
        raise InputError(
            f"--table {', '.join(unknown)} is not a captured table; choose from {', '.join(sorted(by_name))}"
        )
    return {by_name[w.upper()]: topics[by_name[w.upper()]] for w in wanted}
