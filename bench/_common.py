"""Helpers the benchmarks share: a throw-away local cluster, the stand-in source, the machine line.

Run the benchmarks as scripts (``.venv/bin/python bench/NAME.py``): Python puts ``bench/`` on the
path, so they import this module as ``_common``.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import fetch
from wms_connector.local.java import find_java
from wms_connector.local.paths import cache_dir, pom_path
from wms_connector.local.standin import StandInPostgres
from wms_connector.stages import Stage


def machine() -> str:
    return f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load() -> str:
    """The load averages, printed beside every figure (the machine is shared)."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def start_cluster(
    stack: ExitStack, stage: Stage, workers: int, *, exactly_once: bool | None = None, brokers: int = 1
) -> LocalCluster:
    """A local cluster in a temporary directory, stopped and removed when ``stack`` closes.

    ``exactly_once`` overrides the stage's exactly-once switch (to compare both modes); ``brokers=3``
    is production's topology (``LocalCluster.up``)."""
    cluster_dir = Path(tempfile.mkdtemp(prefix="wms-bench-cluster-"))
    stack.callback(shutil.rmtree, cluster_dir, ignore_errors=True)  # runs last (LIFO)
    cluster = LocalCluster(
        cluster_dir, fetch(pom_path(), cache_dir()).layout, find_java(), exactly_once=exactly_once
    )
    # Registered before up(): a start that fails half-way still stops what it started.
    stack.callback(cluster.down, wipe=True)
    cluster.up(stage, workers, brokers=brokers)
    return cluster


def start_standin(stack: ExitStack) -> StandInPostgres:
    """The STAND-IN PostgreSQL in a temporary directory, stopped and removed when ``stack`` closes.

    Its password comes from the workers' environment variable (set before the cluster starts)."""
    state = Path(tempfile.mkdtemp(prefix="wms-bench-standin-"))
    state.chmod(0o755)  # the server may run as another user (PostgreSQL refuses root)
    stack.callback(shutil.rmtree, state, ignore_errors=True)
    standin = StandInPostgres(state, password=os.environ[STANDIN_PASSWORD_ENV])
    stack.callback(standin.stop)
    return standin.start()
