"""`local up/status/down` across runs and their faults, on a cluster of its own (one worker)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from wms_connector.errors import InputError, WmsError
from wms_connector.local import procs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import FetchResult
from wms_connector.local.state import load_state
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

STAGE = Stage("it-lifecycle")


def test_port_in_use_is_refused_before_anything_starts(runtime_jars: FetchResult, tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path, runtime_jars.layout)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"port 127.0.0.1:{port} is already in use"):
            cluster.up(STAGE, 1, broker_port=port)
    assert load_state(tmp_path) is None
    assert not (tmp_path / "logs").exists()


def test_up_is_idempotent_stale_state_is_cleaned_and_down_stops_only_ours(
    runtime_jars: FetchResult, tmp_path: Path
) -> None:
    cluster = LocalCluster(tmp_path, runtime_jars.layout)
    assert cluster.down() == []  # nothing runs: not an error
    first, started = cluster.up(STAGE, 1)
    try:
        assert started
        again, started_again = cluster.up(STAGE, 1)
        assert not started_again
        assert again == first
        with pytest.raises(InputError, match="already runs"):
            cluster.up(STAGE, 2)
        status = cluster.status()
        assert status["running"] and [w["in_group"] for w in status["workers"]] == [True]

        # A crash: the worker dies behind our back. The next `up` notices, cleans, starts anew.
        procs.stop(first.workers[0].pid, first.tag, hard=True)
        assert cluster.status()["running"] is False
        fresh, started_fresh = cluster.up(STAGE, 1)
        assert started_fresh and fresh.tag != first.tag
        assert not procs.is_ours(first.broker.pid, first.tag)
        assert fresh.cluster_id == first.cluster_id  # the broker's data was kept
    finally:
        stopped = cluster.down(wipe=True)
    assert stopped == ["worker-0", "broker"]
    assert load_state(tmp_path) is None
    assert not (tmp_path / "data").exists()


class _BrokenWorkerCluster(LocalCluster):
    """Fault injection: the worker gets a config it refuses, so it exits during start-up."""

    def worker_properties(self, state, stage, port):  # type: ignore[no-untyped-def]
        props = super().worker_properties(state, stage, port)
        props["offset.storage.replication.factor"] = "not-a-number"
        return props


def test_a_worker_dying_during_start_is_reported_with_its_log(
    runtime_jars: FetchResult, tmp_path: Path
) -> None:
    cluster = _BrokenWorkerCluster(tmp_path, runtime_jars.layout)
    with pytest.raises(WmsError, match=r"worker-0 \(pid \d+\) died during start-up") as raised:
        cluster.up(STAGE, 1)
    assert "not-a-number" in str(raised.value)
    state_after = load_state(tmp_path)
    assert state_after is None  # everything it started was stopped again
