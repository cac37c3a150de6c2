"""The agent's small parts: EMF rendering, the restart record file, the desired config from the
environment, /healthz (over real HTTP on loopback), and the worker identity from ECS metadata."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from wms_connector.agent.desired import NOT_IN_AGENT, desired_from_env
from wms_connector.agent.emf import Sample, cycle_metrics, render
from wms_connector.agent.identity import own_worker_id
from wms_connector.agent.loop import CycleReport
from wms_connector.agent.policy import (
    ConnectorStatus,
    Memory,
    Observation,
    Policy,
    RestartRecord,
    Streaming,
    TaskStatus,
    decide,
)
from wms_connector.agent.server import HealthServer, healthz
from wms_connector.agent.state import RecordFile
from wms_connector.connect.connector_config import ORACLE_PASSWORD_ENV, env_placeholder
from wms_connector.errors import InputError, WmsError
from wms_connector.naming import METRIC_DIMENSIONS, AgentMetric, names_for
from wms_connector.stages import Stage, settings_for

ME = "10.0.1.5:8083"
NAMES = names_for(Stage("main"))
POLICY = Policy.from_settings(settings_for(Stage("main")))
METADATA = Path(__file__).parent.parent / "data" / "ecs_container_metadata_v4.json"


def running(worker: str = ME) -> ConnectorStatus:
    return ConnectorStatus("RUNNING", worker, (TaskStatus(0, "RUNNING", worker),))


def test_emf_line_is_cloudwatch_embedded_metric_format() -> None:
    line = render(
        namespace=NAMES.metric_namespace,
        dimensions=NAMES.metric_dimensions(NAMES.connector),
        samples=[Sample(AgentMetric.HEARTBEAT, 1), Sample(AgentMetric.LAG_MS, 250.0)],
        timestamp_ms=1_700_000_000_000,
    )
    doc = json.loads(line)
    assert "\n" not in line
    assert doc["_aws"] == {
        "Timestamp": 1_700_000_000_000,
        "CloudWatchMetrics": [
            {
                "Namespace": "wms-connector-main",
                "Dimensions": [list(METRIC_DIMENSIONS)],
                "Metrics": [
                    {"Name": "AgentHeartbeat", "Unit": "Count"},
                    {"Name": "MilliSecondsBehindSource", "Unit": "Milliseconds"},
                ],
            }
        ],
    }
    assert (doc["Stage"], doc["Connector"]) == ("main", "wms-connector-main-oracle")
    assert (doc["AgentHeartbeat"], doc["MilliSecondsBehindSource"]) == (1, 250.0)


def test_emf_refuses_missing_dimensions() -> None:
    with pytest.raises(ValueError, match="dimensions missing"):
        render(namespace="n", dimensions={"Stage": "main"}, samples=[], timestamp_ms=0)


def _metrics(observation: Observation, me: str = ME) -> dict[AgentMetric, float]:
    decision = decide(observation, Memory(), me, 0.0, POLICY)
    samples = cycle_metrics(observation, decision, restarts_issued=0, stale_event_ms=POLICY.stale_event_ms)
    return {s.metric: s.value for s in samples}


def test_owner_reports_fresh_lag_and_the_other_agent_only_state() -> None:
    streaming = Streaming(
        connected=True, ms_behind_source=120.0, ms_since_last_event=800.0, queue_remaining=8192
    )
    observation = Observation(True, running(), True, streaming)
    owner = _metrics(observation)
    assert owner[AgentMetric.LAG_MS] == 120.0
    assert owner[AgentMetric.CONNECTED] == 1.0
    assert owner[AgentMetric.CONNECTOR_UP] == 1.0
    assert owner[AgentMetric.RESTART_COUNT] == 0
    other = _metrics(Observation(True, running(), True, None), me="10.0.9.9:8083")
    assert set(other) == {
        AgentMetric.HEARTBEAT,
        AgentMetric.WORKER_REACHABLE,
        AgentMetric.CONNECTOR_UP,
        AgentMetric.CONNECTOR_FAILED,
        AgentMetric.HEALTHY,
        AgentMetric.UNRECOVERABLE,
    }


def test_stale_lag_is_not_reported() -> None:
    stale = Streaming(connected=True, ms_behind_source=120.0, ms_since_last_event=POLICY.stale_event_ms + 1)
    metrics = _metrics(Observation(True, running(), True, stale))
    assert AgentMetric.LAG_MS not in metrics
    assert metrics[AgentMetric.SINCE_LAST_EVENT_MS] == POLICY.stale_event_ms + 1


def test_oracle_scn_figures_and_archive_log_headroom() -> None:
    streaming = Streaming(
        connected=True,
        offset_scn=1000.0,
        current_scn=1250.0,
        oldest_scn_age_ms=3_600_000.0,
        scn_freeze_count=2,
    )
    observation = Observation(True, running(), True, streaming)
    decision = decide(observation, Memory(), ME, 0.0, POLICY)
    samples = cycle_metrics(
        observation,
        decision,
        restarts_issued=0,
        stale_event_ms=1,
        archive_retention_ms=POLICY.archive_retention_ms,
    )
    metrics = {s.metric: s.value for s in samples}
    assert metrics[AgentMetric.SCN_GAP] == 250.0
    assert metrics[AgentMetric.OLDEST_SCN_AGE_MS] == 3_600_000.0
    assert metrics[AgentMetric.ARCHIVE_HEADROOM_MS] == 86_400_000 - 3_600_000
    assert metrics[AgentMetric.SCN_FREEZE_COUNT] == 2


def test_unreachable_worker_still_sends_the_heartbeat() -> None:
    metrics = _metrics(Observation(False, None))
    assert metrics == {AgentMetric.HEARTBEAT: 1, AgentMetric.WORKER_REACHABLE: 0.0}


def test_restart_record_survives_a_new_file_object(tmp_path: Path) -> None:
    file = RecordFile(tmp_path / "vol" / "restarts.json")
    assert file.load() == (RestartRecord(), None)
    file.save(RestartRecord(2, 50.0, (10.0, 50.0)))
    assert RecordFile(file.path).load() == (RestartRecord(2, 50.0, (10.0, 50.0)), None)
    file.path.write_text("{not json")
    record, problem = file.load()
    assert record == RestartRecord() and problem is not None and "unreadable" in problem


ORACLE_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "b-1.msk:9094,b-2.msk:9094",
    "ORACLE_HOST": "wms-db.internal",
    "ORACLE_PORT": "1521",
    "ORACLE_DB": "WMSCDB",
    "ORACLE_PDB": "WMSPDB",
    "ORACLE_USER": "c##dbzuser",
}


def test_desired_config_from_the_task_environment_has_no_password() -> None:
    name, config = desired_from_env(Stage("main"), "oracle", ORACLE_ENV)
    assert name == NAMES.connector
    assert config["database.hostname"] == "wms-db.internal"
    assert config["database.pdb.name"] == "WMSPDB"
    assert config["database.password"] == env_placeholder(ORACLE_PASSWORD_ENV)
    assert NOT_IN_AGENT not in json.dumps(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ORACLE_HOST": ""}, "lacks ORACLE_HOST"),
        ({"ORACLE_PORT": "15x1"}, "ORACLE_PORT='15x1' is not a port"),
        ({"WMS_KAFKA_AUTH": "kerberos"}, "WMS_KAFKA_AUTH='kerberos'"),
    ],
)
def test_bad_agent_environment_is_a_clear_error(change: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        desired_from_env(Stage("main"), "oracle", {**ORACLE_ENV, **change})


def _report(at: float, reachable: bool) -> CycleReport:
    observation = Observation(reachable, running() if reachable else None, True, Streaming(connected=True))
    decision = decide(observation, Memory(), ME, at, POLICY)
    return CycleReport(at, observation, decision, "unchanged", 0, "")


def test_healthz_reflects_agent_and_worker_never_the_database() -> None:
    assert healthz(None, 0.0, 20.0)[0] == 503
    assert healthz(_report(100.0, True), 110.0, 20.0) == (
        200,
        {
            "agent": "ok",
            "last_cycle_age_s": 10.0,
            "worker_reachable": True,
            "verdict": "healthy",
            "reason": "task RUNNING here and connected",
            "restart_count": 0,
            "restarts_in_window": 0,
            "last_restart": None,
            "gate": None,
            "hold": {"state": "none", "hold": None, "remaining_s": None, "problem": None},
            "reconcile": "unchanged",
        },
    )
    assert healthz(_report(100.0, True), 130.0, 20.0)[1]["agent"] == "stuck"
    assert healthz(_report(100.0, False), 101.0, 20.0)[0] == 503
    # A disconnected database leaves the agent healthy.
    down = Observation(True, running(), True, None)
    report = CycleReport(100.0, down, decide(down, Memory(), ME, 100.0, POLICY), "unchanged", 0, "")
    assert healthz(report, 101.0, 20.0)[0] == 200


def test_healthz_over_http() -> None:
    import time

    report = _report(time.time(), True)
    server = HealthServer("127.0.0.1", 0, lambda: report, 20.0).start()
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        assert answer.status_code == 200 and answer.json()["verdict"] == "healthy"
        assert httpx.get(f"http://127.0.0.1:{server.port}/other").status_code == 404
    finally:
        server.stop()


def test_own_worker_id_from_the_ecs_metadata_endpoint() -> None:
    body = METADATA.read_bytes()
    expected_ip = json.loads(body)["Networks"][0]["IPv4Addresses"][0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}/v4/abc"
        assert own_worker_id({"ECS_CONTAINER_METADATA_URI_V4": uri}, 8083) == f"{expected_ip}:8083"
    finally:
        server.shutdown()
        server.server_close()
    assert own_worker_id({}, 8083, "127.0.0.1:9000") == "127.0.0.1:9000"
    with pytest.raises(WmsError, match="--worker-id"):
        own_worker_id({}, 8083)


@pytest.mark.parametrize(
    "message",
    [
        "Error while validating connector config: Connection to 127.0.0.1:52477 refused. Check that the "
        "hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
        "Unable to connect (primary): Failed to resolve Oracle database version",
    ],
)
def test_refusals_that_mean_the_database_is_unreachable(message: str) -> None:
    from wms_connector.connect.rest import is_unreachable_message

    assert is_unreachable_message(message)
    assert not is_unreachable_message("database.user: A value is required")
