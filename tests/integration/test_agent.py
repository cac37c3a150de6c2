"""The connect-agent against the real local cluster (two workers) and the STAND-IN PostgreSQL.

Two agents run, one per worker, as in two ECS tasks. Each test drives their cycles (the same
``Agent.cycle`` the command runs at its poll period) and reads the real REST API, exporter page and
topics. The last tests run the real ``wms-connector agent`` process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from wms_connector.agent.loop import Agent, CycleReport
from wms_connector.agent.policy import Gate, Policy, Verdict
from wms_connector.cli import main
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.connect import exposition
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, ConnectRestError, HttpConnectApi
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register_fresh, wait_running
from wms_connector.local.procs import free_port
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES, AgentMetric, names_for
from wms_connector.stages import settings_for

pytestmark = pytest.mark.integration
TABLE = CAPTURED_TABLES[0]


@dataclass
class Bed:
    cluster: Any
    standin: StandInPostgres
    api: HttpConnectApi
    env: dict[str, str]
    name: str
    tail: EventTail
    lines: list[str]
    logs: list[dict[str, Any]]
    next_key: int = 7000

    def agent(self, index: int, policy: Policy | None = None) -> Agent:
        url = self.cluster.rest_urls[index]
        agent, _api = build_agent(
            stage_name=self.cluster.stage.name,
            source=AgentSource.STANDIN,
            connect_url=url,
            metrics_url=self.cluster.metrics_urls[index],
            worker_id=f"127.0.0.1:{httpx.URL(url).port}",
            state_file=None,
            reconcile_enabled=True,
            env=self.env,
            policy=policy,
        )
        agent.emit = self.lines.append
        agent.log = self.logs.append
        return agent

    def agents(self, policy: Policy | None = None) -> list[Agent]:
        return [self.agent(i, policy) for i in range(len(self.cluster.rest_urls))]

    def holder(self, agents: list[Agent]) -> Agent:
        worker = self.api.status(self.name)["tasks"][0]["worker_id"]
        return next(a for a in agents if a.own_worker == worker)

    def insert_and_see(self, timeout_s: float = 90.0) -> int:
        key = self.next_key
        self.next_key += 1
        with self.standin.connect() as conn:
            apply(conn, Change(TABLE, Op.CREATE, key, waiver_row(TABLE, key)))
        events = self.tail.collect(
            lambda es: any(e.op == "c" and key in e.key.values() for e in es), timeout_s
        )
        assert any(e.op == "c" and key in e.key.values() for e in events), f"row {key} never arrived"
        return key


@pytest.fixture(scope="module")
def bed(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Bed]:
    yield from open_bed(local_cluster, module_standin_state_dir)


def open_bed(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Bed]:
    """A stand-in with its connector RUNNING on the cluster (other agent test modules use it too)."""
    standin = StandInPostgres(
        module_standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV], keep_data=True
    ).start()
    api = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
    source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
    ensure_local_topics(local_cluster.bootstrap, local_cluster.stage)
    names = names_for(local_cluster.stage)
    tail = EventTail(local_cluster.bootstrap, [names.data_topic(TABLE)], from_now=True)
    name = register_fresh(api, local_cluster.stage, source, local_cluster.bootstrap)
    wait_running(api, name)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": local_cluster.bootstrap,
        "WMS_KAFKA_AUTH": "plaintext",
        "WMS_STANDIN_HOST": standin.host,
        "WMS_STANDIN_PORT": str(standin.port),
        "WMS_STANDIN_DB": standin.dbname,
        "WMS_STANDIN_USER": standin.user,
    }
    yield Bed(local_cluster, standin, api, env, name, tail, [], [])
    tail.close()
    with contextlib.suppress(ConnectRestError):
        api.delete(name)
    api.close()
    standin.keep_data = False
    standin.stop()


def cycle_until(
    agents: list[Agent], done: Callable[[list[CycleReport]], bool], timeout_s: float, every_s: float = 1.0
) -> list[list[CycleReport]]:
    """Run every agent's cycle each ``every_s`` until ``done(last reports)``; returns all rounds."""
    rounds: list[list[CycleReport]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rounds.append([a.cycle() for a in agents])
        if done(rounds[-1]):
            return rounds
        time.sleep(every_s)
    raise AssertionError(
        f"not done after {timeout_s} s; last: {[(r.decision.assessment.reason) for r in rounds[-1]]}"
    )


def healthy(reports: list[CycleReport]) -> bool:
    return any(r.decision.assessment.verdict is Verdict.HEALTHY for r in reports)


def test_deleted_connector_is_recreated_by_the_agents(bed: Bed) -> None:
    agents = bed.agents()
    bed.api.delete(bed.name)
    first = [a.cycle() for a in agents]
    # Two agents reconcile at once without harm: one creates, the other then finds it equal (or
    # both write the same config); each says what it did.
    assert "created" in [r.reconcile for r in first]
    assert {r.reconcile for r in first} <= {"created", "unchanged", "updated"}
    assert any(e.get("outcome") == "created" and e.get("by_worker") for e in bed.logs)
    cycle_until(agents, healthy, 120)
    bed.insert_and_see()


def test_config_changed_by_hand_is_restored(bed: Bed) -> None:
    agents = bed.agents()
    desired = dict(agents[0].desired or {})
    changed = {**bed.api.get_config(bed.name), "poll.interval.ms": "4321"}
    bed.api.put_config(bed.name, changed)
    report = agents[0].cycle()
    assert report.reconcile == "updated"
    assert bed.api.get_config(bed.name)["poll.interval.ms"] == desired["poll.interval.ms"]
    assert agents[1].cycle().reconcile == "unchanged"
    cycle_until(agents, healthy, 120)


def test_emf_lines_carry_lag_scraped_from_the_real_exporter(bed: Bed) -> None:
    agents = bed.agents()
    cycle_until(agents, healthy, 120)
    bed.insert_and_see()
    holder = bed.holder(agents)
    index = agents.index(holder)
    line = json.loads(holder.cycle().emf)
    page = httpx.get(bed.cluster.metrics_urls[index]).text
    streaming = exposition.debezium(exposition.parse(page), server=holder.names.topic_prefix)
    assert line[AgentMetric.LAG_MS.value] == streaming["millisecondsbehindsource"] >= 0
    assert line[AgentMetric.CONNECTED.value] == 1.0
    assert line[AgentMetric.QUEUE_REMAINING.value] == streaming["queueremainingcapacity"]
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == holder.names.metric_namespace
    other = json.loads(agents[1 - index].cycle().emf)
    assert AgentMetric.LAG_MS.value not in other and other[AgentMetric.HEARTBEAT.value] == 1


def test_unreachable_database_at_create_is_retried_with_backoff_and_reported(bed: Bed) -> None:
    agents = bed.agents()
    bed.standin.stop_server()
    try:
        bed.api.delete(bed.name)
        # Each agent's next cycle right after its own failed create: backing off. (Cycling all agents
        # first and then again would let one agent's slow failure outlast the other's back-off.)
        first, again = [], []
        for agent in agents:
            first.append(agent.cycle())
            again.append(agent.cycle())
        # Connect validates before storing: nothing is created, each agent reports it and goes on.
        messages = [e.get("message") for e in bed.logs if e.get("event") == "reconcile"]
        assert [r.reconcile for r in first] == ["database-unreachable"] * len(agents), messages
        assert all(r.decision.assessment.verdict is Verdict.MISSING for r in first)
        assert [r.reconcile for r in again] == ["skipped"] * len(agents)
        assert any(e.get("outcome") == "database-unreachable" and e.get("retry_in_s") for e in bed.logs)
    finally:
        bed.standin.start_server()
    cycle_until(agents, healthy, 180, every_s=2.0)
    bed.insert_and_see()


def test_database_stopped_is_detected_restarted_by_the_holder_only_and_recovers(bed: Bed) -> None:
    settings = settings_for(bed.cluster.stage)
    threshold_s = settings.restart_after_unhealthy_ms / 1000
    agents = bed.agents()
    cycle_until(agents, healthy, 120)
    holder = bed.holder(agents)
    bystander = next(a for a in agents if a is not holder)
    stopped_at = time.monotonic()
    bed.standin.stop_server()
    try:
        rounds = cycle_until(
            agents,
            lambda reports: reports[agents.index(holder)].decision.assessment.verdict is Verdict.DISCONNECTED,
            threshold_s,
        )
        detected_s = time.monotonic() - stopped_at
        status = bed.api.status(bed.name)
        assert status["tasks"][0]["state"] == "RUNNING"  # Connect still says RUNNING
        assert detected_s <= threshold_s
        rounds += cycle_until(
            agents, lambda reports: reports[agents.index(holder)].restarts_issued > 0, threshold_s + 30
        )
        restarted_s = time.monotonic() - stopped_at
        assert restarted_s >= threshold_s
    finally:
        bed.standin.start_server()
    rounds += cycle_until(agents, healthy, 180, every_s=2.0)
    bed.insert_and_see()
    # Only the holder's agent ever restarted it.
    assert all(r[agents.index(bystander)].restarts_issued == 0 for r in rounds)
    assert holder.memory.restarts.count >= 1


def test_budget_exhausted_stops_restarting_and_reports(bed: Bed) -> None:
    base = Policy.from_settings(settings_for(bed.cluster.stage))
    policy = replace(base, budget=1, restart_after_unhealthy_ms=3_000, backoff_base_ms=1_000)
    agents = bed.agents(policy)
    cycle_until(agents, healthy, 120)
    holder = bed.holder(agents)
    bed.standin.stop_server()
    try:
        rounds = cycle_until(
            [holder], lambda reports: reports[0].decision.gate is Gate.EXHAUSTED, 90, every_s=1.0
        )
        more: list[list[CycleReport]] = []
        for _ in range(5):
            more.append([holder.cycle()])
            time.sleep(1)
        issued = sum(r[0].restarts_issued for r in rounds + more)
        assert issued == 1
        line = json.loads(more[-1][0].emf)
        assert line[AgentMetric.BUDGET_EXHAUSTED.value] == 1.0
        assert line[AgentMetric.RESTART_COUNT.value] == 1
        assert any(e.get("gate") == "budget-exhausted" for e in bed.logs if e.get("event") == "verdict")
    finally:
        bed.standin.start_server()
    # A person (here: the test) restarts it once the cause is gone.
    bed.api.restart(bed.name, include_tasks=True)
    wait_running(bed.api, bed.name, timeout_s=120)
    cycle_until(agents, healthy, 120, every_s=2.0)


def _start_agent_process(bed: Bed, index: int, healthz_port: int) -> subprocess.Popen[str]:
    url = bed.cluster.rest_urls[index]
    command = [
        sys.executable,
        "-m",
        "wms_connector.cli",
        "agent",
        "--stage",
        bed.cluster.stage.name,
        "--source",
        "standin",
        "--connect-url",
        url,
        "--metrics-url",
        bed.cluster.metrics_urls[index],
        "--worker-id",
        f"127.0.0.1:{httpx.URL(url).port}",
        "--poll",
        "1",
        "--healthz-port",
        str(healthz_port),
    ]
    return subprocess.Popen(
        command, env={**os.environ, **bed.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_healthz(port: int, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if answer.status_code == 200:
                body: dict[str, Any] = answer.json()
                return body
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the agent's /healthz never answered 200")


def test_agent_process_killed_leaves_the_worker_unaffected(bed: Bed) -> None:
    port = free_port()
    process = _start_agent_process(bed, 0, port)
    try:
        assert _wait_healthz(port)["worker_reachable"] is True
    finally:
        process.send_signal(signal.SIGKILL)
        out, _err = process.communicate(timeout=30)
    emf = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert emf and all(line[AgentMetric.HEARTBEAT.value] == 1 for line in emf)
    assert httpx.get(bed.cluster.rest_urls[0]).status_code == 200
    wait_running(bed.api, bed.name, timeout_s=60)
    bed.insert_and_see()


def test_agent_process_exits_cleanly_on_sigterm(bed: Bed) -> None:
    port = free_port()
    process = _start_agent_process(bed, 1, port)
    _wait_healthz(port)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[0] == "started" and events[-1] == "stopping"


def test_status_command_shows_a_healthy_connector_and_exits_0(
    bed: Bed, capsys: pytest.CaptureFixture[str]
) -> None:
    agents = bed.agents()
    cycle_until(agents, healthy, 120)
    worker = bed.api.status(bed.name)["tasks"][0]["worker_id"]
    index = next(i for i, url in enumerate(bed.cluster.rest_urls) if url.endswith(worker.split(":")[1]))
    argv = [
        "status",
        "--stage",
        bed.cluster.stage.name,
        "--source",
        "standin",
        "--connect-url",
        bed.cluster.rest_urls[1 - index],  # any worker answers for the whole group
        "--metrics-url",
        bed.cluster.metrics_urls[index],
        "--json",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["verdict"], data["state"], data["connected"]) == ("healthy", "RUNNING", True)
    assert data["tasks"][0]["worker"] == worker
    assert main(argv[:-1]) == 0
    assert "healthy" in capsys.readouterr().out


def test_status_command_exits_1_for_a_missing_connector(bed: Bed, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["status", "--stage", "other-stage", "--connect-url", bed.cluster.rest_urls[0], "--json"]
    assert main(argv) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "missing"
