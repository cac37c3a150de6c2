"""Drills of the connect-agent on the real local cluster (STAND-IN source), one line each.

Starts its own local cluster (broker + 4 Connect workers, the last two stopped at first), the
STAND-IN PostgreSQL and the stand-in connector, then runs the real ``wms-connector agent``
processes beside the workers, as in ECS tasks:

1. **rolling deploy**: agents on workers 0 and 1 run generation N (the stage's config); workers 2
   and 3 join with agents on generation N+1 (a changed config: ``poll.interval.ms``); 60 s later
   the old pair (workers and agents) stops. Counted from Connect's own config topic (every config
   write and every restart request is a record there): config writes, reverts to N's config, and
   connector restarts (config changes plus restart requests).
2. **unwritable record**: the task FAILED and fails again at every start (the database stopped,
   ``errors.max.retries=0``); the agent runs as uid 10001 with its state directory root-owned 0755
   (a Fargate bind mount without the image's VOLUME). Counted: restarts it issues in 60 s.
3. **hold**: a hold is set, the config changed and the task failed by hand: the agent neither
   reverts nor restarts; released: it reconciles once.

Usage::

    /work/bin/cluster-slot .venv/bin/python bench/agent_drills.py

Prints the machine and load first, the three lines last, exactly in the issue's shape.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, TopicPartition

from _common import load, machine, start_cluster, start_standin
from wms_connector.agent.generation import stamp
from wms_connector.agent.runner import BackgroundAgent
from wms_connector.cli import main as main_cli
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.procs import free_port
from wms_connector.local.standin import StandInPostgres
from wms_connector.naming import names_for
from wms_connector.stages import Stage, settings_for

STAGE = Stage("bench-agent-drills")
AGENT_UID = "10001"  # the image's user
WINDOW_S = 60.0


def agent_env(cluster: LocalCluster, standin: StandInPostgres) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
        "WMS_KAFKA_AUTH": "plaintext",
        "WMS_STANDIN_HOST": standin.host,
        "WMS_STANDIN_PORT": str(standin.port),
        "WMS_STANDIN_DB": standin.dbname,
        "WMS_STANDIN_USER": standin.user,
    }


@dataclass
class AgentProcess:
    """A real ``wms-connector agent`` beside one worker; its JSON log lines are collected."""

    process: subprocess.Popen[str]
    logs: list[dict[str, Any]] = field(default_factory=list)
    reader: threading.Thread | None = None

    def events(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.logs) if e.get("event") == event]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=5)


def start_agent(
    cluster: LocalCluster,
    index: int,
    env: Mapping[str, str],
    *extra: str,
    as_uid: str | None = None,
) -> AgentProcess:
    url = cluster.rest_urls[index]
    argv = [
        str(Path(sys.executable).with_name("wms-connector")),
        "agent",
        "--stage",
        STAGE.name,
        "--source",
        "standin",
        "--connect-url",
        url,
        "--metrics-url",
        cluster.metrics_urls[index],
        "--worker-id",
        f"127.0.0.1:{httpx.URL(url).port}",
        "--healthz-port",
        str(free_port()),
        *extra,
    ]
    if as_uid is not None:
        argv = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups", *argv]
    process = subprocess.Popen(
        argv, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd="/"
    )
    agent = AgentProcess(process)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("{"):
                with suppress(ValueError):
                    agent.logs.append(json.loads(line))

    agent.reader = threading.Thread(target=read, daemon=True)
    agent.reader.start()
    return agent


def holder_index(cluster: LocalCluster, api: HttpConnectApi, name: str) -> int:
    worker = api.status(name)["tasks"][0]["worker_id"]
    port = worker.rsplit(":", 1)[1]
    return next(i for i, url in enumerate(cluster.rest_urls) if url.endswith(f":{port}"))


def wait_for(what: str, done: Callable[[], bool], timeout_s: float, every_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(every_s)
    raise SystemExit(f"drill: {what} did not happen within {timeout_s:g} s")


def task_state(api: HttpConnectApi, name: str) -> str:
    tasks = api.status(name).get("tasks") or []
    return str(tasks[0]["state"]) if tasks else "NONE"


# -- the Connect config topic: every config write and every restart request is a record ----------


@dataclass(frozen=True)
class ConfigRecord:
    key: str
    value: dict[str, Any] | None


@contextmanager
def config_topic(bootstrap: str, topic: str) -> Iterator[Callable[[], list[ConfigRecord]]]:
    """Records appended to Connect's config topic from now on (``read()`` drains what arrived)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"wms-bench-drills-{secrets.token_hex(4)}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    _low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.assign([TopicPartition(topic, 0, high)])

    def read() -> list[ConfigRecord]:
        found = []
        while True:
            message = consumer.poll(1.0)
            if message is None:
                return found
            if message.error():
                continue
            raw = message.value()
            key = (message.key() or b"").decode()
            found.append(ConfigRecord(key, json.loads(raw) if raw else None))

    try:
        yield read
    finally:
        consumer.close()


