"""Background processes of the local cluster: start, recognise, stop (only our own, by pid)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

#: JVM system property that tags every process of one local cluster; a pid is only ever
#: signalled when its command line carries the tag, so a recycled pid is never touched.
TAG_PROPERTY: Final = "wms.local.cluster"


def tag_arg(tag: str) -> str:
    return f"-D{TAG_PROPERTY}={tag}"


def spawn(command: Sequence[str], log: Path, *, cwd: Path, env: Mapping[str, str]) -> int:
    """Start ``command`` detached (own session: Ctrl-C of the CLI does not reach it), output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    return process.pid


def _reap(pid: int) -> None:
    # A child of this very process that exited stays a zombie (and "alive" to kill(0)) until reaped.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def is_ours(pid: int, tag: str) -> bool:
    """True while ``pid`` runs and its command line carries this cluster's tag."""
    _reap(pid)
    for _ in range(50):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if cmdline:
            break
        # Right after exec the kernel briefly shows an empty command line: look again.
        time.sleep(0.02)
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    if state in {"Z", "X"}:
        return False
    return tag_arg(tag).encode() in cmdline.split(b"\0")


def tag_of(cmdline: bytes) -> str | None:
    """The cluster tag a command line carries, or ``None``."""
    prefix = f"-D{TAG_PROPERTY}=".encode()
    for arg in cmdline.split(b"\0"):
        if arg.startswith(prefix):
            return arg[len(prefix) :].decode(errors="replace")
    return None


def find_tagged(cwd: Path) -> dict[int, str]:
    """``{pid: tag}`` of every live process of a local cluster started in ``cwd``.

    Every broker and worker carries the tag and runs with its state directory as cwd, so this
    finds them even when the state file is missing or damaged."""
    found: dict[int, str] = {}
    want = cwd.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            tag = tag_of((entry / "cmdline").read_bytes())
            if tag is None or Path(os.readlink(entry / "cwd")) != want:
                continue
        except OSError:
            continue
        pid = int(entry.name)
        if is_ours(pid, tag):
            found[pid] = tag
    return found


def stop(pid: int, tag: str, *, grace_s: float = 15.0, hard: bool = False) -> bool:
    """SIGTERM (or SIGKILL when ``hard``) ``pid`` if it is ours; wait until it is gone.

    Returns whether a process was signalled."""
    if not is_ours(pid, tag):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_ours(pid, tag):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while is_ours(pid, tag):
        time.sleep(0.05)
    return True


def send(pid: int, tag: str, signum: int) -> bool:
    """Send ``signum`` to ``pid`` if it is ours (e.g. SIGSTOP/SIGCONT to freeze a broker)."""
    if not is_ours(pid, tag):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
    return True


def free_port() -> int:
    """A port the OS says is free on 127.0.0.1 now (a race remains; start-up reports a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def log_tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log, for error messages."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
