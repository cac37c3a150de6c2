"""The audit on the real local cluster and the STAND-IN source (issue 21).

One stand-in database and one connector for a stage of its own (``it-audit``: its own data topics,
so other modules' records never reach these folds), on the session's Connect workers. The tests
run in file order: a live workload with audits, forged records (each repaired afterwards),
compaction, and last the skipped changes (which leave the topics differing for good).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from wms_connector.audit.compare import format_lsn, parse_lsn
from wms_connector.audit.run import AuditReport, run_audit
from wms_connector.audit.standin import StandInSnapshot
from wms_connector.commands.audit import standin_passed
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import KEY_COLUMN, StandInPostgres, quoted
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, TableId, names_for
from wms_connector.operations.settle import write_until_stable
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

AUDIT_STAGE = Stage("it-audit")
SLOT = names_for(AUDIT_STAGE).standin_slot
FIRST_KEYS = range(1, 41)
#: Rows per hashed key range in these audits: each table (40 rows and the workload's) is several.
RANGE_ROWS = 16


@dataclass
class Audited:
    cluster: LocalCluster
    standin: StandInPostgres
    api: HttpConnectApi
    connector: str
    topics: dict[TableId, str]
    offsets_topic: str
    client: dict[str, Any] = field(default_factory=dict)

    def audit(self, wait_s: float = 60.0, range_rows: int | None = RANGE_ROWS) -> AuditReport:
        """The audit by hashed key ranges of ``range_rows`` (small: each table is several ranges,
        so equal and differing ranges both occur), or row by row (``None``)."""
        return run_audit(
            stage=AUDIT_STAGE.name,
            connector=self.connector,
            client=self.client,
            offsets_topic=self.offsets_topic,
            topics=self.topics,
            open_source=lambda _offset: StandInSnapshot(
                self.standin.conninfo(), names_for(AUDIT_STAGE).standin_slot
            ),
            passed=standin_passed(list(self.topics)),
            wait_s=wait_s,
            range_rows=range_rows,
        )

    def change(self, *changes: Change) -> None:
        with self.standin.connect() as conn:
            for one in changes:
                apply(conn, one)


@pytest.fixture(scope="module")
def audited(local_cluster: LocalCluster, module_standin_state_dir: Path) -> Iterator[Audited]:
    standin = StandInPostgres(module_standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    with standin.connect() as conn:
        for table in CAPTURED_TABLES:
            for key in FIRST_KEYS:
                apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
    api = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    ensure_local_topics(local_cluster.bootstrap, AUDIT_STAGE)
    name = register_fresh(api, AUDIT_STAGE, source, local_cluster.bootstrap)
    wait_running(api, name)
    names = names_for(AUDIT_STAGE)
    subject = Audited(
        local_cluster,
        standin,
        api,
        name,
        dict(names.data_topics),
        # The connector runs on the session's workers: their offsets topic holds its offset.
        names_for(local_cluster.stage).offsets_topic,
        {"bootstrap.servers": local_cluster.bootstrap},
    )
    yield subject
    api.delete(name)
    api.close()
    standin.stop()


# -- a live workload ---------------------------------------------------------------------------------


class Workload(threading.Thread):
    """About ``rate`` changes a second on every table: inserts, updates, deletes, primary-key
    changes and multi-row transactions, until stopped."""

    def __init__(self, standin: StandInPostgres, rate: float = 100.0, seed: int = 21) -> None:
        super().__init__(daemon=True, name="audit-workload")
        self.standin = standin
        self.rate = rate
        self.random = random.Random(seed)
        self.stop_event = threading.Event()
        # Only its own keys (from 1000): the fault tests below change rows of FIRST_KEYS.
        self.live: dict[TableId, set[int]] = {t: set() for t in CAPTURED_TABLES}
        self.next_key = 1000
        self.changes = 0
        self.error: BaseException | None = None

    def _one(self, conn: psycopg.Connection[Any], table: TableId) -> None:
        live = self.live[table]
        column = KEY_COLUMN[table.table]
        roll = self.random.random()
        if roll < 0.35 or len(live) < 10:
            key, self.next_key = self.next_key, self.next_key + 1
            apply_in(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
            live.add(key)
        elif roll < 0.75:
            key = self.random.choice(sorted(live))
            apply_in(conn, Change(table, Op.UPDATE, key, waiver_row(table, key, self.random.randint(1, 9))))
        elif roll < 0.9:
            key = self.random.choice(sorted(live))
            apply_in(conn, Change(table, Op.DELETE, key, {}))
            live.discard(key)
        else:  # a primary-key change: Debezium emits a delete (+ tombstone) and a create
            old, new = self.random.choice(sorted(live)), self.next_key
            self.next_key += 1
            conn.execute(f'UPDATE {quoted(table)} SET "{column}" = %s WHERE "{column}" = %s', (new, old))
            live.discard(old)
            live.add(new)

    def run(self) -> None:
        try:
            with self.standin.connect() as conn:
                while not self.stop_event.is_set():
                    started = time.monotonic()
                    table = self.random.choice(CAPTURED_TABLES)
                    rows = self.random.choice((1, 1, 1, 3))  # a quarter are multi-row transactions
                    with conn.transaction():
                        for _ in range(rows):
                            self._one(conn, table if rows == 1 else self.random.choice(CAPTURED_TABLES))
                    self.changes += rows
                    time.sleep(max(0.0, rows / self.rate - (time.monotonic() - started)))
        except BaseException as error:  # surfaced by the test
            self.error = error

    def stop(self) -> None:
        self.stop_event.set()
        self.join(30)
        if self.error is not None:
            raise self.error


def apply_in(conn: psycopg.Connection[Any], change: Change) -> None:
    """One change inside the caller's transaction."""
    from wms_connector.local.workload import statement

    sql, params = statement(change)
    conn.execute(sql, params)


