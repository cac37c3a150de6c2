"""MSK maintenance and ECS deploy drills on production's topology, every event counted.

One local cluster in production's shape (three brokers and a controller-only node, replication
factor 3, ``min.insync.replicas=2``; two Connect workers, exactly-once delivery), the STAND-IN
PostgreSQL and its connector, one connect-agent beside each worker (as in each ECS task), a
steady insert workload (``--rate``, default 100 changes/s, one row per transaction, unique ids,
retried across a database outage) and a ``read_committed`` reader of the four data topics.

Drills (each on the same cluster, one after the other; ``--only NAME`` to choose):

* ``rolling-restart``: every broker restarted in turn (SIGTERM: a controlled shutdown, then a
  start), waiting for every partition to have all its replicas in sync between, as MSK patching does;
* ``broker-hang``: the broker leading the most data partitions frozen (SIGSTOP) for ``--hang``
  seconds (60), then resumed;
* ``broker-loss``: that broker killed (SIGKILL) and started again with an empty data directory
  (a replaced broker: it copies every replica back from the others);
* ``worker-rolling-deploy``: each worker replaced in turn, new process first, then the old one
  stopped (SIGTERM), as an ECS rolling deploy (minimum healthy 100 %) does; the old task's agent
  goes with it and the new task's agent starts;
* ``database-outage``: the stand-in stopped for ``--outage`` seconds (60), then started again;
* ``everything``: a broker rolling restart and a worker rolling deploy at the same time.

For each drill the workload runs ``--warm`` seconds before the action and ``--after`` seconds
after it; then every id inserted is looked for: **lost** (committed in the source, never read),
**duplicated** (read more than once), **max stall** (the longest time the reader waited for an
already committed change: ``local/drill.py``), **task failures** (times the REST status showed the
connector or its task FAILED, polled every second) and **agent restarts** (restarts the agents
issued). Prints one line per drill in this exact shape, then the load, and all lines again last::

    drill rolling-restart: lost 0, duplicated 0, max stall 4.2 s, task failures 0, agent restarts 0

Usage::

    /work/bin/cluster-slot .venv/bin/python bench/drills.py [--only NAME ...] [--rate 100]
        [--hang 60] [--outage 60] [--warm 10] [--after 10]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from _common import load, machine, start_cluster, start_standin
from wms_connector.agent.loop import Agent
from wms_connector.commands.local_run import standin_agent
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, ConnectRestError, ConnectUnreachableError, HttpConnectApi
from wms_connector.local.cluster import LocalCluster, group_members
from wms_connector.local.drill import DrillName, DrillResult, longest_stall
from wms_connector.local.failover import count_delivery, wait_offsets_committed, worker_id
from wms_connector.local.leaders import busiest_leader, describe_partitions, wait_in_sync
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.stages import Stage, settings_for

STAGE = Stage("bench-drills")
DRAIN_TIMEOUT_S = 180.0
IN_SYNC_TIMEOUT_S = 300.0


class Load(threading.Thread):
    """Unique-id inserts at ``rate``/s, one per transaction; a failed insert (database down) is
    retried with the next id after a reconnect. Only committed ids are recorded, with the time."""

    def __init__(self, standin: StandInPostgres, first_key: int, rate: float) -> None:
        super().__init__(daemon=True, name="drill-load")
        self.standin, self.key, self.rate = standin, first_key, rate
        self.committed: dict[int, float] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        interval = 1.0 / self.rate
        began = time.monotonic()
        sent = 0
        while not self.stop_event.is_set():
            delay = began + sent * interval - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)
                continue
            table = CAPTURED_TABLES[self.key % len(CAPTURED_TABLES)]
            try:
                if conn is None:
                    conn = self.standin.connect()
                apply(conn, Change(table, Op.CREATE, self.key, waiver_row(table, self.key)))
                self.committed[self.key] = time.monotonic()
            except psycopg.Error:
                conn = None  # the key may or may not have committed: never counted either way
                self.stop_event.wait(0.5)
                began, sent = time.monotonic(), 0
            self.key += 1
            sent += 1

    def finish(self) -> dict[int, float]:
        self.stop_event.set()
        self.join(timeout=30)
        return dict(self.committed)


class Reader(threading.Thread):
    """The read_committed reader: every delivered key, repeats kept, and when each was first read."""

    def __init__(self, tail: EventTail) -> None:
        super().__init__(daemon=True, name="drill-reader")
        self.tail = tail
        self.keys: list[int] = []
        self.first_read: dict[int, float] = {}
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop_event.is_set():
            events = self.tail.poll(timeout_s=0.2)
            now = time.monotonic()
            with self.lock:
                for event in events:
                    if event.op in ("c", "r") and event.key:
                        key = int(next(iter(event.key.values())))
                        self.keys.append(key)
                        self.first_read.setdefault(key, now)

    def snapshot(self) -> tuple[list[int], dict[int, float]]:
        with self.lock:
            return list(self.keys), dict(self.first_read)


@dataclass
class Agents:
    """One agent per worker (as in each ECS task), each cycling on its own thread."""

    cluster: LocalCluster
    standin: StandInPostgres
    poll_s: float
    restarts: int = 0
    running: dict[int, tuple[threading.Event, threading.Thread]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, index: int) -> None:
        agent = standin_agent(STAGE, self.cluster.state, self.standin, worker_index=index)
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(agent, stop), daemon=True, name=f"agent-{index}")
        thread.start()
        self.running[index] = (stop, thread)

    def _run(self, agent: Agent, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                issued = agent.cycle().restarts_issued
            except Exception:  # one bad cycle (its worker going away): the next one tries again
                issued = 0
            with self.lock:
                self.restarts += issued
            stop.wait(self.poll_s)

    def stop(self, index: int) -> None:
        stop, thread = self.running.pop(index)
        stop.set()
        thread.join(timeout=30)

    def stop_all(self) -> None:
        for index in list(self.running):
            self.stop(index)


class FailureWatch(threading.Thread):
    """Polls the connector status every second through a live worker; counts each time the
    connector or its task is newly seen FAILED."""

    def __init__(self, cluster: LocalCluster, name: str) -> None:
        super().__init__(daemon=True, name="failure-watch")
        self.cluster, self.name = cluster, name
        self.failures = 0
        self.stop_event = threading.Event()
        self._failed_before: set[str] = set()

    def run(self) -> None:
        while not self.stop_event.wait(1.0):
            status = live_status(self.cluster, self.name)
            if status is None:
                continue
            failed = set()
            if status.get("connector", {}).get("state") == "FAILED":
                failed.add("connector")
            failed |= {f"task-{t.get('id')}" for t in status.get("tasks", []) if t.get("state") == "FAILED"}
            self.failures += len(failed - self._failed_before)
            self._failed_before = failed


def live_status(cluster: LocalCluster, name: str) -> dict[str, Any] | None:
    for worker in cluster.state.workers:
        api = HttpConnectApi(f"http://127.0.0.1:{worker.port}", timeout_s=3, backoff=BackOff(max_attempts=1))
        try:
            return api.status(name)
        except (ConnectRestError, ConnectUnreachableError):
            continue
        finally:
            api.close()
    return None


def live_api(cluster: LocalCluster) -> HttpConnectApi:
    alive = cluster.liveness(cluster.state)
    for worker in cluster.state.workers:
        if alive[worker.name]:
            return HttpConnectApi(
                f"http://127.0.0.1:{worker.port}", timeout_s=10, backoff=BackOff(scale_ms=300, max_attempts=6)
            )
    raise SystemExit("no Connect worker runs")


def wall(moment: float) -> str:
    """A monotonic moment as wall-clock time, to line stalls up with the actions' lines."""
    return time.strftime("%H:%M:%S", time.localtime(time.time() - (time.monotonic() - moment)))


