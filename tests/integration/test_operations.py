"""``wms-connector ops`` against the real local cluster (two workers), the STAND-IN PostgreSQL and
a live insert load: the day-2 procedures of docs/operations.md, each proven by counting rows.

One bed (stand-in + connector) for the module, shared with the agent tests' ``open_bed``. The
tests run in file order; each leaves the connector RUNNING for the next.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from wms_connector.agent.loop import Agent
from wms_connector.cli import main
from wms_connector.hold.store import HoldStore
from wms_connector.local.events import ChangeEvent
from wms_connector.local.failover import InsertLoad, count_delivery, delivered_keys, wait_offsets_committed
from wms_connector.local.pipeline import EventTail
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import KafkaAuth

from .test_agent import Bed, open_bed

pytestmark = pytest.mark.integration
TABLE = CAPTURED_TABLES[0]
OTHER = CAPTURED_TABLES[1]


@pytest.fixture(scope="module")
def bed(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Bed]:
    yield from open_bed(local_cluster, module_standin_state_dir)


def ops(
    bed: Bed, capsys: pytest.CaptureFixture[str], *args: str, tmp: Path
) -> tuple[int, dict[str, Any], str]:
    """Run ``wms-connector ops ARGS`` against the bed; (exit code, its --json answer, stderr)."""
    cluster = bed.cluster
    common = [
        "--stage",
        cluster.stage.name,
        "--source",
        "standin",
        "--connect-url",
        cluster.rest_urls[0],
        "--json",
        "--audit-log",
        str(tmp / "operations.log"),
    ]
    metrics = [a for url in cluster.metrics_urls for a in ("--metrics-url", url)]
    needs_kafka = args[0] not in ("stop", "resume", "pause", "restart") and args[:2] != ("offsets", "show")
    if args[0] not in ("stop", "resume", "pause", "restart", "recover-history") and args[:2] != (
        "offsets",
        "restore",
    ):
        common += metrics
    if needs_kafka:
        common += ["--bootstrap", cluster.bootstrap]
    capsys.readouterr()
    code = main(["ops", *args, *common])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """A procedure's time in the test output (the README's figures; the machine is shared)."""
    with capsys.disabled():
        print(f"\n{line} (load average {os.getloadavg()[0]:.1f})")


def source_keys(bed: Bed, table: Any = TABLE) -> set[int]:
    from wms_connector.local.standin import quoted

    with bed.standin.connect() as conn:
        rows = conn.execute(f"SELECT * FROM {quoted(table)}").fetchall()
    return {int(row[0]) for row in rows}


def signal_end(bed: Bed) -> int:
    topic = names_for(bed.cluster.stage).signal_topic
    consumer = Consumer({"bootstrap.servers": bed.cluster.bootstrap, "group.id": "ops-test-probe"})
    try:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=15)
        return int(high)
    finally:
        consumer.close()


def all_topics_tail(bed: Bed) -> EventTail:
    names = names_for(bed.cluster.stage)
    return EventTail(bed.cluster.bootstrap, list(names.data_topics.values()), from_now=True)


def seed(bed: Bed, table: Any, count: int) -> list[int]:
    keys = []
    with bed.standin.connect() as conn:
        for _ in range(count):
            key = bed.next_key
            bed.next_key += 1
            apply(conn, Change(table, Op.CREATE, key, waiver_row(table, key)))
            keys.append(key)
    return keys


def keys_of(events: list[ChangeEvent], op: str, topic: str | None = None) -> list[int]:
    return [
        int(next(iter(e.key.values())))
        for e in events
        if e.op == op and e.key and (topic is None or e.topic == topic)
    ]


# -- refusals first: each changes nothing -----------------------------------------------------------


def test_refusals_change_nothing(bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wait_offsets_committed(bed.api, bed.name)
    offsets_before = bed.api.offsets(bed.name)
    config_before = bed.api.get_config(bed.name)
    signals_before = signal_end(bed)

    # A mistyped table: refused before any signal is sent.
    code, _, err = ops(bed, capsys, "snapshot", "MMDL.PLAN_BASE_WVR_TBX", tmp=tmp_path)
    assert code == 2 and "did you mean MMDL.PLAN_BASE_WVR_TBL" in err
    # Incremental without a source signal table: refused, with the reason.
    code, _, err = ops(bed, capsys, "snapshot", TABLE.qualified, "--incremental", tmp=tmp_path)
    assert code == 2 and "signal.data.collection" in err
    # drop-transaction on the stand-in: refused (an Oracle LogMiner signal).
    code, _, err = ops(bed, capsys, "drop-transaction", "0a001b00c4050000", "--yes", tmp=tmp_path)
    assert code == 2 and "Oracle" in err
    # Wrong state: pausing is fine, but resume of a RUNNING one is "nothing to do", and restart
    # of a PAUSED one is refused.
    code, answer, _ = ops(bed, capsys, "resume", tmp=tmp_path)
    assert code == 0 and answer["result"] == "nothing to do"
    code, answer, _ = ops(bed, capsys, "pause", tmp=tmp_path)
    assert code == 0 and answer["state_after"]["connector"] == "PAUSED"
    code, _, err = ops(bed, capsys, "restart", tmp=tmp_path)
    assert code == 2 and "resume" in err
    code, _, err = ops(bed, capsys, "snapshot", TABLE.qualified, tmp=tmp_path)
    assert code == 2 and "RUNS" in err
    code, answer, _ = ops(bed, capsys, "resume", tmp=tmp_path)
    assert code == 0 and answer["state_after"]["tasks"] == ["RUNNING"]
    # No confirmation (no --yes, no terminal): nothing changes, exit 3, no file written.
    saved = tmp_path / "never.json"
    code, _, err = ops(
        bed, capsys, "offsets", "reset", "--to-snapshot", "--save-to", str(saved), tmp=tmp_path
    )
    assert code == 3 and "--yes" in err
    assert not saved.exists()
    code, _, _ = ops(bed, capsys, "offsets", "reset", "--save-to", str(saved), "--yes", tmp=tmp_path)
    assert code == 2

    assert signal_end(bed) == signals_before
    assert bed.api.get_config(bed.name) == config_before
    assert bed.api.status(bed.name)["connector"]["state"] == "RUNNING"
    after = bed.api.offsets(bed.name)
    # Streaming may have moved the position forward (heartbeats); never back, never deleted.
    assert after["offsets"] and len(after["offsets"]) == len(offsets_before["offsets"])
    lines = (tmp_path / "operations.log").read_text().splitlines()
    assert len(lines) == 10
    results = [json.loads(line)["result"] for line in lines]
    assert results.count("refused") == 6 and results.count("not-confirmed") == 1


def test_in_a_task_without_the_connectors_worker_a_follow_changes_nothing_and_answers_other_task(
    bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--remote in the task whose worker does not run the connector's task: the exporter there has
    no Debezium metrics of it (loopback only in ECS), so a --follow could never see the snapshot."""
    cluster = bed.cluster
    worker = bed.api.status(bed.name)["tasks"][0]["worker_id"]
    others = [
        m for r, m in zip(cluster.rest_urls, cluster.metrics_urls, strict=True) if not r.endswith(worker)
    ]
    assert len(others) == len(cluster.rest_urls) - 1, (worker, cluster.rest_urls)
    signals_before = signal_end(bed)
    monkeypatch.setenv("WMS_OPS_IN_TASK", "1")
    args = ["ops", "snapshot", TABLE.qualified, "--follow", "--stage", cluster.stage.name]
    args += ["--source", "standin", "--connect-url", cluster.rest_urls[0], "--bootstrap", cluster.bootstrap]
    capsys.readouterr()
    code = main([*args, "--metrics-url", others[0]])
    err = capsys.readouterr().err
    assert code == 4, err
    assert "does not run on this task's worker" in err and "nothing was changed" in err
    assert signal_end(bed) == signals_before
    assert bed.api.status(bed.name)["connector"]["state"] == "RUNNING"