#: The issue's ten consecutive audits, each at its own point during the workload.
AUDITS_DURING_WORKLOAD = 10


def test_audits_during_a_live_workload_are_all_equal(audited: Audited) -> None:
    workload = Workload(audited.standin)
    workload.start()
    reports = []
    try:
        time.sleep(2)
        for _ in range(AUDITS_DURING_WORKLOAD):
            reports.append(audited.audit())
    finally:
        workload.stop()
    assert workload.changes > 100
    for report in reports:
        assert report.verdict == "equal", [t.to_json() for t in report.tables if not t.equal]
        assert report.point["kind"] == "postgresql-snapshot"
        # Compared by several key ranges each, summarised in the child process: all equal, so no
        # source row was read again.
        assert all(t.ranges >= 2 and t.ranges_differing == t.rows_read_again == 0 for t in report.tables)
    # The source moved between audits: they were taken at different points, with rows in them.
    assert len({str(r.point["snapshot"]) for r in reports}) == len(reports)
    assert all(sum(t.source_rows for t in r.tables) > 0 for r in reports)


# -- forged records ----------------------------------------------------------------------------------


def _latest_record(audited: Audited, topic: str, key: int) -> tuple[bytes, bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": audited.cluster.bootstrap,
            "group.id": "wms-test-audit-forge",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    found: tuple[bytes, bytes] | None = None
    try:
        partitions = consumer.list_topics(topic, timeout=15).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        eof: set[int] = set()
        while len(eof) < len(partitions):
            for message in consumer.consume(500, timeout=2):
                if message.error():
                    eof.add(message.partition() or 0)
                    continue
                raw_key, value = message.key(), message.value()
                if (
                    raw_key
                    and value
                    and json.loads(raw_key)["payload"].get(KEY_COLUMN[topic.rsplit(".", maxsplit=1)[-1]])
                    == key
                ):
                    found = (raw_key, value)
    finally:
        consumer.close()
    assert found is not None, f"no record of key {key} in {topic}"
    return found


def _produce(audited: Audited, topic: str, key: bytes, value: bytes | None) -> None:
    # Java's partitioner (murmur2), as Connect's producer uses: the forged record lands in its key's
    # partition, after the real ones (librdkafka's default, CRC32, would pick another partition).
    producer = Producer({"bootstrap.servers": audited.cluster.bootstrap, "partitioner": "murmur2_random"})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(15) == 0


def test_a_forged_record_for_a_key_the_source_lacks_is_extra_and_only_that(audited: Audited) -> None:
    table = CAPTURED_TABLES[0]
    topic = audited.topics[table]
    raw_key, value = _latest_record(audited, topic, 5)
    column = KEY_COLUMN[table.table]
    forged_key = raw_key.replace(f'"{column}":5}}'.encode(), f'"{column}":777777}}'.encode())
    assert forged_key != raw_key
    _produce(audited, topic, forged_key, value)
    audited.change(Change(table, Op.UPDATE, 6, waiver_row(table, 6, 3)))  # the connector moves on
    report = audited.audit()
    by_table = {t.table: t for t in report.tables}
    wrong = by_table[table.qualified]
    assert (wrong.missing, wrong.extra, wrong.mismatched) == (0, 1, 0)
    assert wrong.extra_keys == [777777]
    assert wrong.rows_read_again == 0  # beyond every range: no range differs, the key is extra
    assert all(t.equal for name, t in by_table.items() if name != table.qualified)
    _produce(audited, topic, forged_key, None)  # repaired: a tombstone removes the forged key
    assert audited.audit().verdict == "equal"


def test_a_forged_value_for_a_key_the_source_has_is_mismatched_with_its_column(audited: Audited) -> None:
    table = CAPTURED_TABLES[3]
    topic = audited.topics[table]
    raw_key, value = _latest_record(audited, topic, 7)
    document = json.loads(value)
    after = document["payload"]["after"]
    after["RVSN_AMT"] = after["RVSN_AMT"] + "1"  # one digit more
    _produce(audited, topic, raw_key, json.dumps(document).encode())
    audited.change(Change(CAPTURED_TABLES[0], Op.UPDATE, 8, waiver_row(CAPTURED_TABLES[0], 8, 3)))
    report = audited.audit()
    wrong = next(t for t in report.tables if t.table == table.qualified)
    assert (wrong.missing, wrong.extra, wrong.mismatched) == (0, 0, 1)
    assert [(m.key, m.columns) for m in wrong.mismatched_keys] == [(7, ("RVSN_AMT",))]
    assert wrong.ranges_differing == 1 and 0 < wrong.rows_read_again <= RANGE_ROWS  # its range alone
    assert sum(t.missing + t.extra + t.mismatched for t in report.tables) == 1
    audited.change(Change(table, Op.UPDATE, 7, waiver_row(table, 7, 4)))  # repaired by a real change
    assert audited.audit().verdict == "equal"


# -- compaction --------------------------------------------------------------------------------------


def _records_of(audited: Audited, topic: str, keys: set[int]) -> int:
    """How many committed records of ``topic`` belong to ``keys`` (all versions the log still has)."""
    from wms_connector.audit.topic import read_to_end, split_envelope

    count = 0

    def on_record(key: bytes | None, _value: bytes | None) -> None:
        nonlocal count
        if key is not None and set(split_envelope(key)[1].values()) & keys:
            count += 1

    read_to_end(audited.client, topic, on_record)
    return count


def test_after_the_cleaner_ran_the_fold_still_equals_the_source(audited: Audited) -> None:
    table = CAPTURED_TABLES[2]
    topic = audited.topics[table]
    admin = AdminClient({"bootstrap.servers": audited.cluster.bootstrap})
    # TEST ONLY: a window of 0 and 1 s segments, so the cleaner runs within the test (incremental:
    # the topic keeps cleanup.policy=compact and everything else it has).
    settings = {
        "min.compaction.lag.ms": "0",
        "segment.ms": "1000",
        "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": "0",
    }
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in settings.items()
        ],
    )
    # The cleaner looks for work every 15 s by default; every 1 s while this test runs (a dynamic
    # setting of the one broker, removed at the end: it only makes cleaning sooner, never different).
    broker = str(next(iter(admin.list_topics(timeout=15).brokers)))
    cleaner = ConfigResource(
        ConfigResource.Type.BROKER,
        broker,
        incremental_configs=[
            ConfigEntry("log.cleaner.backoff.ms", "1000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for future in admin.incremental_alter_configs([resource, cleaner]).values():
        future.result(30)
    with audited.standin.connect() as conn:
        for version in range(1, 21):  # many versions of few keys, and deletes with tombstones
            for key in (11, 12, 13):
                apply(conn, Change(table, Op.UPDATE, key, waiver_row(table, key, version % 9 + 1)))
        apply(conn, Change(table, Op.DELETE, 14, {}))
    rewritten = {11, 12, 13}
    # Equal first: every version has arrived (the source holds the 20th), before counting what's left.
    first = audited.audit()
    assert first.verdict == "equal", [t.to_json() for t in first.tables if not t.equal]
    deadline = time.monotonic() + 75
    while time.monotonic() < deadline and _records_of(audited, topic, rewritten) > 2 * len(rewritten):
        # Segments roll only when a record arrives after segment.ms: keep records trickling into
        # every partition (ten other keys land in all three).
        audited.change(
            *(Change(table, Op.UPDATE, k, waiver_row(table, k, random.randint(1, 9))) for k in range(15, 25))
        )
        time.sleep(1.5)
    left = _records_of(audited, topic, rewritten)
    reset = ConfigResource(
        ConfigResource.Type.BROKER,
        broker,
        incremental_configs=[
            ConfigEntry("log.cleaner.backoff.ms", "", incremental_operation=AlterConfigOpType.DELETE)
        ],
    )
    for future in admin.incremental_alter_configs([reset]).values():
        future.result(30)
    # 20 versions were written of each key; the cleaner kept about one (the audit below proves the
    # latest ones arrived: it compares them with the source).
    assert left <= 2 * len(rewritten), f"the cleaner did not compact within 75 s ({left} records left)"
    report = audited.audit()
    assert report.verdict == "equal", [t.to_json() for t in report.tables if not t.equal]


# -- a skipped change --------------------------------------------------------------------------------


def test_changes_skipped_by_a_moved_offset_are_found_with_exactly_their_keys(audited: Audited) -> None:
    """Stop the connector, commit changes, move its offset past them (KIP-875), resume: the
    skipped update is mismatched, the skipped insert missing, the skipped delete extra."""
    table = CAPTURED_TABLES[1]
    other = CAPTURED_TABLES[0]
    # Streaming, not snapshotting: an offset that still marks the initial snapshot would make the
    # resumed task snapshot again (reads of the changed rows, never the delete).
    _wait_streaming_offset(audited)
    audited.api.stop(audited.connector)
    _wait_state(audited, "STOPPED")
    # STOPPED is reported before the task has closed its replication stream: a change made in
    # between is still streamed. The slot turns inactive once the stream is closed.
    _wait_slot_inactive(audited)
    audited.change(
        Change(table, Op.UPDATE, 21, waiver_row(table, 21, 5)),
        Change(table, Op.CREATE, 888888, waiver_row(table, 888888)),
        Change(table, Op.DELETE, 22, {}),
    )
    marker = f'"{table.schema}"."wms_audit_offset_marker"'
    with audited.standin.connect() as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {marker} (n int)")
    with audited.standin.connect() as conn:
        # The offset is moved to `past` with lsn == lsn_commit and a COMMIT message type. Debezium's
        # WalPositionLocator takes a change found exactly at that LSN for a "false match" (PG 17's
        # end_lsn case) and replays from the slot's first LSN, the skipped changes included. So the
        # first WAL record at `past` is a row of this unpublished table, in the same transaction.
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        past = parse_lsn(str(row[0]))
        conn.execute(f"INSERT INTO {marker} VALUES (1)")
    with audited.standin.connect(autocommit=True) as conn:
        # The slot moves past them too (it is inactive now): PostgreSQL no longer sends the skipped
        # transaction at all, as the redo logs behind a moved Oracle offset are never mined again.
        # Left to Debezium's WAL position search, a resumed task sometimes re-emitted part of it.
        conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (SLOT, format_lsn(past)))
    offsets = audited.api.offsets(audited.connector)["offsets"]
    assert offsets, "the connector has no offset to move"
    moved = [
        {"partition": o["partition"], "offset": {**o["offset"], "lsn": past, "lsn_commit": past}}
        for o in offsets
    ]
    for entry in moved:
        entry["offset"].pop("lsn_proc", None)

    def move() -> None:
        response = httpx.patch(
            f"{audited.cluster.rest_urls[0]}/connectors/{audited.connector}/offsets",
            json={"offsets": moved},
            timeout=60,
        )
        assert response.status_code == 200, response.text

    # The stopped task's last offset commit can land after STOPPED is reported and overwrite the
    # moved offset: written as the operations commands write offsets (operations.settle).
    write_until_stable(
        move,
        lambda: all(
            o["offset"].get("lsn") == past for o in audited.api.offsets(audited.connector)["offsets"]
        ),
        sleep=time.sleep,
        clock=time.monotonic,
        what="the moved offset",
    )
    audited.api.resume(audited.connector)
    wait_running(audited.api, audited.connector)
    audited.change(Change(other, Op.UPDATE, 9, waiver_row(other, 9, 2)))  # streams again
    report = audited.audit(wait_s=90)
    wrong = next(t for t in report.tables if t.table == table.qualified)
    assert (wrong.missing, wrong.extra, wrong.mismatched) == (1, 1, 1), wrong.to_json()
    assert wrong.missing_keys == [888888]
    assert wrong.extra_keys == [22]
    assert [m.key for m in wrong.mismatched_keys] == [21]
    assert "RVSN_AMT" in wrong.mismatched_keys[0].columns
    others = [t.to_json() for t in report.tables if t.table != table.qualified and not t.equal]
    assert not others, json.dumps(others)
    # Row by row (no ranges) at a later point of the now quiet source: the very same result.
    plain = audited.audit(wait_s=90, range_rows=None)
    assert [t.to_json() for t in plain.tables] == [t.to_json() for t in report.tables]


def _wait_streaming_offset(audited: Audited, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        offsets = audited.api.offsets(audited.connector)["offsets"]
        if offsets and not any(
            o["offset"].get("snapshot") or o["offset"].get("last_snapshot_record") for o in offsets
        ):
            return
        audited.change(Change(CAPTURED_TABLES[0], Op.UPDATE, 9, waiver_row(CAPTURED_TABLES[0], 9, 3)))
        time.sleep(1.0)
    raise AssertionError(f"no streaming offset after {timeout_s} s")


def _wait_slot_inactive(audited: Audited, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with audited.standin.connect(autocommit=True) as conn:
            row = conn.execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
            ).fetchone()
        if row is not None and not row[0]:
            return
        time.sleep(0.3)
    raise AssertionError(f"the replication slot {SLOT} is still streaming {timeout_s} s after STOPPED")


def _wait_state(audited: Audited, state: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if audited.api.status(audited.connector).get("connector", {}).get("state") == state:
            return
        time.sleep(0.3)
    raise AssertionError(f"connector not {state} after {timeout_s} s")