def say(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- the actions -------------------------------------------------------------------------------


def rolling_restart(cluster: LocalCluster) -> None:
    for broker in cluster.state.brokers:
        waited = wait_in_sync(cluster.bootstrap, timeout_s=IN_SYNC_TIMEOUT_S)["waited_s"]
        say(f"every replica in sync ({waited:.1f} s); restarting {broker.name}")
        cluster.stop_broker(broker.node_id)
        cluster.start_broker(broker.node_id)
    waited = wait_in_sync(cluster.bootstrap, timeout_s=IN_SYNC_TIMEOUT_S)["waited_s"]
    say(f"rolling restart done; every replica in sync {waited:.1f} s after the last start")


def data_leader(cluster: LocalCluster) -> int:
    return busiest_leader(describe_partitions(cluster.bootstrap, names_for(STAGE).data_topics.values()))


def broker_hang(cluster: LocalCluster, hang_s: float) -> None:
    victim = data_leader(cluster)
    say(f"freezing broker-{victim} (SIGSTOP) for {hang_s:g} s")
    cluster.pause_broker(victim)
    time.sleep(hang_s)
    cluster.resume_broker(victim)
    waited = wait_in_sync(cluster.bootstrap, timeout_s=IN_SYNC_TIMEOUT_S)["waited_s"]
    say(f"broker-{victim} resumed; every replica in sync after {waited:.1f} s")


def broker_loss(cluster: LocalCluster) -> None:
    victim = data_leader(cluster)
    say(f"killing broker-{victim} (SIGKILL) and starting it with an empty data directory")
    cluster.stop_broker(victim, hard=True)
    time.sleep(5.0)  # the replacement is not instant on MSK either
    cluster.start_broker(victim, empty=True)
    waited = wait_in_sync(cluster.bootstrap, timeout_s=IN_SYNC_TIMEOUT_S)["waited_s"]
    say(f"broker-{victim} back with an empty disk; every replica in sync after {waited:.1f} s")


def worker_rolling_deploy(cluster: LocalCluster, agents: Agents) -> None:
    for old in list(cluster.state.workers):
        new = cluster.add_worker()
        agents.start(new.index)
        say(f"{new.name} started and in the group; stopping {old.name} (SIGTERM)")
        agents.stop(old.index)
        cluster.retire_worker(old.index)
    say("worker rolling deploy done")


def database_outage(standin: StandInPostgres, outage_s: float) -> None:
    say(f"stopping the stand-in database for {outage_s:g} s")
    standin.stop_server()
    time.sleep(outage_s)
    standin.start_server()
    say("stand-in database started again")


def everything(cluster: LocalCluster, agents: Agents) -> None:
    errors: list[BaseException] = []

    def guarded(action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                action()
            except BaseException as error:
                errors.append(error)

        return run

    threads = [
        threading.Thread(target=guarded(lambda: rolling_restart(cluster))),
        threading.Thread(target=guarded(lambda: worker_rolling_deploy(cluster, agents))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# -- one drill ---------------------------------------------------------------------------------


def settle(cluster: LocalCluster, name: str) -> None:
    """The whole cluster back before the next drill: replicas in sync, workers grouped, task RUNNING."""
    wait_in_sync(cluster.bootstrap, timeout_s=IN_SYNC_TIMEOUT_S)
    expected = {worker_id(w.port) for w in cluster.state.workers}
    group = names_for(STAGE).group_id
    deadline = time.monotonic() + 120
    while group_members(cluster.bootstrap, group) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    api = live_api(cluster)
    try:
        wait_running(api, name, timeout_s=180)
    finally:
        api.close()


def run_drill(
    drill: DrillName,
    action: Callable[[], None],
    *,
    cluster: LocalCluster,
    standin: StandInPostgres,
    reader: Reader,
    agents: Agents,
    name: str,
    first_key: int,
    args: argparse.Namespace,
) -> DrillResult:
    settle(cluster, name)
    print(f"drill {drill.value} starting ({load()})", flush=True)
    restarts_before = agents.restarts
    watch = FailureWatch(cluster, name)
    watch.start()
    workload = Load(standin, first_key, args.rate)
    workload.start()
    time.sleep(args.warm)
    action()
    time.sleep(args.after)
    committed = workload.finish()
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        _keys, first_read = reader.snapshot()
        if all(key in first_read for key in committed):
            break
        time.sleep(0.5)
    time.sleep(2.0)  # late re-deliveries, if any, would show now
    watch.stop_event.set()
    watch.join(timeout=10)
    keys, first_read = reader.snapshot()
    delivery = count_delivery(committed, keys)
    stall, stall_began, stall_ended = longest_stall(committed, first_read)
    result = DrillResult(
        drill,
        delivery,
        stall,
        watch.failures,
        agents.restarts - restarts_before,
    )
    rate = len(committed) / max(1e-9, max(committed.values()) - min(committed.values())) if committed else 0.0
    print(f"  {delivery.describe()}; {rate:.0f} changes/s committed on average; {load()}", flush=True)
    print(f"  longest stall from {wall(stall_began)} to {wall(stall_ended)}", flush=True)
    print(result.line(), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[d.value for d in DrillName],
        help="run only these drills (repeatable)",
    )
    parser.add_argument(
        "--rate", type=float, default=100.0, help="inserts per second (>= 100 for the drills)"
    )
    parser.add_argument("--hang", type=float, default=60.0, help="seconds a broker stays frozen")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the stand-in database stays down")
    parser.add_argument("--warm", type=float, default=10.0, help="seconds of workload before each action")
    parser.add_argument("--after", type=float, default=10.0, help="seconds of workload after each action")
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the brokers' and workers' logs here"
    )
    args = parser.parse_args()
    chosen = [DrillName(d) for d in args.only] if args.only else list(DrillName)
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    print(machine())
    print(
        f"topology: 3 brokers + 1 controller (RF 3, min.insync.replicas=2), 2 workers, exactly-once, "
        f"agents at {settings_for(STAGE).agent_poll_interval_ms / 1000:g} s; STAND-IN PostgreSQL; "
        f"{args.rate:g} inserts/s; {load()}",
        flush=True,
    )
    results: list[DrillResult] = []
    with ExitStack() as stack:
        cluster = start_cluster(stack, STAGE, 2, brokers=3)
        if args.keep_logs is not None:
            stack.callback(shutil.copytree, cluster.logs_dir, args.keep_logs, dirs_exist_ok=True)
        standin = start_standin(stack)
        standin.keep_data = True  # the outage drill stops and starts it; stop() at the end removes it
        stack.callback(setattr, standin, "keep_data", False)
        ensure_local_topics(cluster.bootstrap, STAGE)
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        api = live_api(cluster)
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name)
        wait_offsets_committed(api, name)
        api.close()
        tail = EventTail(cluster.bootstrap, list(names_for(STAGE).data_topics.values()), from_now=True)
        stack.callback(tail.close)
        reader = Reader(tail)
        reader.start()
        stack.callback(reader.stop_event.set)
        agents = Agents(cluster, standin, settings_for(STAGE).agent_poll_interval_ms / 1000)
        for worker in cluster.state.workers:
            agents.start(worker.index)
        stack.callback(agents.stop_all)
        actions: dict[DrillName, Callable[[], None]] = {
            DrillName.ROLLING_RESTART: lambda: rolling_restart(cluster),
            DrillName.BROKER_HANG: lambda: broker_hang(cluster, args.hang),
            DrillName.BROKER_LOSS: lambda: broker_loss(cluster),
            DrillName.WORKER_ROLLING_DEPLOY: lambda: worker_rolling_deploy(cluster, agents),
            DrillName.DATABASE_OUTAGE: lambda: database_outage(standin, args.outage),
            DrillName.EVERYTHING: lambda: everything(cluster, agents),
        }
        for number, drill in enumerate(chosen, start=1):
            results.append(
                run_drill(
                    drill,
                    actions[drill],
                    cluster=cluster,
                    standin=standin,
                    reader=reader,
                    agents=agents,
                    name=name,
                    first_key=10_000_000 * number,
                    args=args,
                )
            )
    print(f"{machine()}; {load()}")
    for result in results:
        print(result.line())
    if not all(r.clean for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
