"""The Connect image, built and run for real against the suite's local broker (issue 11).

One container runs the image as ECS would (entrypoint, ECS metadata endpoint, the password in a
file on a volume that a short-lived secrets container of the same image wrote, never in the
worker's environment) on the host network; the tests check it from the outside, in order, and the last one
stops it with SIGTERM. The image is built once per input fingerprint (``connect_image``).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.connect.rest_auth import PASSWORD_ENV as REST_PASSWORD_ENV
from wms_connector.connect.rest_auth import USER_ENV as REST_USER_ENV
from wms_connector.connect.rest_auth import RestCredential
from wms_connector.connect.secret_refs import (
    ORACLE_PASSWORD_FILE,
    SECRETS_DIR,
    STANDIN_PASSWORD_FILE,
    dir_placeholder,
)
from wms_connector.image.build import Built
from wms_connector.image.engine import Engine
from wms_connector.infra.agent_sidecar import STATE_DIR, STATE_FILE
from wms_connector.infra.connect_service import health_check_command
from wms_connector.local.cluster import LocalCluster, group_members, worker_healthy
from wms_connector.local.fetch import FetchResult
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.procs import free_port
from wms_connector.local.standin import StandInPostgres
from wms_connector.naming import names_for
from wms_connector.stages import Stage

# The first test pays for the image build when its fingerprint is new (a cold machine: minutes).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

STAGE = Stage("it-image")
METADATA = Path(__file__).parent.parent / "data" / "ecs_container_metadata_v4.json"
#: The task IP in the ECS metadata fixture: the worker must advertise it.
FIXTURE_IP = json.loads(METADATA.read_text())["Networks"][0]["IPv4Addresses"][0]
ORACLE_CONNECTOR = "io.debezium.connector.oracle.OracleConnector"
READY_S = 180


@dataclass
class Running:
    name: str
    rest_url: str
    rest_port: int
    metrics_url: str
    password: str
    engine: Engine
    image: Built

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return self.engine.run(["exec", self.name, *argv], check=False, timeout=timeout)

    def logs(self) -> str:
        result = self.engine.run(["logs", self.name], check=False)
        return result.stdout + result.stderr


class _Metadata(http.server.BaseHTTPRequestHandler):
    """The ECS container metadata endpoint (v4), serving the recorded document."""

    def do_GET(self) -> None:
        body = METADATA.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def metadata_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/cd189a933e5849daa93386466019ab50"
    finally:
        server.shutdown()


def docker_run_argv(name: str, image: str, env: dict[str, str], *extra: str) -> list[str]:
    argv = ["run", "--detach", "--name", name, "--network", "host", *extra]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    return [*argv, image]


def container_env(bootstrap: str, rest_port: int, metrics_port: int) -> dict[str, str]:
    return {
        "WMS_STAGE": STAGE.name,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "WMS_LISTEN_HOST": "127.0.0.1",
        "WMS_REST_PORT": str(rest_port),
        "WMS_KAFKA_AUTH": "plaintext",
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        "WMS_TOPIC_REPLICATION_FACTOR": "1",
        "JMX_EXPORTER_PORT": f"127.0.0.1:{metrics_port}",
    }


def docker_with_secret_env(
    engine: Engine, argv: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``docker ARGV`` whose ``--env NAME`` flags take their values from this call's environment."""
    return subprocess.run(
        ["docker", *argv],
        env=engine.environ({**os.environ, **env}),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def write_secrets(engine: Engine, image: str, env: dict[str, str]) -> str:
    """As the task's secrets container does: a fresh volume, the secret files written into it by
    the image's ``write-secrets``, which then exits. Returns the volume's name."""
    volume = f"wms-secrets-{secrets.token_hex(4)}"
    engine.run(["volume", "create", volume])
    argv = ["run", "--rm", "--mount", f"type=volume,source={volume},target={SECRETS_DIR}"]
    for key in env:
        argv += ["--env", key]  # the value comes from this process's environment, never an argv
    result = docker_with_secret_env(engine, [*argv, image, "write-secrets"], env)
    assert result.returncode == 0, result.stderr
    return volume


def secrets_mount(volume: str) -> str:
    return f"type=volume,source={volume},target={SECRETS_DIR},readonly"


def environ_of_every_process(running: Running) -> str:
    """``/proc/*/environ`` of every process in the container, the reading shell's own included."""
    listing = running.exec("sh", "-c", 'for f in /proc/[0-9]*/environ; do cat "$f"; echo; done')
    assert listing.returncode == 0, listing.stderr
    return listing.stdout


#: The REST credential the image's workers get, as the task's secrets container writes it.
REST = RestCredential("wms-connect", SecretStr("rest-" + secrets.token_hex(16)))
REST_ENV = {REST_USER_ENV: REST.user, REST_PASSWORD_ENV: REST.password.get_secret_value()}


def wait_ready(engine: Engine, name: str, url: str, deadline_s: float = READY_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not worker_healthy(url, REST):
        state = engine.run(["inspect", "--format", "{{.State.Status}}", name], check=False).stdout.strip()
        logs = engine.run(["logs", "--tail", "30", name], check=False)
        assert state == "running", f"the container is {state}: {logs.stdout}{logs.stderr}"
        assert time.monotonic() < deadline, f"not ready in {deadline_s} s: {logs.stdout}{logs.stderr}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def running(
    connect_image: Built, docker_engine: Engine, local_cluster: LocalCluster, metadata_endpoint: str
) -> Iterator[Running]:
    rest_port, metrics_port = free_port(), free_port()
    name = f"wms-image-smoke-{secrets.token_hex(4)}"
    password = "smoke-" + secrets.token_urlsafe(18)
    env = {
        **container_env(local_cluster.bootstrap, rest_port, metrics_port),
        # The ECS path: no WMS_ADVERTISED_HOST, the task IP comes from the metadata endpoint.
        "ECS_CONTAINER_METADATA_URI_V4": metadata_endpoint,
    }
    # As ECS injects it from the dbInfo secret: into the secrets container only.
    volume = write_secrets(docker_engine, connect_image.tag, {"ORACLE_PASSWORD": password, **REST_ENV})
    docker_engine.run(docker_run_argv(name, connect_image.tag, env, "--mount", secrets_mount(volume)))
    box = Running(
        name,
        f"http://127.0.0.1:{rest_port}",
        rest_port,
        f"http://127.0.0.1:{metrics_port}/metrics",
        password,
        docker_engine,
        connect_image,
    )
    try:
        wait_ready(docker_engine, name, box.rest_url)
        yield box
    finally:
        docker_engine.run(["rm", "--force", name], check=False)
        docker_engine.run(["volume", "rm", "--force", volume], check=False)


def test_rest_answers_and_lists_the_oracle_connector_and_none_of_our_local_plugins(running: Running) -> None:
    # The REST API answers only the credential (the entrypoint found its file: basic-auth on).
    assert httpx.get(running.rest_url + "/", timeout=10).status_code == 401
    auth = {"Authorization": REST.authorization()}
    root = httpx.get(running.rest_url + "/", timeout=10, headers=auth).json()
    assert root["version"]
    plugins = httpx.get(running.rest_url + "/connector-plugins", timeout=10, headers=auth).json()
    classes = {plugin["class"] for plugin in plugins}
    assert ORACLE_CONNECTOR in classes
    # Besides Debezium's Oracle connector, only Kafka's own MirrorMaker connectors (connect-mirror,
    # on the worker classpath): no stand-in PostgreSQL connector, no FileStream test connectors.
    others = classes - {ORACLE_CONNECTOR}
    assert all(name.startswith("org.apache.kafka.connect.mirror.") for name in others), others


def jvm_uids(engine: Engine, name: str) -> set[str]:
    """The real, effective, saved and fs uids of the container's PID 1, once it is the JVM."""
    deadline = time.monotonic() + 60
    while True:
        cmdline = engine.run(["exec", name, "cat", "/proc/1/cmdline"], check=False).stdout.split("\0")
        if cmdline[0] == "java" and "org.apache.kafka.connect.cli.ConnectDistributed" in cmdline:
            break
        assert time.monotonic() < deadline, f"PID 1 is not the Connect JVM: {cmdline}"
        time.sleep(0.5)
    status = engine.run(["exec", name, "cat", "/proc/1/status"]).stdout
    return set(next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")))


def test_the_jvm_runs_as_uid_10001(running: Running) -> None:
    assert jvm_uids(running.engine, running.name) == {"10001"}
    config_user = running.engine.run(["image", "inspect", "--format", "{{.Config.User}}", running.image.tag])
    assert config_user.stdout.strip() == "10001:10001"


def test_the_uid_check_catches_a_worker_run_as_root(connect_image: Built, docker_engine: Engine) -> None:
    # The same check against the same image forced to root (as a broken USER line would run it).
    name = f"wms-image-root-{secrets.token_hex(4)}"
    env = {
        **container_env(f"127.0.0.1:{free_port()}", free_port(), free_port()),
        "WMS_ADVERTISED_HOST": "127.0.0.1",
    }
    docker_engine.run(docker_run_argv(name, connect_image.tag, env, "--user", "0:0"))
    try:
        assert jvm_uids(docker_engine, name) == {"0"}
    finally:
        docker_engine.run(["rm", "--force", name], check=False)


def _agent_once(engine: Engine, image: str, mount: str) -> subprocess.CompletedProcess[str]:
    """``wms-connector agent --once`` in the image as its own user, its state path on ``mount``
    (``docker run --volume`` syntax), against a Connect port nothing listens on."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "WMS_KAFKA_AUTH": "plaintext",
        "WMS_STANDIN_HOST": "127.0.0.1",
        "WMS_STANDIN_PORT": "5432",
        "WMS_STANDIN_DB": "wms",
        "WMS_STANDIN_USER": "wms",
    }
    argv = ["run", "--rm", "--network", "host", "--volume", mount, "--entrypoint", "wms-connector"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    argv += [image, "agent", "--stage", STAGE.name, "--source", "standin", "--once"]
    argv += ["--connect-url", f"http://127.0.0.1:{free_port()}", "--worker-id", "127.0.0.1:1"]
    argv += ["--state-file", STATE_FILE]
    return engine.run(argv, check=False, timeout=120)


def test_the_agent_writes_its_restart_record_as_uid_10001_on_a_volume_at_the_state_path(
    connect_image: Built, docker_engine: Engine, tmp_path: Path
) -> None:
    # Fargate copies an image directory into a task's bind mount only when the image declares it a
    # VOLUME at the mount's containerPath; otherwise the mount is root:0755.
    volumes = docker_engine.run(
        ["image", "inspect", "--format", "{{json .Config.Volumes}}", connect_image.tag]
    )
    assert STATE_DIR in json.loads(volumes.stdout)
    volume = f"wms-agent-state-{secrets.token_hex(4)}"
    try:
        run = _agent_once(docker_engine, connect_image.tag, f"{volume}:{STATE_DIR}")
        # Exit 1: the worker does not answer (unhealthy), and the record is written anyway.
        assert run.returncode == 1, run.stdout + run.stderr
        assert "restart-record-unwritable" not in run.stderr
        owner = docker_engine.run(
            [
                "run",
                "--rm",
                "--volume",
                f"{volume}:{STATE_DIR}",
                "--entrypoint",
                "stat",
                connect_image.tag,
                "-c",
                "%u:%g",
                STATE_FILE,
            ]
        )
        assert owner.stdout.strip() == "10001:10001"
    finally:
        docker_engine.run(["volume", "rm", "--force", volume], check=False)
    # The same agent on a root-owned bind mount (what Fargate mounts without the VOLUME line): it
    # runs its cycle, logs the unwritable record once and reports it; no traceback.
    root_owned = tmp_path / "state"
    root_owned.mkdir(mode=0o755)
    run = _agent_once(docker_engine, connect_image.tag, f"{root_owned}:{STATE_DIR}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.count('"event": "restart-record-unwritable"') == 1, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["RestartRecordUnwritable"] == 1.0
    assert "Traceback" not in run.stderr


def test_the_ecs_path_advertises_the_task_ip_from_the_metadata_endpoint(
    running: Running, local_cluster: LocalCluster
) -> None:
    assert f"advertised host {FIXTURE_IP}" in running.logs()
    members = group_members(local_cluster.bootstrap, names_for(STAGE).group_id)
    assert members == {f"{FIXTURE_IP}:{running.rest_port}"}


def test_the_synthesized_health_check_passes_live_and_fails_on_a_stopped_worker(running: Running) -> None:
    command = health_check_command(running.rest_port)
    assert command[0] == "CMD"
    live = running.exec(*command[1:])
    assert live.returncode == 0, live.stderr
    # SIGSTOP from outside the container (the daemon; PID 1 ignores it from inside): the JVM stops
    # answering while its socket still accepts, the probe times out.
    running.engine.run(["kill", "--signal", "STOP", running.name])
    try:
        stopped = running.exec(*command[1:])
    finally:
        running.engine.run(["kill", "--signal", "CONT", running.name])
    assert stopped.returncode != 0
    assert "timed out" in stopped.stderr
    deadline = time.monotonic() + 30
    while running.exec(*command[1:]).returncode != 0:
        assert time.monotonic() < deadline, "the worker did not answer again after SIGCONT"
        time.sleep(0.5)


def test_the_jmx_exporter_serves_connect_metrics(running: Running) -> None:
    metrics = httpx.get(running.metrics_url, timeout=20).text
    assert "kafka_connect_connect_worker_metrics_connector_count" in metrics
    assert "kafka_connect_connect_worker_rebalance_metrics_" in metrics
    assert "jvm_memory_used_bytes" in metrics


def test_the_image_cli_runs(running: Running) -> None:
    top = running.exec("wms-connector", "--help")
    assert top.returncode == 0, top.stderr
    assert "worker-config" in top.stdout
    # The connect-agent runs from this image: once its command exists, it must start here too.
    if " agent " in top.stdout:
        agent = running.exec("wms-connector", "agent", "--help")
        assert agent.returncode == 0, agent.stderr
    rendered = running.exec("wms-connector", "worker-config", "--stage", STAGE.name, "--heap-opts")
    assert rendered.returncode == 0 and rendered.stdout.startswith("-X"), rendered


def test_no_secret_in_the_image_its_history_or_the_logs(running: Running) -> None:
    inspect = running.engine.run(["image", "inspect", running.image.tag]).stdout
    history = running.engine.run(["history", "--no-trunc", running.image.tag]).stdout
    logs = running.logs()
    rendered = running.exec("cat", "/opt/connect/run/worker.properties").stdout
    assert "config.providers=dir\n" in rendered and "EnvVarConfigProvider" not in rendered
    for text in (inspect, history, logs, rendered):
        assert running.password not in text
        assert REST.password.get_secret_value() not in text
    # Nothing secret-looking was baked into the image's environment either.
    env = json.loads(inspect)[0]["Config"]["Env"]
    assert not [entry for entry in env if entry.split("=")[0].endswith(("PASSWORD", "SECRET", "TOKEN"))]


def test_no_process_of_the_worker_container_holds_the_password_in_its_environment(running: Running) -> None:
    environ = environ_of_every_process(running)
    assert "ConnectDistributed" in running.exec("cat", "/proc/1/cmdline").stdout
    assert "WMS_STAGE=" in environ  # the listing did read the environments
    assert running.password not in environ
    assert "ORACLE_PASSWORD" not in environ
    # The file is there for the worker's user alone, read-only, and holds exactly the password.
    stat = running.exec("stat", "-c", "%a %u", f"{SECRETS_DIR}/{ORACLE_PASSWORD_FILE}")
    assert stat.stdout.split() == ["400", "10001"], stat
    assert running.exec("cat", f"{SECRETS_DIR}/{ORACLE_PASSWORD_FILE}").stdout == running.password


def test_the_worker_refuses_a_password_in_its_environment(
    connect_image: Built, docker_engine: Engine
) -> None:
    name = f"wms-image-envpw-{secrets.token_hex(4)}"
    env = {
        **container_env(f"127.0.0.1:{free_port()}", free_port(), free_port()),
        "WMS_ADVERTISED_HOST": "127.0.0.1",
    }
    argv = docker_run_argv(name, connect_image.tag, env)
    argv[argv.index("--detach")] = "--env=ORACLE_PASSWORD"
    try:
        result = docker_with_secret_env(docker_engine, argv, {"ORACLE_PASSWORD": "x" * 20}, timeout=60)
        assert result.returncode != 0
        assert "ORACLE_PASSWORD is set in the worker's environment" in result.stderr
        assert "x" * 20 not in result.stdout + result.stderr
    finally:
        docker_engine.run(["rm", "--force", name], check=False)


def test_sigterm_stops_the_worker_gracefully_and_it_leaves_the_group(
    running: Running, local_cluster: LocalCluster
) -> None:
    group = names_for(STAGE).group_id
    started = time.monotonic()
    running.engine.run(["kill", "--signal", "TERM", running.name])
    waited = running.engine.run(["wait", running.name], timeout=15)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"the worker took {elapsed:.1f} s to stop"
    # The JVM's exit status on SIGTERM after its shutdown hooks ran (128 + 15).
    assert waited.stdout.strip() == "143"
    logs = running.logs()
    assert "Kafka Connect stopped" in logs
    assert "Herder stopped" in logs
    # A clean leave: the group is empty at once (a crashed worker would stay until its session expires).
    assert group_members(local_cluster.bootstrap, group) == set()


DEBEZIUM_STAGE = Stage("it-image-dbz")
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def committed_offset(bootstrap: str, topic: str, connector: str) -> object:
    """The last source offset the offsets topic holds for a connector (None when it holds none)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "wms-it-offsets", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        last: object = None
        remaining = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            key = json.loads(message.key() or b"null")
            if isinstance(key, list) and key and key[0] == connector and message.value() is not None:
                last = json.loads(message.value())
            if message.offset() + 1 >= ends[message.partition()]:
                remaining.discard(message.partition())
        return last
    finally:
        consumer.close()


def samples(exposition: str, name: str, labels: dict[str, str]) -> list[float]:
    """The values of the samples called ``name`` whose labels include ``labels`` (Prometheus text)."""
    found = []
    for line in exposition.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        if labels.items() <= dict(_LABEL.findall(match["labels"] or "")).items():
            found.append(float(match["value"]))
    return found


def test_a_running_debezium_task_exports_its_metrics_and_flushes_offsets_on_sigterm(
    connect_image: Built,
    docker_engine: Engine,
    local_cluster: LocalCluster,
    runtime_jars: FetchResult,
    standin_state_dir: Path,
) -> None:
    """Debezium's MBeans exist only while a Debezium task runs, and the Oracle task needs an Oracle.
    So the STAND-IN PostgreSQL plugin (left out of the image) is mounted read-only into a second
    container of the same image: the exporter and rules are the image's own, and Debezium's
    PostgreSQL connector registers the same task-less ``connector-metrics`` names as Oracle's."""
    standin = StandInPostgres(standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    rest_port, metrics_port = free_port(), free_port()
    name = f"wms-image-dbz-{secrets.token_hex(4)}"
    env = {
        **container_env(local_cluster.bootstrap, rest_port, metrics_port),
        "WMS_STAGE": DEBEZIUM_STAGE.name,
        "WMS_ADVERTISED_HOST": "127.0.0.1",
    }
    plugin = runtime_jars.layout.plugins / "debezium-connector-postgres"
    mount = f"type=bind,source={plugin},target=/opt/connect/plugins/debezium-connector-postgres,readonly"
    # The stand-in's password takes the product's path: secrets container, volume, dir provider.
    volume = write_secrets(
        docker_engine, connect_image.tag, {STANDIN_PASSWORD_ENV: standin.password, **REST_ENV}
    )
    try:
        docker_engine.run(
            docker_run_argv(name, connect_image.tag, env, "--mount", mount, "--mount", secrets_mount(volume))
        )
        url = f"http://127.0.0.1:{rest_port}"
        wait_ready(docker_engine, name, url)
        api = HttpConnectApi(url, backoff=BackOff(scale_ms=500, max_attempts=12), credential=REST)
        source = PostgresStandIn(
            standin.host,
            standin.port,
            standin.dbname,
            standin.user,
            password=standin.password,
            password_ref=dir_placeholder(STANDIN_PASSWORD_FILE),
        )
        ensure_local_topics(local_cluster.bootstrap, DEBEZIUM_STAGE)
        connector = register_fresh(api, DEBEZIUM_STAGE, source, local_cluster.bootstrap)
        wait_running(api, connector)
        server = names_for(DEBEZIUM_STAGE).topic_prefix
        labels = {"context": "streaming", "plugin": "postgres", "server": server}
        deadline = time.monotonic() + 90
        while True:
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=20).text
            if samples(metrics, "debezium_metrics_connected", labels) == [1.0]:
                break
            assert time.monotonic() < deadline, [m for m in metrics.splitlines() if "debezium" in m][:10]
            time.sleep(1)
        assert samples(metrics, "debezium_metrics_millisecondssincelastevent", labels)
        assert samples(
            metrics, "kafka_connect_connector_status", {"connector": connector, "status": "running"}
        )
        # Connected to PostgreSQL with the password it read from the file, which no environment holds.
        listing = docker_engine.run(
            ["exec", name, "sh", "-c", 'for f in /proc/[0-9]*/environ; do cat "$f"; echo; done']
        )
        assert "WMS_STAGE=" in listing.stdout and standin.password not in listing.stdout
    finally:
        docker_engine.run(["rm", "--force", name], check=False)
        docker_engine.run(["volume", "rm", "--force", volume], check=False)
        standin.stop()
