"""Who uses a local cluster, what a run started beside it, and the watch over both.

* **One run per state directory.** ``local run`` holds ``run.lock`` in the cluster's state
  directory for its whole life (a kernel ``flock``: released when the holder exits or dies, so it
  is never stale). A second ``local run`` or a ``local up`` is refused with one line naming the
  holder (its pid, since when) and how to stop it.
* **Identity, never names.** The stand-in PostgreSQL's postmaster is recorded by pid *and* start
  time (``/proc/<pid>/stat`` field 22) in ``standin.json``; ``local down`` stops it only when both
  still match, so a recycled pid is never signalled.
* **The watch.** :class:`Watch` polls the processes a run depends on (broker, workers, stand-in)
  and, when one dies, records one line naming it and its log and interrupts the main thread, so
  the run stops within a second or two instead of printing "RUNNING" over a dead broker.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wms_connector.errors import WmsError
from wms_connector.interrupts import wake_main

RUN_LOCK: Final = "run.lock"
STANDIN_RECORD: Final = "standin.json"
#: How often the watch looks at the processes.
WATCH_POLL_S: Final = 0.5


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22), or
    ``None`` when it does not run (a zombie counts as not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    # fields[0] is field 3 (state); field 22 is fields[19].
    if len(fields) < 20 or fields[0] in {"Z", "X"}:
        return None
    return int(fields[19])


def same_process(pid: int, ticks: int) -> bool:
    """Whether ``pid`` is still the very process that started at ``ticks``."""
    return start_ticks(pid) == ticks


# -- one run at a time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    since: float

    def describe(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"`wms-connector {self.command}` (pid {self.pid}, since {clock})"


class ClusterBusyError(WmsError):
    """Another command holds this state directory's local cluster."""


def _read_holder(path: Path) -> Holder | None:
    try:
        raw = json.loads(path.read_text())
        return Holder(int(raw["pid"]), str(raw["command"]), float(raw["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def busy_message(state_dir: Path, holder: Holder | None) -> str:
    who = holder.describe() if holder else "another `wms-connector local run`"
    stop = f"Ctrl-C in its terminal or `kill -INT {holder.pid}`" if holder else "Ctrl-C in its terminal"
    return (
        f"{who} already uses the local cluster of {state_dir}: wait for it to end, or stop it "
        f"({stop}); a second run on the same cluster would restart its workers under it"
    )


def current_holder(state_dir: Path) -> Holder | None:
    """The run holding ``state_dir``'s cluster now, or ``None``."""
    path = state_dir / RUN_LOCK
    if not path.exists():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path) or Holder(-1, "local run", time.time())
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def refuse_if_held(state_dir: Path) -> None:
    holder = current_holder(state_dir)
    if holder is not None:
        raise ClusterBusyError(busy_message(state_dir, holder if holder.pid > 0 else None))


@contextlib.contextmanager
def claim(state_dir: Path, command: str) -> Iterator[None]:
    """Hold ``state_dir``'s cluster for ``command`` until the block ends (or the process dies)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / RUN_LOCK
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClusterBusyError(busy_message(state_dir, _read_holder(path))) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the stand-in's recorded identity ------------------------------------------------------------


@dataclass(frozen=True)
class StandInRecord:
    pid: int
    ticks: int
    data_dir: str
    log: str


def record_standin(state_dir: Path, pid: int, data_dir: Path, log: Path) -> StandInRecord | None:
    """Record the running postmaster ``pid`` (with its start time) for ``local down``."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    record = StandInRecord(pid, ticks, str(data_dir), str(log))
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STANDIN_RECORD).write_text(json.dumps(record.__dict__) + "\n")
    return record


def forget_standin(state_dir: Path) -> None:
    (state_dir / STANDIN_RECORD).unlink(missing_ok=True)


def load_standin(state_dir: Path) -> StandInRecord | None:
    try:
        raw = json.loads((state_dir / STANDIN_RECORD).read_text())
        return StandInRecord(int(raw["pid"]), int(raw["ticks"]), str(raw["data_dir"]), str(raw["log"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stop_recorded_standin(state_dir: Path, grace_s: float = 30.0) -> str | None:
    """Stop the stand-in PostgreSQL a run left behind, if its recorded pid and start time still
    match (PostgreSQL's fast shutdown, SIGINT; SIGKILL after ``grace_s``); drop its data and the
    record. Returns what was stopped, or ``None``."""
    record = load_standin(state_dir)
    if record is None:
        return None
    stopped = None
    if same_process(record.pid, record.ticks):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGINT)
        deadline = time.monotonic() + grace_s
        while same_process(record.pid, record.ticks) and time.monotonic() < deadline:
            time.sleep(0.1)
        if same_process(record.pid, record.ticks):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGKILL)
        stopped = f"stand-in PostgreSQL (pid {record.pid})"
    shutil.rmtree(record.data_dir, ignore_errors=True)
    forget_standin(state_dir)
    return stopped


# -- the watch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watched:
    """A process a run depends on: its name, pid, log, and how to tell it still runs."""

    name: str
    pid: int
    log: str
    alive: Callable[[], bool]


def died_line(item: Watched) -> str:
    return f"the {item.name} (pid {item.pid}) died; its log: {item.log}"


class Watch:
    """Polls ``items`` on a daemon thread; on the first death records :attr:`failure` (one line)
    and calls ``on_death`` (default: interrupt the main thread, as Ctrl-C would)."""

    def __init__(
        self,
        items: Sequence[Watched],
        *,
        poll_s: float = WATCH_POLL_S,
        on_death: Callable[[], None] = wake_main,
    ) -> None:
        self.items = list(items)
        self.poll_s = poll_s
        self.on_death = on_death
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> str | None:
        """The first dead item's line, or ``None`` (one look, no thread)."""
        for item in self.items:
            if not item.alive():
                return died_line(item)
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            failure = self.check()
            if failure is not None:
                self.failure = failure
                self.on_death()
                return

    def start(self) -> Watch:
        self._thread = threading.Thread(target=self._run, name="local-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            try:
                self._thread.join(timeout=5)
            except KeyboardInterrupt:
                # Its own wake-up, landing while the main thread already stops: nothing more to do.
                self._thread.join(timeout=5)

    def settle(self) -> str | None:
        """Stop watching; the failure seen, else one last look (an error of the run may be the
        first sign of a death the watch had not polled yet)."""
        self.stop()
        if self.failure is None:
            self.failure = self.check()
        return self.failure
