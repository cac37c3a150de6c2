"""The image's entrypoint, run for real (outside a container): it renders the worker config with
`wms-connector worker-config`, execs a Connect worker with the JMX exporter agent and our rules,
and that worker joins its stage's group on the local broker and serves Connect metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from wms_connector.local.cluster import LocalCluster, group_members, worker_healthy
from wms_connector.local.fetch import FetchResult
from wms_connector.local.paths import repo_root
from wms_connector.local.procs import free_port, log_tail
from wms_connector.naming import names_for
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

STAGE = Stage("it-entrypoint")


def _connect_home(tmp: Path, jars: FetchResult) -> Path:
    """The image's /opt/connect, made of links to the fetched layout and the runtime/ files."""
    home = tmp / "connect"
    for name in ("lib", "plugins"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).symlink_to(getattr(jars.layout, name))
    (home / "agent").mkdir()
    [agent] = jars.layout.agent_dir.glob("jmx_prometheus_javaagent-*.jar")
    (home / "agent" / "jmx_prometheus_javaagent.jar").symlink_to(agent)
    (home / "config").mkdir()
    for name in ("jmx-exporter.yaml", "log4j2.properties"):
        (home / "config" / name).symlink_to(repo_root() / "runtime" / name)
    (home / "run").mkdir()
    (home / "secrets").mkdir(mode=0o700)  # the image's secrets directory (empty: no connector here)
    return home


def test_the_entrypoint_starts_a_worker_that_joins_and_exports_metrics(
    local_cluster: LocalCluster, runtime_jars: FetchResult, tmp_path: Path
) -> None:
    home = _connect_home(tmp_path, runtime_jars)
    rest_port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CONNECT_HOME": str(home),
        "WMS_STAGE": STAGE.name,
        "KAFKA_BOOTSTRAP_SERVERS": local_cluster.bootstrap,
        "WMS_ADVERTISED_HOST": "127.0.0.1",
        "WMS_LISTEN_HOST": "127.0.0.1",
        "WMS_REST_PORT": str(rest_port),
        "WMS_KAFKA_AUTH": "plaintext",
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        "WMS_TOPIC_REPLICATION_FACTOR": "1",
        "JMX_EXPORTER_PORT": f"127.0.0.1:{metrics_port}",
    }
    log = tmp_path / "entrypoint.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(repo_root() / "runtime" / "entrypoint.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{rest_port}"
    try:
        deadline = time.monotonic() + 180
        while not worker_healthy(url):
            assert process.poll() is None, f"the worker exited: {log_tail(log, 30)}"
            assert time.monotonic() < deadline, f"not healthy in time: {log_tail(log, 30)}"
            time.sleep(0.5)
        rendered = (home / "run" / "worker.properties").read_text()
        names = names_for(STAGE)
        assert f"group.id={names.group_id}\n" in rendered
        assert "rest.advertised.host.name=127.0.0.1\n" in rendered
        assert "entrypoint: stage it-entrypoint, advertised host 127.0.0.1" in log.read_text()
        assert group_members(local_cluster.bootstrap, names.group_id) == {f"127.0.0.1:{rest_port}"}
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=20).text
        assert "kafka_connect_connect_worker_metrics_connector_count" in metrics
        assert "kafka_connect_connect_worker_rebalance_metrics_" in metrics
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)  # the exec'd JVM has the shell's pid
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
