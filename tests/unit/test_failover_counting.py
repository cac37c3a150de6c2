"""The pure parts of the failover check: reading the task's worker, counting against the source."""

from __future__ import annotations

from wms_connector.local.events import ChangeEvent
from wms_connector.local.failover import (
    count_delivery,
    delivered_keys,
    first_produced_after,
    has_committed_offsets,
    last_leader,
    task_worker,
    worker_id,
)


def _event(key: int, op: str = "c", kafka_ms: int | None = None) -> ChangeEvent:
    return ChangeEvent("t", op, {"ID": key}, None, None, None, kafka_ms)


def test_task_worker_is_the_worker_of_a_running_task_only() -> None:
    status = {"tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083"}]}
    assert task_worker(status) == "127.0.0.1:8083"
    assert task_worker({"tasks": [{"id": 0, "state": "UNASSIGNED", "worker_id": "127.0.0.1:8083"}]}) is None
    assert task_worker(status, task=1) is None
    assert task_worker({}) is None
    assert worker_id(8083) == "127.0.0.1:8083"


def test_count_delivery_finds_lost_and_duplicated_ids() -> None:
    delivery = count_delivery([1, 2, 3, 4], [1, 2, 2, 2, 4, 4, 99])
    assert delivery.written == 4
    assert delivery.lost == (3,)
    assert dict(delivery.repeated) == {2: 3, 4: 2}
    assert delivery.duplicates == 3  # two extra copies of 2, one of 4; 99 was not ours
    assert "1 lost" in delivery.describe() and "3 duplicate" in delivery.describe()


def test_count_delivery_all_once() -> None:
    delivery = count_delivery(range(5), [4, 3, 2, 1, 0])
    assert (delivery.lost, delivery.duplicates) == ((), 0)


def test_delivered_keys_are_inserts_and_snapshot_reads_with_repeats() -> None:
    events = [_event(1), _event(1), _event(2, op="u"), _event(3, op="tombstone"), _event(4, op="r")]
    assert delivered_keys(events) == [1, 1, 4]


def test_committed_offsets_and_leader_are_read_from_answers() -> None:
    assert not has_committed_offsets({"offsets": []})
    assert not has_committed_offsets({})
    assert has_committed_offsets({"offsets": [{"partition": {"server": "x"}, "offset": {"lsn": 1}}]})
    log = (
        "Joined group at generation 4 ... leaderUrl='http://127.0.0.1:4001/', offset=6\n"
        "Joined group at generation 5 ... leaderUrl='http://127.0.0.1:4002/', offset=6\n"
    )
    assert last_leader(log) == "127.0.0.1:4002"
    assert last_leader("no assignment yet") is None


def test_first_produced_after_is_the_earliest_stamp_from_the_moment_on() -> None:
    events = [_event(1, kafka_ms=900), _event(2, kafka_ms=1500), _event(3, kafka_ms=1200), _event(4)]
    assert first_produced_after(events, 1000) == 1200
    assert first_produced_after(events, 2000) is None