# -- snapshot -----------------------------------------------------------------------------------------


def test_snapshot_of_one_table_re_emits_exactly_its_rows_while_streaming_goes_on(
    bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed(bed, TABLE, 20)
    seed(bed, OTHER, 5)
    names = names_for(bed.cluster.stage)
    wanted = source_keys(bed, TABLE)  # every row there before the snapshot: each must be read again
    tail = all_topics_tail(bed)
    load = InsertLoad(bed.standin, first_key=900_000, rate=10).start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        code, answer, err = ops(
            bed, capsys, "snapshot", TABLE.qualified.lower(), "--follow", "--timeout", "120", tmp=tmp_path
        )
        report(capsys, f"ops snapshot --follow of one table: {time.monotonic() - started:.1f} s")
        assert code == 0, err
        assert answer["result"] == "completed"
        assert answer["signal"]["key"] == names.topic_prefix
        assert answer["signal"]["value"]["data"] == {
            "data-collections": [TABLE.qualified],
            "type": "BLOCKING",
        }
        time.sleep(1.0)
    finally:
        written = load.stop()
    events = tail.collect(
        lambda es: set(keys_of(es, "r")) >= wanted and set(written) <= set(delivered_keys(es)), 120
    )
    tail.close()
    reads = [e for e in events if e.op == "r"]
    assert {e.topic for e in reads} == {names.data_topic(TABLE)}
    assert set(keys_of(events, "r")) >= wanted
    # Exactly that table's rows: no read of a row the table does not hold.
    assert set(keys_of(events, "r")) <= source_keys(bed, TABLE)
    # Every row inserted meanwhile arrived (as an insert, or as a read when the snapshot saw it).
    delivery = count_delivery(written, delivered_keys(events))
    assert not delivery.lost, delivery.describe()
    # Streaming went on: inserts into the other tables kept arriving after the snapshot's reads.
    last_read = max(e.offset for e in reads if e.topic == names.data_topic(TABLE))
    assert last_read >= 0
    assert any(e.op == "c" and e.topic != names.data_topic(TABLE) for e in events)


# -- stop / resume under load -----------------------------------------------------------------------


def test_stop_and_resume_under_load_lose_nothing_and_repeat_nothing(
    bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tail = all_topics_tail(bed)
    load = InsertLoad(bed.standin, first_key=1_000_000, rate=20).start()
    try:
        time.sleep(1.0)
        began = time.monotonic()
        code, answer, err = ops(bed, capsys, "stop", tmp=tmp_path)
        stopped = time.monotonic()
        assert code == 0, err
        assert answer["state_after"] == {"connector": "STOPPED", "tasks": []}
        time.sleep(1.0)
        code, answer, err = ops(bed, capsys, "resume", tmp=tmp_path)
        assert code == 0, err
        assert answer["state_after"]["tasks"] == ["RUNNING"]
        report(
            capsys, f"ops stop: {stopped - began:.1f} s; ops resume: {time.monotonic() - stopped - 1.0:.1f} s"
        )
        time.sleep(1.0)
    finally:
        written = load.stop()
    events = tail.collect(lambda es: set(written) <= set(delivered_keys(es)), 90)
    tail.close()
    delivery = count_delivery(written, delivered_keys(events))
    assert not delivery.lost and not delivery.repeated, delivery.describe()
    assert delivery.written > 50


# -- offsets ------------------------------------------------------------------------------------------


def test_offsets_show_reset_to_snapshot_and_restore(
    bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, shown, err = ops(bed, capsys, "offsets", "show", tmp=tmp_path)
    assert code == 0, err
    assert shown["positions"] and "lsn" in shown["positions"][0]["shown"]
    assert "lag_ms" in shown["metrics"]

    every = {t: source_keys(bed, t) for t in CAPTURED_TABLES}
    names = names_for(bed.cluster.stage)
    tail = all_topics_tail(bed)
    saved = tmp_path / "offsets.json"
    began = time.monotonic()
    code, answer, err = ops(
        bed, capsys, "offsets", "reset", "--to-snapshot", "--save-to", str(saved), "--yes", tmp=tmp_path
    )
    report(capsys, f"ops offsets reset --to-snapshot: {time.monotonic() - began:.1f} s")
    assert code == 0, err
    assert answer["state_after"]["tasks"] == ["RUNNING"]
    content = json.loads(saved.read_text())
    assert content["connector"] == bed.name and content["offsets"][0]["offset"]["lsn"]
    # A fresh snapshot: every row of every table arrives again as a read.
    events = tail.collect(
        lambda es: all(set(keys_of(es, "r", names.data_topic(t))) >= every[t] for t in CAPTURED_TABLES), 180
    )
    for table in CAPTURED_TABLES:
        assert set(keys_of(events, "r", names.data_topic(table))) >= every[table], table.qualified
    wait_offsets_committed(bed.api, bed.name)

    began = time.monotonic()
    code, answer, err = ops(bed, capsys, "offsets", "restore", str(saved), "--yes", tmp=tmp_path)
    report(capsys, f"ops offsets restore: {time.monotonic() - began:.1f} s")
    assert code == 0, err
    assert answer["restored"] == 1 and answer["state_after"]["tasks"] == ["RUNNING"]
    # Streaming goes on from the restored position: a new row arrives.
    tail.close()
    bed.tail.poll(0.1)
    bed.insert_and_see()


# -- recover-history beside running agents -------------------------------------------------------


def test_recover_history_beside_running_agents_is_never_reverted(
    bed: Bed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    agents: list[Agent] = bed.agents()
    # Let the agents settle the config (they stamp their generation) before the procedure starts.
    for _ in range(5):
        outcomes = [a.cycle().reconcile for a in agents]
        if all(o == "unchanged" for o in outcomes):
            break
        time.sleep(0.5)
    before = bed.api.get_config(bed.name)
    seen: list[tuple[float, str, str | None]] = []
    stop = threading.Event()

    def cycle() -> None:
        while not stop.is_set():
            for agent in agents:
                report = agent.cycle()
                mode = bed.api.get_config(bed.name).get("snapshot.mode")
                seen.append((time.monotonic(), report.reconcile, mode))
            stop.wait(0.3)

    thread = threading.Thread(target=cycle, daemon=True)
    thread.start()
    try:
        began = time.monotonic()
        code, answer, err = ops(bed, capsys, "recover-history", "--yes", tmp=tmp_path)
        ended = time.monotonic()
        report(capsys, f"ops recover-history: {ended - began:.1f} s")
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert code == 0, err
    assert answer["state_after"]["tasks"] == ["RUNNING"]
    during = [s for s in seen if began <= s[0] <= ended]
    assert any(mode == "no_data" for _t, _r, mode in during), "the recovery config was never seen"
    assert "held" in {r for _t, r, _m in during}
    assert not {"updated", "created"} & {r for _t, r, _m in seen}, seen
    assert bed.api.get_config(bed.name) == before
    store = HoldStore(bed.cluster.bootstrap, KafkaAuth.PLAINTEXT, names_for(bed.cluster.stage))
    try:
        assert store.current(bed.name).state.value == "none"
    finally:
        store.close()
