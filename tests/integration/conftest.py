"""The real local cluster for the integration suite: up once per session, down at the end.

``local_cluster`` is a :class:`wms_connector.local.cluster.LocalCluster` with
``.bootstrap`` ("127.0.0.1:PORT"), ``.rest_urls`` (one REST base URL per worker), ``.stage``
(the ephemeral stage ``it-local``, so topic namespacing is exercised), ``.state_dir``, and
``.stop_worker(i)`` / ``.kill_worker(i)`` / ``.start_worker(i)`` for failover tests. Two workers.

``three_brokers`` is production's topology (three brokers and a controller-only node, replication
factor 3, ``min.insync.replicas=2``) with one worker, started per MODULE that asks for it (it costs
~30 s to start on a loaded machine): ``.stop_broker(n)`` / ``.start_broker(n, empty=...)`` /
``.pause_broker(n)`` for leader-change tests.
Worker environment: the session's ``os.environ`` when the fixture starts (set ``WMS_STANDIN_*``
before first use if a connector needs ``${env:...}``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV
from wms_connector.errors import WmsError
from wms_connector.image.build import Built, build_image
from wms_connector.image.engine import Engine, docker_state_dir, ensure_engine
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import FetchResult, fetch
from wms_connector.local.paths import cache_dir, pom_path, repo_root
from wms_connector.stages import Stage

from .jdbc_sink import fetch_sink

IT_STAGE = Stage("it-local")
IT_WORKERS = 2
THREE_BROKER_STAGE = Stage("it-three")


@pytest.fixture(scope="session")
def runtime_jars() -> FetchResult:
    """The pinned jars (fetched by `make test`'s set-up; here only verified against the manifest)."""
    return fetch(pom_path(), cache_dir())


@pytest.fixture(scope="session")
def sink_jars() -> FetchResult:
    """TEST ONLY: Debezium's JDBC sink (tests/sink/pom.xml), the round-trip tests' downstream consumer."""
    return fetch_sink()


@pytest.fixture(scope="session")
def local_cluster(
    runtime_jars: FetchResult, sink_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    # The suite's workers (only these) also load the JDBC sink plugin.
    cluster = LocalCluster(
        tmp_path_factory.mktemp("local-cluster"),
        runtime_jars.layout,
        extra_plugin_path=sink_jars.layout.plugin_path,
    )
    cluster.up(IT_STAGE, IT_WORKERS)
    try:
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="module")
def three_brokers(
    runtime_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path_factory.mktemp("three-brokers"), runtime_jars.layout)
    try:
        cluster.up(THREE_BROKER_STAGE, 1, brokers=3)
        yield cluster
    finally:
        cluster.down(wipe=True)


@pytest.fixture
def cluster_workers_restored(local_cluster: LocalCluster) -> Iterator[LocalCluster]:
    """For tests that stop or kill workers: every worker runs again afterwards."""
    yield local_cluster
    for index in range(IT_WORKERS):
        local_cluster.start_worker(index)


# -- the connector's fixtures (issue 4) -------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # The stand-in's password reaches the workers through their environment, as the Oracle
    # password does in ECS; it is set when this conftest registers, before any worker starts,
    # and it never appears in a connector config.
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "standin-" + secrets.token_urlsafe(16))


def _standin_dir() -> Path:
    # pytest's tmp dirs are mode 700 under root, and the stand-in's server then runs as another user.
    path = Path(tempfile.mkdtemp(prefix="wms-standin-"))
    path.chmod(0o755)
    return path


@pytest.fixture
def standin_state_dir() -> Iterator[Path]:
    path = _standin_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def module_standin_state_dir() -> Iterator[Path]:
    path = _standin_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- the Connect image (issue 11) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """A Docker engine: the user's, or a private daemon in <repo>/.state/docker (stopped at the end).

    Skipped, with the reason, only where no engine answers and none can be installed (not root or
    no apt): CI on our machines is root on Debian, so there the image tests always run.
    """
    try:
        engine = ensure_engine(docker_state_dir(repo_root()))
    except WmsError as error:
        pytest.skip(f"no Docker engine for the image tests: {error}")
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def connect_image(docker_engine: Engine) -> Built:
    """The image of this checkout, built once per input fingerprint (a warm run only looks it up)."""
    root = repo_root()
    return build_image(
        docker_engine,
        root,
        say=lambda line: print(f"image: {line}"),
        build_log=docker_state_dir(root) / "build.log",
    )
