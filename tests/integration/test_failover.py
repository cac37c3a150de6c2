"""Worker failover on the real cluster: the stand-in connector's task survives losing its worker.

How fast it moves is measured by ``bench/failover.py``; here only *that* it moves, and that no
change is lost or delivered twice on the way (exactly-once source delivery, read_committed reader).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.events import ChangeEvent
from wms_connector.local.failover import (
    InsertLoad,
    count_delivery,
    delivered_keys,
    task_worker,
    wait_offsets_committed,
    wait_task_moved,
    worker_id,
)
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import StandInPostgres
from wms_connector.naming import names_for
from wms_connector.stages import settings_for

pytestmark = pytest.mark.integration

FIRST_KEY = 7_000_000


@dataclass
class Running:
    cluster: LocalCluster
    standin: StandInPostgres
    apis: dict[str, HttpConnectApi]
    name: str
    tail: EventTail


@pytest.fixture
def running(cluster_workers_restored: LocalCluster, standin_state_dir: Path) -> Iterator[Running]:
    """The stand-in connector RUNNING on the session cluster, a tail from now, one API per worker."""
    cluster = cluster_workers_restored
    standin = StandInPostgres(standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    apis = {
        worker_id(w.port): HttpConnectApi(
            f"http://127.0.0.1:{w.port}", timeout_s=10, backoff=BackOff(scale_ms=300, max_attempts=4)
        )
        for w in cluster.state.workers
    }
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    ensure_local_topics(cluster.bootstrap, cluster.stage)
    tail = EventTail(cluster.bootstrap, list(names_for(cluster.stage).data_topics.values()), from_now=True)
    first = next(iter(apis.values()))
    name = register_fresh(first, cluster.stage, source, cluster.bootstrap)
    wait_running(first, name)
    try:
        yield Running(cluster, standin, apis, name, tail)
    finally:
        tail.close()
        alive = cluster.liveness(cluster.state)
        for entry in cluster.state.workers:  # delete through a worker that still runs
            if alive[entry.name]:
                apis[worker_id(entry.port)].delete(name)
                break
        for api in apis.values():
            api.close()
        standin.stop()


def test_killed_workers_task_runs_on_the_other_worker_no_insert_lost_or_duplicated(running: Running) -> None:
    cluster, name = running.cluster, running.name
    seen: list[ChangeEvent] = []
    load = InsertLoad(running.standin, FIRST_KEY, rate=20).start()
    running.tail.collect(lambda events: len(delivered_keys(events)) >= 20, 30, into=seen)
    assert delivered_keys(seen), "no insert arrived before the kill: the pipeline is not streaming"

    any_api = next(iter(running.apis.values()))
    wait_offsets_committed(any_api, name)  # steady state: a source offset to resume from
    victim = task_worker(any_api.status(name))
    assert victim is not None, "task 0 is not RUNNING before the kill"
    [index] = [w.index for w in cluster.state.workers if worker_id(w.port) == victim]
    [survivor] = [w for w in running.apis if w != victim]
    cluster.kill_worker(index)
    written_at_kill = len(load.written)
    assert not cluster.liveness(cluster.state)[f"worker-{index}"]

    # Generous deadline: speed is the benchmark's business, not this test's.
    moved_to, _ = wait_task_moved(running.apis[survivor], name, away_from=victim, timeout_s=120)
    assert moved_to == survivor

    running.tail.collect(lambda _: False, 3, into=seen)  # inserts keep coming on the new worker
    written = load.stop()
    assert len(written) > written_at_kill, "no row was inserted during the failover"
    wanted = set(written)
    running.tail.collect(lambda events: wanted <= set(delivered_keys(events)), 90, into=seen)
    delivery = count_delivery(written, delivered_keys(seen))
    assert not delivery.lost, delivery.describe()
    assert delivery.written == len(written), delivery.describe()
    # Exactly-once source (KIP-618) and a read_committed reader: the killed task's open
    # transaction is aborted and the new task resumes from the offset committed with the records.
    assert settings_for(cluster.stage).exactly_once
    assert delivery.duplicates == 0, delivery.describe()
    status = running.apis[survivor].status(name)
    assert task_worker(status) == survivor, status