def connector_configs(records: list[ConfigRecord], name: str) -> list[dict[str, str]]:
    return [
        dict((r.value or {}).get("properties") or {})
        for r in records
        if r.key == f"connector-{name}" and r.value is not None
    ]


def restart_requests(records: list[ConfigRecord], name: str) -> int:
    return sum(1 for r in records if r.key.startswith("restart-connector-") and r.key.endswith(name))


def recover(api: HttpConnectApi, name: str, timeout_s: float = 240) -> None:
    """Back to RUNNING after a drill: restart what failed until the task runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = task_state(api, name)
        if state == "RUNNING":
            return
        if state == "FAILED":
            api.restart(name, include_tasks=True, only_failed=True)
        time.sleep(5)
    raise SystemExit(f"drill: {name} not RUNNING again within {timeout_s:g} s")


@dataclass
class Threads:
    """In-process agents (the same ``Agent`` the command runs) on their own threads, at the
    stage's poll; their log lines are kept."""

    agents: list[BackgroundAgent] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def start(
        self,
        cluster: LocalCluster,
        index: int,
        env: Mapping[str, str],
        *,
        started: float,
        revision: int,
        change: Mapping[str, str] | None = None,
    ) -> BackgroundAgent:
        url = cluster.rest_urls[index]
        agent, _api = build_agent(
            stage_name=STAGE.name,
            source=AgentSource.STANDIN,
            connect_url=url,
            metrics_url=cluster.metrics_urls[index],
            worker_id=f"127.0.0.1:{httpx.URL(url).port}",
            state_file=None,
            reconcile_enabled=True,
            env=env,
            generation_started=started,
            generation_revision=revision,
        )
        if change:
            agent.desired, agent.generation = stamp(
                {**(agent.desired or {}), **change}, started=started, revision=revision
            )
        agent.emit = lambda _line: None
        agent.log = self.logs.append
        running = BackgroundAgent(agent, settings_for(STAGE).agent_poll_interval_ms / 1000).start()
        self.agents.append(running)
        return running

    def stop(self, *which: BackgroundAgent) -> None:
        for agent in which or tuple(self.agents):
            agent.stop()

    def events(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.logs) if e.get("event") == event]


def cli(*argv: str) -> int:
    return main_cli([*argv])


def api_for(cluster: LocalCluster, index: int) -> HttpConnectApi:
    return HttpConnectApi(cluster.rest_urls[index], backoff=BackOff(scale_ms=500, max_attempts=12))


# -- the drills -----------------------------------------------------------------------------------


def drill_unwritable(
    cluster: LocalCluster, api: HttpConnectApi, standin: StandInPostgres, name: str, env: Mapping[str, str]
) -> tuple[int, int]:
    """Restarts issued in 60 s by an agent that cannot write its record, and the budget.

    The task FAILS at every start: its publication does not exist and autocreation is disabled (a
    failure a restart does not cure and that is not one of the unrecoverable classes)."""
    stored = api.get_config(name)
    state = Path(tempfile.mkdtemp(prefix="wms-drill-state-"))
    state.chmod(0o755)  # root-owned 0755: what Fargate mounts without the image's VOLUME
    agent: AgentProcess | None = None
    try:
        # A publication that does not exist, with autocreation disabled: Debezium refuses at every
        # start ("Publication autocreation is disabled, please create one and restart the connector").
        api.put_config(
            name,
            {
                **stored,
                "publication.name": "wms_drill_no_such_publication",
                "publication.autocreate.mode": "disabled",
            },
        )
        wait_for("the task FAILED", lambda: task_state(api, name) == "FAILED", 120)
        index = holder_index(cluster, api, name)
        agent = start_agent(
            cluster,
            index,
            env,
            "--no-reconcile",
            "--state-file",
            str(state / "restarts.json"),
            as_uid=AGENT_UID,
        )
        wait_for("the first restart", lambda: bool(agent and agent.events("restart")), 60)
        time.sleep(WINDOW_S)
        restarts = len(agent.events("restart"))
        unwritable = len(agent.events("restart-record-unwritable"))
        if unwritable != 1:
            raise SystemExit(f"drill: expected one restart-record-unwritable line, got {unwritable}")
    finally:
        if agent is not None:
            agent.stop()
        api.put_config(name, stored)
        recover(api, name)
        shutil.rmtree(state, ignore_errors=True)
    return restarts, settings_for(STAGE).restart_budget


