"""The local runtime does not depend on one file to know what runs: a damaged or missing
state.json still lets `local down` stop this directory's processes (found by their tag and cwd),
and `local up` stops them before it would start a second broker on the same data directory.

The processes here are real (Python sleepers spawned exactly as the broker and workers are, with
the cluster tag on their command line and the state directory as cwd); no JVM is needed to show
that the tag scan finds them.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from wms_connector.cli import main
from wms_connector.errors import InputError, WmsError
from wms_connector.local import procs
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.paths import RuntimeLayout
from wms_connector.local.state import locked, state_file
from wms_connector.stages import Stage


def spawn_tagged(state_dir: Path, tag: str) -> int:
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)", procs.tag_arg(tag)]
    pid = procs.spawn(sleeper, state_dir / "logs" / "x.log", cwd=state_dir, env={})
    assert procs.is_ours(pid, tag)  # waits out the moment between fork and exec
    return pid


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = (tmp_path / "local").resolve()
    directory.mkdir()
    monkeypatch.setenv("WMS_LOCAL_STATE", str(directory))
    return directory


@pytest.mark.parametrize("damage", ["{not json", "", None])
def test_down_stops_unrecorded_processes_of_its_directory(
    state_dir: Path, capsys: pytest.CaptureFixture[str], damage: str | None
) -> None:
    mine = [spawn_tagged(state_dir, "t1"), spawn_tagged(state_dir, "t1")]
    elsewhere = spawn_tagged(state_dir.parent, "t1")  # same tag, another directory: not ours
    try:
        if damage is not None:
            state_file(state_dir).write_text(damage)
        assert set(procs.find_tagged(state_dir)) == set(mine)
        assert main(["local", "status"]) == 1
        assert "without a readable state file" in capsys.readouterr().err
        assert main(["local", "down"]) == 0
        assert "stopped pid" in capsys.readouterr().out
        assert not any(procs.is_ours(pid, "t1") for pid in mine)
        assert procs.is_ours(elsewhere, "t1")
    finally:
        procs.stop(elsewhere, "t1", grace_s=2)
        for pid in mine:
            procs.stop(pid, "t1", grace_s=2)


def test_up_stops_unrecorded_processes_before_starting(state_dir: Path) -> None:
    stray = spawn_tagged(state_dir, "t2")
    state_file(state_dir).write_text("garbage")
    cluster = LocalCluster(state_dir, RuntimeLayout(state_dir / "dist"))
    said: list[str] = []
    with procs_port_taken() as port, pytest.raises(InputError, match="already in use"):
        # The taken port stops `up` right after its clean-up: nothing new starts in this test.
        cluster.up(Stage("local"), 1, broker_port=port, progress=said.append)
    assert not procs.is_ours(stray, "t2")
    assert any(f"pid {stray}" in line for line in said)


def test_the_state_directory_is_locked(state_dir: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with locked(state_dir):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    # flock is per open file: a second open in this process waits like another process would.
    with pytest.raises(WmsError, match="holds"), locked(state_dir, wait_s=0.5):
        pass
    assert time.monotonic() - started >= 0.5
    release.set()
    thread.join()
    with locked(state_dir, wait_s=0.5):
        pass


class procs_port_taken:  # noqa: N801 - a context manager used like a function
    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        return int(self.sock.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        self.sock.close()
