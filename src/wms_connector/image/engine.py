"""A Docker engine to build and run the image with: the user's own, or a private one (I/O shell).

``ensure_engine`` uses the engine that ``docker info`` already reaches (``DOCKER_HOST`` or the
default socket). Otherwise, as root with apt, it installs Debian's ``docker.io`` (when ``dockerd``
is missing) and starts a **private** daemon: its own socket, data root, exec root and pidfile
under ``state_dir``, no bridge, no iptables, forwarding or masquerading changes, its own
containerd namespace. Builds and containers then use the host's network. ``Engine.stop`` stops
only a daemon this process started, by the PID it recorded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wms_connector.errors import WmsError

#: Override the private Docker daemon's state directory (default: <repo>/.state/docker).
DOCKER_STATE_ENV: Final = "WMS_DOCKER_STATE"
#: Unix socket paths longer than this do not fit ``sun_path``; the socket then goes to /tmp.
_SOCKET_PATH_MAX: Final = 100
DAEMON_START_S: Final = 60.0


@dataclass
class Engine:
    """How to reach a Docker engine, and the private daemon's PID when we started it."""

    host: str | None
    started_pid: int | None = None
    state_dir: Path | None = None
    log: Path | None = None

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        if self.host is not None:
            env["DOCKER_HOST"] = self.host
        return env

    def run(
        self, args: Sequence[str], *, check: bool = True, timeout: float | None = None, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``docker ARGS`` against this engine; a failure is a WmsError with docker's own words."""
        result = subprocess.run(
            ["docker", *args],
            env=self.environ(),
            capture_output=capture,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            words = (result.stderr or result.stdout or "").strip().splitlines()
            raise WmsError(f"docker {args[0]} failed (exit {result.returncode}): {' '.join(words[-3:])}")
        return result

    def answers(self) -> bool:
        try:
            return (
                self.run(["info", "--format", "{{.ServerVersion}}"], check=False, timeout=15).returncode == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            return False

    def stop(self) -> None:
        """Stop the private daemon we started (by its PID); the user's engine is left alone."""
        if self.started_pid is None:
            return
        pid, self.started_pid = self.started_pid, None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        if self.state_dir is not None:
            _unmount_leftovers(private_paths(self.state_dir)["exec"])


def _unmount_leftovers(exec_root: Path) -> None:
    """dockerd bind-mounts its network namespace under its exec root and leaves it after exiting."""
    namespace = exec_root / "netns" / "default"
    if os.path.ismount(namespace):
        subprocess.run(["umount", str(namespace)], capture_output=True, check=False)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


def docker_state_dir(root: Path) -> Path:
    explicit = os.environ.get(DOCKER_STATE_ENV)
    return Path(explicit) if explicit else root / ".state" / "docker"


def private_paths(state_dir: Path) -> dict[str, Path]:
    """Where a private daemon keeps its socket, data, exec root, pidfile and log."""
    socket = state_dir / "docker.sock"
    exec_root = state_dir / "exec"
    if len(str(exec_root)) + 60 > _SOCKET_PATH_MAX:
        # containerd's sockets live below the exec root; a deep checkout moves both to /tmp.
        digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:10]
        short = Path("/tmp") / f"wms-docker-{digest}"  # noqa: S108 - per checkout, made by root
        socket, exec_root = short / "docker.sock", short / "exec"
    return {
        "socket": socket,
        "data": state_dir / "data",
        "exec": exec_root,
        "pidfile": state_dir / "docker.pid",
        "log": state_dir / "dockerd.log",
    }


def dockerd_argv(paths: Mapping[str, Path], namespace: str) -> list[str]:
    return [
        "dockerd",
        f"--host=unix://{paths['socket']}",
        f"--data-root={paths['data']}",
        f"--exec-root={paths['exec']}",
        f"--pidfile={paths['pidfile']}",
        "--bridge=none",
        "--iptables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--ip6tables=false",
        f"--containerd-namespace={namespace}",
        f"--containerd-plugins-namespace={namespace}-plugins",
    ]


def apt_install(packages: Sequence[str], *, why: str) -> None:
    """Install Debian packages (root with apt only); a failure names the packages and the fix."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise WmsError(
            f"{why} needs {', '.join(packages)}: install them (sudo apt-get install {' '.join(packages)}) "
            "or run as root on Debian"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = " ".join(result.stderr.strip().splitlines()[-2:])
            raise WmsError(f"{' '.join(argv[:2])} {' '.join(packages)} failed: {tail}")


def ensure_engine(state_dir: Path) -> Engine:
    """The user's engine when it answers, else a private daemon under ``state_dir`` (started here)."""
    own = Engine(host=os.environ.get("DOCKER_HOST"))
    if shutil.which("docker") is not None and own.answers():
        return own
    paths = private_paths(state_dir)
    private = Engine(host=f"unix://{paths['socket']}", state_dir=state_dir, log=paths["log"])
    if shutil.which("docker") is not None and paths["socket"].exists() and private.answers():
        return private  # a private daemon of this checkout is already up (not ours to stop)
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        apt_install(["docker.io"], why="no Docker engine answers `docker info`; running a private one")
    for key in ("data", "exec"):
        paths[key].mkdir(parents=True, exist_ok=True)
    paths["socket"].parent.mkdir(parents=True, exist_ok=True)
    namespace = "wms-" + hashlib.sha256(str(state_dir).encode()).hexdigest()[:10]
    with paths["log"].open("ab") as log:
        process = subprocess.Popen(
            dockerd_argv(paths, namespace),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    private.started_pid = process.pid
    deadline = time.monotonic() + DAEMON_START_S
    while not private.answers():
        if process.poll() is not None or time.monotonic() > deadline:
            private.stop()
            tail = " ".join(paths["log"].read_text(errors="replace").strip().splitlines()[-3:])
            raise WmsError(f"the private Docker daemon did not start (log {paths['log']}): {tail}")
        time.sleep(0.5)
    return private
