"""``wms-connector verify`` against the real local pipeline (broker, two Connect workers, their JMX
exporters, the STAND-IN PostgreSQL source): 0 when healthy, one clear reason per problem otherwise.

Each unhealthy case is made for real and undone afterwards: the heartbeat switched off, a topic
deleted and another's config changed, the task failed by cutting its replication connection, and a
connector that is not registered.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wms_connector.cli import main
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn, build_config
from wms_connector.connect.rest import BackOff, HttpConnectApi, reconcile
from wms_connector.kafka.admin import TopicAdmin
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.standin import StandInPostgres
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth

pytestmark = pytest.mark.integration

#: Beats every second while a test wants them (the stage's 30 s would make every case slow).
FAST_HEARTBEAT_MS = "1000"


class Stand:
    def __init__(self, cluster: Any, standin: StandInPostgres, api: HttpConnectApi, source: PostgresStandIn):
        self.cluster, self.standin, self.api, self.source = cluster, standin, api, source
        self.names = names_for(cluster.stage)
        self.name = self.names.standin_connector
        self.admin = TopicAdmin.connect(cluster.bootstrap, KafkaAuth.PLAINTEXT)

    def config(self, **overrides: str) -> dict[str, str]:
        base = build_config(self.cluster.stage, self.source, self.cluster.bootstrap, KafkaAuth.PLAINTEXT)
        return {**base, "heartbeat.interval.ms": FAST_HEARTBEAT_MS, **overrides}

    def apply(self, **overrides: str) -> None:
        reconcile(self.api, self.name, self.config(**overrides))
        time.sleep(1)  # the task restarts with the new config
        wait_running(self.api, self.name)

    def verify(self, *extra: str, timeout: int = 30, source: str = "standin") -> tuple[int, dict[str, Any]]:
        """The CLI itself, as CI runs it, with --json; returns (exit code, parsed output)."""
        args = ["verify", "--stage", self.cluster.stage.name, "--source", source, "--json"]
        args += ["--connect-url", self.cluster.rest_urls[0], "--bootstrap", self.cluster.bootstrap]
        args += ["--local", "--timeout", str(timeout)]
        for url in self.cluster.metrics_urls:
            args += ["--metrics-url", url]
        return main([*args, *extra]), {}


def _run(stand: Stand, capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code, _ = stand.verify(**kwargs)
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def _failed(data: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["detail"] for c in data["checks"] if not c["ok"]}


@pytest.fixture(scope="module")
def stand(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Stand]:
    standin = StandInPostgres(module_standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    api = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
    source = PostgresStandIn(
        standin.host, standin.port, standin.dbname, standin.user, password=standin.password
    )
    ensure_local_topics(local_cluster.bootstrap, local_cluster.stage)
    name = register_fresh(api, local_cluster.stage, source, local_cluster.bootstrap)
    wait_running(api, name)
    result = Stand(local_cluster, standin, api, source)
    result.apply()
    yield result
    api.delete(name)
    api.close()
    standin.stop()


def test_a_healthy_stage_verifies(stand: Stand, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = _run(stand, capsys)
    assert code == 0, _failed(data)
    assert data["ok"] is True
    assert [c["check"] for c in data["checks"]] == ["connector", "task", "connected", "topics", "progress"]
    assert _failed(data) == {}
    progress = next(c for c in data["checks"] if c["check"] == "progress")
    assert stand.names.heartbeat_topic in progress["detail"]


def test_stalled_heartbeats_fail_with_the_reason(stand: Stand, capsys: pytest.CaptureFixture[str]) -> None:
    stand.apply(**{"heartbeat.interval.ms": "0"})  # Debezium's "off"; no change is written either
    try:
        code, data, err = _run(stand, capsys, timeout=8)
    finally:
        stand.apply()
    assert code == 1
    assert set(_failed(data)) == {"progress"}
    assert "heartbeats stalled" in _failed(data)["progress"]
    assert "progress: no new record in the heartbeat topic" in err


def test_a_missing_topic_and_a_wrong_config_are_named(
    stand: Stand, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = stand.names.schema_change_topic  # the stand-in never writes DDL events to it
    history = stand.names.schema_history_topic
    assert stand.admin.delete([missing]) == {missing: None}
    assert stand.admin.wait_gone([missing]) == set()
    assert stand.admin.alter(history, {"retention.ms": "86400000"}) is None
    try:
        code, data, err = _run(stand, capsys, timeout=5)
    finally:
        stand.admin.alter(history, {"retention.ms": "-1"})
        ensure_local_topics(stand.cluster.bootstrap, stand.cluster.stage)
    assert code == 1
    assert set(_failed(data)) == {"topics"}
    detail = _failed(data)["topics"]
    assert f"topic {missing} is missing" in detail
    assert f"topic {history}: retention.ms is 86400000, specified -1" in detail
    assert err.count("\n") == 2  # the problem line, then the final error line


def test_a_failed_task_is_named_with_its_trace(stand: Stand, capsys: pytest.CaptureFixture[str]) -> None:
    # No in-task retries, then the replication connection is cut: the task FAILS for real.
    with stand.standin.connect(autocommit=True) as conn:
        applied_at = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    stand.apply(**{"errors.max.retries": "0"})
    # Cut the connection of the task that runs the new config: the status says RUNNING before its
    # replication connection is up (with exactly-once the restarted task first fences the old
    # producer), and cutting the old task's connection would fail nothing.
    with stand.standin.connect(autocommit=True) as conn:
        started = time.monotonic() + 60
        while time.monotonic() < started:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE backend_type = 'walsender' AND backend_start > %s",
                (applied_at,),
            ).fetchall()
            if cut:
                break
            time.sleep(0.2)
        assert cut, "the restarted task never opened its replication connection"
    deadline = time.monotonic() + 60
    tasks: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        tasks = stand.api.status(stand.name).get("tasks", [])
        if tasks and tasks[0]["state"] == "FAILED":
            break
        time.sleep(0.5)
    assert tasks and tasks[0]["state"] == "FAILED", tasks
    try:
        code, data, _ = _run(stand, capsys, timeout=5)
    finally:
        stand.apply()
        stand.api.restart(stand.name, include_tasks=True, only_failed=True)
        wait_running(stand.api, stand.name)
    assert code == 1
    failed = _failed(data)
    assert failed["task"].startswith(f"task {stand.name}-0 is FAILED on ")
    assert "no trace" not in failed["task"]
    assert "connector" not in failed  # the connector itself keeps RUNNING


def test_a_missing_connector_is_named(stand: Stand, capsys: pytest.CaptureFixture[str]) -> None:
    """The stage's Oracle connector was never registered on the local workers."""
    code, data, err = _run(stand, capsys, timeout=3, source="oracle")
    assert code == 1
    failed = _failed(data)
    assert failed["connector"] == f"connector {stand.names.connector} is not registered"
    # Only these two: the stand-in beside it streams for the same topic.prefix, and the topics are right.
    assert set(failed) == {"connector", "task"}
    assert f"connector: connector {stand.names.connector} is not registered" in err


