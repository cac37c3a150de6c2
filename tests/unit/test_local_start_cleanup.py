"""A failure part-way through `local up` stops every process it already started (no orphans).

The JVMs are replaced by tagged ``sleep`` processes (real processes, recognised and signalled by
the real :mod:`wms_connector.local.procs`), so this runs in a second without Java.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from wms_connector.errors import WmsError
from wms_connector.local import procs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.paths import RuntimeLayout
from wms_connector.local.state import load_state
from wms_connector.stages import Stage


def _sleeper(tag: str) -> list[str]:
    # The tag argument lands in the command line, which is all procs.is_ours looks at.
    return [sys.executable, "-c", "import time; time.sleep(120)", procs.tag_arg(tag)]


def test_a_failed_worker_spawn_stops_the_workers_already_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = LocalCluster(tmp_path / "state", RuntimeLayout(tmp_path / "jars"))
    started: list[tuple[int, str]] = []
    real_spawn_worker = cluster._spawn_worker

    def spawn_worker(state: Any, stage: Stage, index: int, port: int, metrics_port: int) -> Any:
        if index == 1:
            raise WmsError("cannot start worker-1 (simulated: fork failed)")
        entry = real_spawn_worker(state, stage, index, port, metrics_port)
        started.append((entry.pid, state.tag))
        return entry

    monkeypatch.setattr(cluster, "_format", lambda *args: "cluster-id")
    monkeypatch.setattr(cluster, "_java_command", lambda heap, tag, main, *args: _sleeper(tag))
    monkeypatch.setattr(cluster, "_worker_command", lambda tag, config, metrics_port: _sleeper(tag))
    monkeypatch.setattr(cluster, "_wait_broker", lambda state: None)
    monkeypatch.setattr(cluster, "_spawn_worker", spawn_worker)
    try:
        with pytest.raises(WmsError, match="worker-1"):
            cluster.up(Stage("it-cleanup"), workers=2)
        assert len(started) == 1
        pid, tag = started[0]
        assert not procs.is_ours(pid, tag), "worker-0 was left running after the failed start"
        assert load_state(cluster.state_dir) is None
    finally:
        for pid, tag in started:
            if procs.is_ours(pid, tag):
                os.kill(pid, signal.SIGKILL)
                procs.stop(pid, tag, hard=True)
