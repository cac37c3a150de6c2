"""Worker failover: kill the worker running the connector's task, time the move, count the events.

Starts its own local cluster (broker + 2 Connect workers), the STAND-IN PostgreSQL and the stand-in
Debezium connector (``tasks.max=1``). Each run inserts rows with unique ids at ``--rate`` per
second; once the connector has committed a source offset (the steady state, not a first start),
the worker whose REST status says it runs task 0 is SIGKILLed
(``LocalCluster.kill_worker``: no goodbye to the group, no final offset commit, as when an ECS task
or its host dies). Measured from the moment the process is gone:

* **to RUNNING**: until the surviving worker's REST API reports task 0 RUNNING on itself;
* **to first record**: until the first record the Connect producer stamped after the kill
  (new or re-delivered), i.e. when the stream resumed.

Then the inserts stop, the data topics are drained and every inserted id is counted: *lost* (never
arrived) and *duplicated* (arrived more than once: at-least-once delivery re-sends what came after
the last committed source offset). The killed worker is started again before the next run. One
extra run stops the worker gracefully (SIGTERM: it leaves the group at once) for comparison.

Usage::

    .venv/bin/python bench/failover.py [--runs 4] [--rate 25] [--no-graceful] [--no-ballast] [--at-least-once]

An idle connector (``--no-ballast`` leaves it out) is created first, meant to take the group
leader so that the stand-in's task starts on the other worker (with a rebalance delay, the leader
holds a lost NOT-leader's task back for ``scheduled.rebalance.max.delay.ms``; with today's 0 the two
cases differ little). Placement after each rejoin is up to Connect's assignor: the table says, per
run, whether the killed worker was the leader, and the summary reports each kind separately.

Delivery is exactly-once (KIP-618) unless ``--at-least-once`` switches it off for comparison; the
events are read by a ``read_committed`` consumer, as every consumer must read them, so the
duplicates counted are what a downstream consumer would see.

Prints, per kind of run (SIGKILL of a non-leader, of the leader, graceful stop): median time to
RUNNING elsewhere and to the first record, events lost and duplicated, with the load averages;
the SIGKILL summary last.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from _common import load, machine, start_cluster, start_standin
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.connect.worker_config import REBALANCE_DELAY_MS, SESSION_TIMEOUT_MS
from wms_connector.local.cluster import LocalCluster, group_members
from wms_connector.local.events import ChangeEvent
from wms_connector.local.failover import (
    Delivery,
    InsertLoad,
    count_delivery,
    delivered_keys,
    first_produced_after,
    last_leader,
    task_worker,
    wait_offsets_committed,
    wait_task_moved,
    worker_id,
)
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.naming import names_for
from wms_connector.stages import Stage

WARM_S = 5.0  # steady flow before the kill
AFTER_S = 5.0  # inserts keep coming after the task runs again
MOVE_TIMEOUT_S = 110.0
BALLAST_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
DRAIN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Run:
    number: int
    mode: str
    victim: str
    was_leader: bool
    survivor: str
    to_running_s: float
    to_first_record_s: float | None
    delivery: Delivery
    load: str = ""

    @property
    def kind(self) -> str:
        if self.mode == "stop":
            return "graceful stop (SIGTERM)"
        return "SIGKILL of the leader" if self.was_leader else "SIGKILL of a non-leader"


def add_ballast(api: HttpConnectApi, stage: Stage, directory: Path) -> None:
    """A connector that does nothing (a file source on an empty file), created before the stand-in.

    Connect gives a new connector and its task to the least loaded worker, and with nothing else
    running that is the group leader. The ballast takes the leader, so the stand-in's task starts on
    the other worker and the first kill takes a worker that is NOT the leader (the leader then
    holds the lost task back for scheduled.rebalance.max.delay.ms). Later runs kill whichever
    worker the rebalances left the task on; the table says whether it was the leader."""
    empty = directory / "ballast.txt"
    empty.touch()
    config = {
        "connector.class": BALLAST_CLASS,
        "tasks.max": "1",
        "file": str(empty),
        "topic": f"{names_for(stage).topic_prefix}.bench-ballast",  # never written: the file stays empty
    }
    api.create(f"{names_for(stage).connector}-bench-ballast", config)
    wait_running(api, f"{names_for(stage).connector}-bench-ballast")


def wait_whole(cluster: LocalCluster, api: HttpConnectApi, name: str, timeout_s: float = 120.0) -> None:
    """Every worker back in the group and the task RUNNING, then a short settle (a worker that
    rejoins may take the task over: that move must not fall into the next run)."""
    expected = {worker_id(w.port) for w in cluster.state.workers}
    group = names_for(cluster.stage).group_id
    deadline = time.monotonic() + timeout_s
    while group_members(cluster.bootstrap, group) != expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the workers did not all rejoin group {group} within {timeout_s:.0f} s")
        time.sleep(0.5)
    time.sleep(3.0)
    wait_running(api, name, timeout_s=timeout_s)


def one_run(
    number: int,
    mode: str,
    cluster: LocalCluster,
    apis: dict[str, HttpConnectApi],
    name: str,
    tail: EventTail,
    inserts: InsertLoad,
) -> Run:
    seen: list[ChangeEvent] = []
    inserts.start()
    tail.collect(lambda _: False, WARM_S, into=seen)
    any_api = next(iter(apis.values()))
    wait_offsets_committed(any_api, name)  # the steady state, not a first start
    victim = task_worker(any_api.status(name))
    if victim is None:
        raise SystemExit(f"task 0 of {name} is not RUNNING before run {number}")
    [entry] = [w for w in cluster.state.workers if worker_id(w.port) == victim]
    index = entry.index
    was_leader = last_leader(Path(entry.log).read_text(errors="replace")) == victim
    [survivor] = [w for w in apis if w != victim]
    (cluster.kill_worker if mode == "kill" else cluster.stop_worker)(index)
    gone, gone_ms = time.monotonic(), int(time.time() * 1000)
    moved_to, running_at = wait_task_moved(apis[survivor], name, victim, timeout_s=MOVE_TIMEOUT_S)
    tail.collect(lambda _: False, AFTER_S, into=seen)
    written = inserts.stop()
    wanted = set(written)
    tail.collect(lambda es: wanted <= set(delivered_keys(es)), DRAIN_TIMEOUT_S, into=seen)
    tail.collect(lambda _: False, 1.0, into=seen)  # late re-deliveries, if any
    ours = [e for e in seen if e.op in ("c", "r") and delivered_keys([e])[0] in wanted]
    first = first_produced_after(ours, gone_ms)
    cluster.start_worker(index)
    wait_whole(cluster, apis[survivor], name)
    return Run(
        number=number,
        mode=mode,
        victim=victim,
        was_leader=was_leader,
        survivor=moved_to,
        to_running_s=running_at - gone,
        to_first_record_s=None if first is None else (first - gone_ms) / 1000,
        delivery=count_delivery(written, delivered_keys(ours)),
        load=load(),
    )


def show(run: Run) -> None:
    first = "-" if run.to_first_record_s is None else f"{run.to_first_record_s:6.1f}"
    d = run.delivery
    print(
        f"{run.number:>3}  {run.mode:<5} {run.victim:>16} {'yes' if run.was_leader else 'no':>6} "
        f"-> {run.survivor:<16} "
        f"{run.to_running_s:8.1f} {first:>8} {d.written:>8} {len(d.lost):>5} {d.duplicates:>6}   {run.load}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=4, help="SIGKILL runs")
    parser.add_argument("--rate", type=float, default=25.0, help="inserts per second")
    parser.add_argument("--no-graceful", action="store_true", help="skip the SIGTERM run")
    parser.add_argument(
        "--no-ballast",
        action="store_true",
        help="no idle connector on the leader: the stand-in's task starts on the leader (kills the leader)",
    )
    parser.add_argument("--stage", default="bench-failover")
    parser.add_argument(
        "--at-least-once", action="store_true", help="the stage's exactly-once switch off (comparison)"
    )
    args = parser.parse_args()
    exactly_once = not args.at_least_once
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    stage = Stage(args.stage)
    print(machine())
    print(
        f"worker config: session.timeout.ms={SESSION_TIMEOUT_MS}, "
        f"scheduled.rebalance.max.delay.ms={REBALANCE_DELAY_MS}, "
        f"{'exactly-once' if exactly_once else 'at-least-once'} delivery, read_committed reader; "
        f"workload: {args.rate:g} inserts/s, STAND-IN PostgreSQL source; {load()}",
        flush=True,
    )
    modes = ["kill"] * args.runs + ([] if args.no_graceful else ["stop"])
    runs: list[Run] = []
    with ExitStack() as stack:
        cluster = start_cluster(stack, stage, workers=2, exactly_once=exactly_once)
        standin = start_standin(stack)
        apis = {}
        for entry in cluster.state.workers:
            api = HttpConnectApi(
                f"http://127.0.0.1:{entry.port}", timeout_s=10, backoff=BackOff(scale_ms=300, max_attempts=4)
            )
            stack.callback(api.close)
            apis[worker_id(entry.port)] = api
        source = PostgresStandIn(
            standin.host, standin.port, standin.dbname, standin.user, password=standin.password
        )
        ensure_local_topics(cluster.bootstrap, stage)
        first_api = next(iter(apis.values()))
        if not args.no_ballast:
            add_ballast(first_api, stage, Path(stack.enter_context(tempfile.TemporaryDirectory())))
        name = register_fresh(first_api, stage, source, cluster.bootstrap, exactly_once=exactly_once)
        wait_running(first_api, name)
        tail = EventTail(cluster.bootstrap, list(names_for(stage).data_topics.values()), from_now=True)
        stack.callback(tail.close)
        print(
            f"{'run':>3}  {'mode':<5} {'from worker':>16} {'leader':>6}    {'to worker':<16} "
            f"{'RUNNING':>8} {'1st rec':>8} {'inserted':>8} {'lost':>5} {'dupl.':>6}   (seconds from exit)",
            flush=True,
        )
        for number, mode in enumerate(modes, start=1):
            inserts = InsertLoad(standin, first_key=1_000_000 * number, rate=args.rate)
            run = one_run(number, mode, cluster, apis, name, tail, inserts)
            show(run)
            runs.append(run)
    for kind in ("SIGKILL of a non-leader", "SIGKILL of the leader", "graceful stop (SIGTERM)"):
        summarize(kind, [r for r in runs if r.kind == kind])
    kills = [r for r in runs if r.mode == "kill"]
    if kills:
        summarize(f"worker failover, every SIGKILL ({sum(r.was_leader for r in kills)} of the leader)", kills)


def summarize(kind: str, runs: list[Run]) -> None:
    if not runs:
        print(f"{kind}: no run")
        return
    moves = [r.to_running_s for r in runs]
    firsts = [r.to_first_record_s for r in runs if r.to_first_record_s is not None]
    first = f"{statistics.median(firsts):.1f} s" if firsts else "-"
    lost = sum(len(r.delivery.lost) for r in runs)
    duplicated = sum(r.delivery.duplicates for r in runs)
    written = sum(r.delivery.written for r in runs)
    print(
        f"{kind} ({len(runs)} runs): task RUNNING on the other worker after median "
        f"{statistics.median(moves):.1f} s (max {max(moves):.1f} s), first record after median {first}; "
        f"events lost {lost}, duplicated {duplicated} of {written} inserted; "
        f"loads {', '.join(r.load for r in runs)}"
    )


if __name__ == "__main__":
    main()
