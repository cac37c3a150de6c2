"""`local run` as people use it: interrupted, run twice at once, and with a broker dying under it.

Real processes throughout: the CLI runs as a subprocess in its own process group, on a state
directory of its own, and starts a real broker, worker and STAND-IN PostgreSQL; signals go to
that process group; the broker is killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wms_connector.local import procs, runs
from wms_connector.local.fetch import FetchResult
from wms_connector.local.state import load_state

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("wms-connector"))
#: A bound for "it ends", so a hang fails the test instead of stalling the suite (not a speed claim).
ENDS_WITHIN_S = 90.0
READY_LINE = "connector and task RUNNING"


@dataclass
class Run:
    """A `wms-connector local ...` subprocess in its own process group, its output collected."""

    process: subprocess.Popen[str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, state: Path, *args: str) -> Run:
        env = {**os.environ, "WMS_LOCAL_STATE": str(state), "COLUMNS": "120"}
        process = subprocess.Popen(
            [CLI, "local", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        run = cls(process)
        for stream, into in ((process.stdout, run.out), (process.stderr, run.err)):
            threading.Thread(
                target=lambda s=stream, i=into: i.extend(iter(s.readline, "")), daemon=True
            ).start()
        return run

    def wait_for(self, text: str, timeout_s: float = 240.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in line for line in self.out):
                return
            if self.process.poll() is not None:
                time.sleep(0.5)  # let the readers finish
                pytest.fail(f"the run ended ({self.process.returncode}) before {text!r}:\n{self.text}")
            time.sleep(0.2)
        pytest.fail(f"no {text!r} within {timeout_s:.0f} s:\n{self.text}")

    def wait(self, timeout_s: float = ENDS_WITHIN_S) -> int:
        code = self.process.wait(timeout=timeout_s)
        time.sleep(0.3)  # the reader threads drain the pipes
        return code

    @property
    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def kill_group(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


def _cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WMS_LOCAL_STATE": str(state), "COLUMNS": "120"}
    return subprocess.run(
        [CLI, "local", *args], check=False, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def top(standin_state_dir: Path) -> Path:
    """A world-traversable directory (the stand-in's server may run as another user)."""
    return standin_state_dir


@pytest.fixture
def state(top: Path, runtime_jars: FetchResult) -> Iterator[Path]:
    """A state directory of its own; whatever a failed test left there is stopped afterwards."""
    directory = top / "local"
    yield directory
    _cli(directory, "down")
    for pid, tag in procs.find_tagged(directory).items():
        procs.stop(pid, tag, hard=True)


def _standin_pid(state: Path) -> int:
    record = runs.load_standin(state)
    assert record is not None, "the run did not record its stand-in"
    return record.pid


def test_a_second_run_is_refused_and_sigterm_to_the_group_cleans_up_everything(state: Path) -> None:
    first = Run.start(state, "run", "--for", "300")
    try:
        first.wait_for(READY_LINE)
        cluster = load_state(state)
        assert cluster is not None
        postmaster = _standin_pid(state)
        worker_pids = [w.pid for w in cluster.workers]

        # Two runs on one state directory: the second is refused in one line, and touches nothing.
        second = _cli(state, "run", "--for", "5")
        assert second.returncode == 1, second.stderr
        assert f"(pid {first.process.pid}," in second.stderr
        assert "already uses the local cluster" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        up = _cli(state, "up")
        assert up.returncode == 1 and "already uses the local cluster" in up.stderr
        again = load_state(state)
        assert again is not None and [w.pid for w in again.workers] == worker_pids
        assert all(procs.is_ours(pid, cluster.tag) for pid in worker_pids), (
            "the first run's workers restarted"
        )

        # SIGTERM (what `timeout` and a cancelled CI job send) to the whole process group.
        os.killpg(first.process.pid, signal.SIGTERM)
        code = first.wait()
    finally:
        first.kill_group()
    assert code == 130, first.text
    assert "interrupted (SIGTERM)" in first.text
    assert runs.start_ticks(postmaster) is None, "the stand-in PostgreSQL was left running"
    assert not procs.is_ours(cluster.broker.pid, cluster.tag)
    assert not any(procs.is_ours(pid, cluster.tag) for pid in worker_pids)
    assert runs.load_standin(state) is None
    down = _cli(state, "down", "--json")
    assert json.loads(down.stdout)["stopped"] == []


def test_a_broker_killed_under_a_run_ends_it_with_one_line_and_exit_1(state: Path) -> None:
    run = Run.start(state, "run", "--for", "300")
    try:
        run.wait_for(READY_LINE)
        cluster = load_state(state)
        assert cluster is not None
        postmaster = _standin_pid(state)
        os.kill(cluster.broker.pid, signal.SIGKILL)
        killed = time.monotonic()
        code = run.wait()
        took = time.monotonic() - killed
    finally:
        run.kill_group()
    assert code == 1, run.text
    died = [line for line in run.err if "died" in line]
    assert died == [f"error: the broker (pid {cluster.broker.pid}) died; its log: {cluster.broker.log}\n"], (
        run.text
    )
    # librdkafka's own lines went to the run's log, not to the terminal.
    assert "%3|" not in run.text and "rdkafka" not in run.text
    # Everything it started is gone.
    assert runs.start_ticks(postmaster) is None
    assert not any(procs.is_ours(w.pid, cluster.tag) for w in cluster.workers)
    print(f"broker killed -> run ended in {took:.1f} s (load {os.getloadavg()[0]:.1f})")


def test_local_down_stops_a_stand_in_a_killed_run_left_by_its_recorded_identity(top: Path) -> None:
    from wms_connector.local.standin import StandInPostgres

    state = top / "local"
    standin_dir = top / "standin"
    standin_dir.mkdir()
    standin_dir.chmod(0o755)
    db = StandInPostgres(standin_dir).start()
    try:
        pid = db.postmaster_pid()
        assert pid is not None
        assert runs.record_standin(state, pid, db.data_dir, db.log_file) is not None
        # The run that started it is gone (SIGKILL): nothing of it stops the server. `local down` does.
        down = _cli(state, "down", "--json")
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["stopped"] == [f"stand-in PostgreSQL (pid {pid})"]
        deadline = time.monotonic() + 30
        while runs.start_ticks(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runs.start_ticks(pid) is None
        assert not db.data_dir.exists()
    finally:
        db._abandon()
