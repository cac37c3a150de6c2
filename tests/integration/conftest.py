"""The real local cluster for the integration suite: up once per session, down at the end.

``local_cluster`` is a :class:`wms_connector.local.cluster.LocalCluster` with
``.bootstrap`` ("127.0.0.1:PORT"), ``.rest_urls`` (one REST base URL per worker), ``.stage``
(the ephemeral stage ``it-local``, so topic namespacing is exercised), ``.state_dir``, and
``.stop_worker(i)`` / ``.kill_worker(i)`` / ``.start_worker(i)`` for failover tests. Two workers.
Worker environment: the session's ``os.environ`` when the fixture starts (set ``WMS_STANDIN_*``
before first use if a connector needs ``${env:...}``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import FetchResult, fetch
from wms_connector.local.paths import cache_dir, pom_path
from wms_connector.stages import Stage

IT_STAGE = Stage("it-local")
IT_WORKERS = 2


@pytest.fixture(scope="session")
def runtime_jars() -> FetchResult:
    """The pinned jars (fetched by `make test`'s set-up; here only verified against the manifest)."""
    return fetch(pom_path(), cache_dir())


@pytest.fixture(scope="session")
def local_cluster(
    runtime_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path_factory.mktemp("local-cluster"), runtime_jars.layout)
    cluster.up(IT_STAGE, IT_WORKERS)
    try:
        yield cluster
    finally:
        cluster.down()


@pytest.fixture
def cluster_workers_restored(local_cluster: LocalCluster) -> Iterator[LocalCluster]:
    """For tests that stop or kill workers: every worker runs again afterwards."""
    yield local_cluster
    for index in range(IT_WORKERS):
        local_cluster.start_worker(index)