def _db_info_file(tmp_path: Path, stand: Stand, **changes: object) -> Path:
    """A secrets file whose dbInfo names the stand-in (what its connector runs), with ``changes``."""
    source = stand.source
    db = {"host": source.host, "port": source.port, "db": source.db, "user": source.user, **changes}
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({f"wms/{stand.cluster.stage.name}/dbInfo": db}))
    return path


def test_dbinfo_drift_is_named_with_both_values_and_the_fix(
    stand: Stand, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The running connector's database.* (read from Connect's REST) against the current dbInfo."""
    same = _db_info_file(tmp_path, stand)
    capsys.readouterr()
    assert stand.verify("--secrets-file", str(same))[0] == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["check"] for c in data["checks"]][-1] == "dbinfo" and _failed(data) == {}

    moved = _db_info_file(tmp_path, stand, host="db-new.example.invalid", port=stand.source.port + 1)
    capsys.readouterr()
    code, _ = stand.verify("--secrets-file", str(moved), timeout=2)
    out = capsys.readouterr()
    assert code == 1  # like every failed check of verify
    failed = _failed(json.loads(out.out))
    assert set(failed) == {"dbinfo"}
    detail = failed["dbinfo"]
    assert (
        f"dbInfo.host is 'db-new.example.invalid' but the running connector has database.hostname = "
        f"'{stand.source.host}'"
    ) in detail
    assert f"dbInfo.port is '{stand.source.port + 1}'" in detail and "fix: run the deploy" in detail
    assert f"dbinfo: {detail}" in out.err
