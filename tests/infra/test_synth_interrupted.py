"""SIGTERM to a running `synth` (what `timeout` or a cancelled CI job sends) stops its jsii `node`
process too: nothing of the CDK's runtime outlives the command (issue 25)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("wms-connector"))


def _children(pid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}


def test_sigterm_to_synth_stops_its_jsii_node_process(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [CLI, "synth", "--stage", "main", "--offline", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    node = None
    try:
        deadline = time.monotonic() + 240  # the Lambda bundle may be built first
        while node is None and time.monotonic() < deadline and process.poll() is None:
            node = next((pid for pid, cmd in _children(process.pid).items() if "jsii-runtime" in cmd), None)
            time.sleep(0.1)
        assert node is not None, "synth never started its jsii runtime"
        process.send_signal(signal.SIGTERM)  # to the CLI alone, not its group
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted (SIGTERM)" in err
    deadline = time.monotonic() + 10
    while _alive(node) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(node):
        os.kill(node, signal.SIGKILL)
        raise AssertionError(f"the jsii node process {node} outlived synth")