def drill_hold(
    cluster: LocalCluster, api: HttpConnectApi, standin: StandInPostgres, name: str, agents: Threads
) -> tuple[int, int, int]:
    """Hold; the config changed and the task failed by hand; 30 s watched; released.

    Returns reverts and restarts while held, and config writes after the release."""
    bootstrap = ["--stage", STAGE.name, "--source", "standin", "--bootstrap", cluster.bootstrap]
    topic = names_for(STAGE).config_topic
    if cli("hold", *bootstrap, "--reason", "agent drill: hands off", "--for", "10m") != 0:
        raise SystemExit("drill: wms-connector hold failed")
    time.sleep(3 * settings_for(STAGE).agent_poll_interval_ms / 1000)  # every agent has read it
    restarts_before = len(agents.events("restart"))
    with config_topic(cluster.bootstrap, topic) as read:
        live = api.get_config(name)
        changed = {**live, "poll.interval.ms": "4321", "errors.max.retries": "0"}
        with standin.connect(autocommit=True) as conn:
            since = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        api.put_config(name, changed)  # the person's change
        wait_running(api, name)
        with standin.connect(autocommit=True) as conn:

            def cut() -> bool:
                return bool(
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE backend_type = 'walsender' AND backend_start > %s",
                        (since,),
                    ).fetchall()
                )

            wait_for("the task's replication connection", cut, 90, every_s=0.2)
        wait_for("the task FAILED by hand", lambda: task_state(api, name) == "FAILED", 120)
        time.sleep(30.0)
        held = read()
        configs = connector_configs(held, name)
        reverts = len(configs) - 1  # after the person's own write
        restarts = restart_requests(held, name) + len(agents.events("restart")) - restarts_before
        still_failed = task_state(api, name) == "FAILED"
        if not still_failed:
            raise SystemExit("drill: the FAILED task was restarted while held")
        if cli("release", *bootstrap) != 0:
            raise SystemExit("drill: wms-connector release failed")
        time.sleep(20.0)
        after = connector_configs(read(), name)
    recover(api, name)
    return reverts, restarts, len(after)


def drill_rolling_deploy(
    cluster: LocalCluster, api: HttpConnectApi, name: str, env: Mapping[str, str], old: Threads
) -> tuple[int, int, int]:
    """Generation N on workers 0 and 1; 2 and 3 join with N+1 (a changed setting); 60 s later the
    old pair stops. Config writes, reverts to N's setting, connector restarts (config changes and
    restart requests), from Connect's config topic."""
    topic = names_for(STAGE).config_topic
    new = Threads(logs=old.logs)
    changed = {"poll.interval.ms": "777"}
    started = time.time()
    with config_topic(cluster.bootstrap, topic) as read:
        for index in (2, 3):
            cluster.start_worker(index)
        for index in (2, 3):
            new.start(cluster, index, env, started=started + index, revision=5, change=changed)
        time.sleep(60.0)
        old.stop()
        for index in (0, 1):
            cluster.stop_worker(index)
        wait_running(api, name, timeout_s=180)
        time.sleep(30.0)
        records = read()
    new.stop()
    configs = connector_configs(records, name)
    reverts = sum(1 for c in configs if c.get("poll.interval.ms") != changed["poll.interval.ms"])
    restarts = len(configs) + restart_requests(records, name)
    return len(configs), reverts, restarts


def main() -> None:
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "bench-" + secrets.token_urlsafe(12))
    print(machine())
    print(f"start: {load()}")
    lines: list[str] = []
    with ExitStack() as stack:
        cluster = start_cluster(stack, STAGE, 4)
        for index in (2, 3):  # the next deploy's workers join later (rolling deploy drill)
            cluster.stop_worker(index)
        standin = start_standin(stack)
        standin.keep_data = True
        stack.callback(setattr, standin, "keep_data", False)
        api = HttpConnectApi(cluster.rest_urls[1], backoff=BackOff(scale_ms=500, max_attempts=12))
        stack.callback(api.close)
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        ensure_local_topics(cluster.bootstrap, STAGE)
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name)
        env = agent_env(cluster, standin)
        restarts, budget = drill_unwritable(cluster, api, standin, name, env)
        print(f"unwritable record done: {load()}")
        unwritable = f"unwritable record: restarts in {WINDOW_S:.0f} s {restarts}, budget {budget}"
        old = Threads()
        now = time.time()
        for index in (0, 1):
            old.start(cluster, index, env, started=now - 3600 + index, revision=4)
        stack.callback(old.stop)
        wait_for(
            "the old generation's agents see it healthy", lambda: task_state(api, name) == "RUNNING", 120
        )
        time.sleep(10)
        reverts, held_restarts, reconciled = drill_hold(cluster, api, standin, name, old)
        print(f"hold done: {load()}")
        hold = f"hold: reverts {reverts}, restarts {held_restarts}, reconciled after release {reconciled}"
        writes, deploy_reverts, deploy_restarts = drill_rolling_deploy(
            cluster, api_for(cluster, 3), name, env, old
        )
        print(f"rolling deploy done: {load()}")
        lines += [
            f"rolling deploy: config writes {writes}, reverts {deploy_reverts}, "
            f"connector restarts {deploy_restarts}",
            unwritable,
            hold,
        ]
    print(f"end: {load()}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
