"""Run the local cluster: a KRaft broker and N Connect workers from the pinned jars.

This is the I/O shell. Properties come from pure functions (:mod:`.broker`,
:mod:`wms_connector.connect.worker_config`); processes are tracked in a state file (:mod:`.state`) so
``up``/``status``/``logs``/``down`` work across CLI runs, and only pids carrying this cluster's
tag are ever signalled (:mod:`.procs`).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

from wms_connector.connect.rest_auth import CREDENTIALS_FILE, RestCredential, jaas_config, jaas_jvm_flag
from wms_connector.connect.secret_refs import LOCAL_SECRET_SOURCES
from wms_connector.connect.worker_config import TopicSizing, WorkerEndpoint, render_properties, worker_config
from wms_connector.errors import InputError, WmsError
from wms_connector.local import procs
from wms_connector.local.broker import broker_properties, new_cluster_id
from wms_connector.local.java import Java, find_java
from wms_connector.local.paths import RuntimeLayout, repo_root
from wms_connector.local.state import (
    ClusterState,
    ProcessEntry,
    WorkerEntry,
    clear_state,
    load_state,
    locked,
    save_state,
)
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage, StageSettings, settings_for

BROKER_MAIN: Final = "kafka.Kafka"
STORAGE_MAIN: Final = "kafka.tools.StorageTool"
WORKER_MAIN: Final = "org.apache.kafka.connect.cli.ConnectDistributed"
#: Small heaps: several people share a 2-core machine.
BROKER_HEAP: Final = ("-Xms128m", "-Xmx512m")
WORKER_HEAP: Final = ("-Xms128m", "-Xmx768m")
#: Serial GC and C1-only JIT: on a shared 2-core machine three JVMs starting at once fight over
#: the cores for C2 compilation; C1 alone cut `local up` from ~24 s to ~16 s (bench/local_start.py).
#: The cost, lower peak throughput, does not matter for a local cluster. The image keeps defaults.
JVM_COMMON: Final = (
    "-Djava.awt.headless=true",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
)
#: One broker: replication factor 1, few partitions (fast to create, nothing to balance).
LOCAL_SIZING: Final = TopicSizing(replication_factor=1, offsets_partitions=3, status_partitions=1)
DEFAULT_TIMEOUT_S: Final = 180.0

LOG4J2: Final = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.eclipse.name = org.eclipse.jetty
logger.eclipse.level = WARN
logger.common.name = org.apache.kafka.common
logger.common.level = WARN
"""

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class LocalCluster:
    """A local cluster rooted at ``state_dir``. The same object serves the CLI and the test fixture."""

    state_dir: Path
    layout: RuntimeLayout
    java: Java | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: More plugin directories after the runtime's (tests only: the JDBC sink of tests/sink/pom.xml).
    extra_plugin_path: tuple[str, ...] = ()
    #: Override the stage's exactly-once switch (benchmarks compare both); None = the stage's.
    exactly_once: bool | None = None
    #: Opt-in: the workers' REST API behind Connect's basic-auth extension, accepting only this
    #: credential (``local up --rest-auth``; connect.rest_auth). None = an open REST API.
    rest_credential: RestCredential | None = None

    def __post_init__(self) -> None:
        # Processes run with the state directory as cwd: every path handed to them is absolute.
        self.state_dir = self.state_dir.resolve()

    # -- paths -------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "config"

    # -- what runs ---------------------------------------------------------------------------
    @property
    def state(self) -> ClusterState:
        state = load_state(self.state_dir)
        if state is None:
            raise WmsError(
                f"no local cluster runs from {self.state_dir}: start one with `wms-connector local up`"
            )
        return state

    @property
    def bootstrap(self) -> str:
        return self.state.bootstrap

    @property
    def rest_urls(self) -> list[str]:
        return self.state.rest_urls

    @property
    def metrics_urls(self) -> list[str]:
        """Each worker's Prometheus JMX exporter endpoint (``.../metrics``), same rules as the image."""
        return self.state.metrics_urls

    @property
    def stage(self) -> Stage:
        return Stage(self.state.stage)

    def liveness(self, state: ClusterState) -> dict[str, bool]:
        entries: list[ProcessEntry] = [state.broker, *state.workers]
        return {entry.name: procs.is_ours(entry.pid, state.tag) for entry in entries}

    # -- up ----------------------------------------------------------------------------------
    def up(
        self,
        stage: Stage,
        workers: int = 2,
        *,
        broker_port: int | None = None,
        progress: Progress = _quiet,
    ) -> tuple[ClusterState, bool]:
        """Start the cluster, or return the one already running. ``(state, started_now)``.

        Holds the state directory's lock, and never trusts the state file alone: processes of
        this directory's cluster that the file does not record (it is missing or damaged) are
        found by their tag and stopped before anything starts on the same data directory."""
        with locked(self.state_dir):
            return self._up(stage, workers, broker_port=broker_port, progress=progress)

    def _up(
        self, stage: Stage, workers: int, *, broker_port: int | None, progress: Progress
    ) -> tuple[ClusterState, bool]:
        if workers < 1:
            raise InputError(f"--workers must be at least 1 (got {workers})")
        if broker_port is not None and not 1 <= broker_port <= 65535:
            raise InputError(f"--broker-port {broker_port} is not a TCP port (1..65535)")
        existing = load_state(self.state_dir)
        stray = self._stop_unrecorded(existing)
        if stray:
            progress(f"stopped {', '.join(stray)}: processes of this directory the state file did not record")
        if existing is not None:
            alive = self.liveness(existing)
            if all(alive.values()):
                if existing.stage != stage.name or len(existing.workers) != workers:
                    raise InputError(
                        f"a local cluster already runs from {self.state_dir} for stage {existing.stage!r} "
                        f"with {len(existing.workers)} worker(s); run `wms-connector local down` before "
                        f"starting one for stage {stage.name!r} with {workers}"
                    )
                return existing, False
            dead = ", ".join(name for name, up in alive.items() if not up)
            progress(f"found state of a crashed run ({dead} not running): cleaning it up")
            self._stop_all(existing)
            clear_state(self.state_dir)
        if broker_port is not None and not procs.port_is_free(broker_port):
            raise InputError(
                f"port 127.0.0.1:{broker_port} is already in use: choose another --broker-port, "
                "or omit it to get a free one"
            )
        return self._start(stage, workers, broker_port, existing, progress), True

    def _pick_port(self, preferred: int | None, taken: set[int]) -> int:
        if preferred is not None and preferred not in taken and procs.port_is_free(preferred):
            taken.add(preferred)
            return preferred
        while True:
            port = procs.free_port()
            if port not in taken:
                taken.add(port)
                return port

    def _java_command(self, heap: tuple[str, ...], tag: str, main: str, *args: str) -> list[str]:
        if self.java is None:
            self.java = find_java()
        return [
            str(self.java.executable),
            *heap,
            *JVM_COMMON,
            f"-Dlog4j2.configurationFile={self.config_dir / 'log4j2.properties'}",
            procs.tag_arg(tag),
            "-cp",
            self.layout.classpath,
            main,
            *args,
        ]

    def _start(
        self,
        stage: Stage,
        workers: int,
        broker_port: int | None,
        previous: ClusterState | None,
        progress: Progress,
    ) -> ClusterState:
        for directory in (self.data_dir, self.logs_dir, self.config_dir):
            directory.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "log4j2.properties").write_text(LOG4J2)
        taken: set[int] = set()
        b_port = self._pick_port(broker_port or (previous.broker.port if previous else None), taken)
        c_port = self._pick_port(previous.controller_port if previous else None, taken)
        tag = uuid.uuid4().hex
        broker_dir = self.data_dir / "broker"
        broker_config = self.config_dir / "broker.properties"
        broker_config.write_text(
            render_properties(
                broker_properties(broker_port=b_port, controller_port=c_port, log_dir=broker_dir)
            )
        )
        cluster_id = self._format(broker_dir, broker_config, tag, progress)

        progress(f"starting the Kafka broker on 127.0.0.1:{b_port}")
        broker_log = self.logs_dir / "broker.log"
        broker_pid = procs.spawn(
            self._java_command(BROKER_HEAP, tag, BROKER_MAIN, str(broker_config)),
            broker_log,
            cwd=self.state_dir,
            env=self.env,
        )
        broker = ProcessEntry(
            name="broker", pid=broker_pid, port=b_port, log=str(broker_log), config=str(broker_config)
        )
        state = ClusterState(
            tag=tag,
            stage=stage.name,
            cluster_id=cluster_id,
            broker=broker,
            controller_port=c_port,
            workers=(),
            started_at=time.time(),
        )
        save_state(self.state_dir, state)
        try:
            self._wait_broker(state)
            old_ports = [w.port for w in previous.workers] if previous else []
            entries: list[WorkerEntry] = []
            for index in range(workers):
                port = self._pick_port(old_ports[index] if index < len(old_ports) else None, taken)
                entries.append(self._spawn_worker(state, stage, index, port, self._pick_port(None, taken)))
                # Recorded at once: if a later spawn fails, the clean-up below (or `local down`)
                # still knows this worker, instead of leaving it running unrecorded.
                state = state.model_copy(update={"workers": tuple(entries)})
                save_state(self.state_dir, state)
            progress(f"starting {workers} Connect worker(s) (group {names_for(stage).group_id})")
            for entry in entries:
                self._wait_worker(state, entry)
            progress("waiting until every worker is in the group")
            self._wait_group(state)
        except BaseException:
            self._stop_all(state)
            clear_state(self.state_dir)
            raise
        return state

    def _format(self, broker_dir: Path, config: Path, tag: str, progress: Progress) -> str:
        meta = broker_dir / "meta.properties"
        if meta.is_file():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
        progress("formatting the broker's KRaft storage")
        cluster_id = new_cluster_id()
        command = self._java_command(
            ("-Xmx256m",), tag, STORAGE_MAIN, "format", "-t", cluster_id, "-c", str(config)
        )
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=dict(self.env), timeout=self.timeout_s
        )
        if result.returncode != 0:
            said = (result.stdout + result.stderr).strip()[-800:]
            raise WmsError(f"formatting the broker storage in {broker_dir} failed: {said}")
        return cluster_id

    def worker_properties(self, state: ClusterState, stage: Stage, port: int) -> dict[str, str]:
        return worker_config(
            stage,
            WorkerEndpoint(
                bootstrap_servers=state.bootstrap,
                advertised_host="127.0.0.1",
                rest_port=port,
                listen_host="127.0.0.1",
            ),
            (*self.layout.plugin_path, *self.extra_plugin_path),
            auth=KafkaAuth.PLAINTEXT,
            sizing=LOCAL_SIZING,
            settings=stage_settings(stage, self.exactly_once),
            secret_sources=LOCAL_SECRET_SOURCES,
            rest_auth=self.rest_credential is not None,
        )

    def _rest_auth_flags(self) -> tuple[str, ...]:
        """The JAAS flag, after writing the credentials file (owner-only) and the JAAS file."""
        if self.rest_credential is None:
            return ()
        self.config_dir.mkdir(parents=True, exist_ok=True)
        credentials = self.config_dir / CREDENTIALS_FILE
        credentials.unlink(missing_ok=True)
        descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(self.rest_credential.properties_line())
        jaas = self.config_dir / "rest-jaas.conf"
        jaas.write_text(jaas_config(str(credentials)))
        return (jaas_jvm_flag(str(jaas)),)

    def _worker_command(self, tag: str, config: str, metrics_port: int) -> list[str]:
        # The image's JMX exporter agent and rules, so local metrics look like production's.
        [agent] = sorted(self.layout.agent_dir.glob("jmx_prometheus_javaagent-*.jar"))
        rules = repo_root() / "runtime" / "jmx-exporter.yaml"
        heap = (
            *WORKER_HEAP,
            f"-javaagent:{agent}=127.0.0.1:{metrics_port}:{rules}",
            *self._rest_auth_flags(),
        )
        return self._java_command(heap, tag, WORKER_MAIN, config)

    def _spawn_worker(
        self, state: ClusterState, stage: Stage, index: int, port: int, metrics_port: int
    ) -> WorkerEntry:
        config = self.config_dir / f"worker-{index}.properties"
        config.write_text(render_properties(self.worker_properties(state, stage, port)))
        log = self.logs_dir / f"worker-{index}.log"
        pid = procs.spawn(
            self._worker_command(state.tag, str(config), metrics_port), log, cwd=self.state_dir, env=self.env
        )
        return WorkerEntry(
            name=f"worker-{index}",
            index=index,
            pid=pid,
            port=port,
            metrics_port=metrics_port,
            log=str(log),
            config=str(config),
        )

    # -- readiness ---------------------------------------------------------------------------
    def _died(self, state: ClusterState, entry: ProcessEntry) -> WmsError:
        tail = procs.log_tail(Path(entry.log))
        hint = ""
        if "Address already in use" in tail:
            hint = f" (port {entry.port} was taken by another process meanwhile: run `local up` again)"
        return WmsError(
            f"the {entry.name} (pid {entry.pid}) died during start-up{hint}; "
            f"last lines of {entry.log}:\n{tail}"
        )

    def _wait(self, state: ClusterState, entry: ProcessEntry, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if not procs.is_ours(entry.pid, state.tag):
                raise self._died(state, entry)
            if ready():
                return
            time.sleep(0.25)
        raise WmsError(
            f"the {entry.name} did not become {what} within {self.timeout_s:.0f} s; "
            f"last lines of {entry.log}:\n"
            f"{procs.log_tail(Path(entry.log))}"
        )

    def _wait_broker(self, state: ClusterState) -> None:
        self._wait(state, state.broker, "ready", lambda: broker_answers(state.bootstrap))

    def _wait_worker(self, state: ClusterState, entry: WorkerEntry) -> None:
        url = f"http://127.0.0.1:{entry.port}"
        self._wait(state, entry, "healthy", lambda: worker_healthy(url, self.rest_credential))

    def _wait_group(self, state: ClusterState) -> None:
        group = names_for(Stage(state.stage)).group_id
        expected = {f"127.0.0.1:{w.port}" for w in state.workers}
        deadline = time.monotonic() + self.timeout_s
        members: set[str] = set()
        while time.monotonic() < deadline:
            for entry in state.workers:
                if not procs.is_ours(entry.pid, state.tag):
                    raise self._died(state, entry)
            members = group_members(state.bootstrap, group)
            if members == expected:
                return
            time.sleep(0.25)
        raise WmsError(
            f"the workers did not all join group {group} within {self.timeout_s:.0f} s "
            f"(expected {sorted(expected)}, in the group: {sorted(members)})"
        )

    # -- single workers (failover tests) -----------------------------------------------------
    def _worker(self, index: int) -> tuple[ClusterState, WorkerEntry]:
        state = self.state
        for entry in state.workers:
            if entry.index == index:
                return state, entry
        raise InputError(f"no worker {index}: this cluster has workers 0..{len(state.workers) - 1}")

    def stop_worker(self, index: int) -> None:
        """Stop one worker gracefully (SIGTERM: it leaves the group at once)."""
        state, entry = self._worker(index)
        procs.stop(entry.pid, state.tag)

    def kill_worker(self, index: int) -> None:
        """Kill one worker (SIGKILL: the group notices after ``session.timeout.ms``)."""
        state, entry = self._worker(index)
        procs.stop(entry.pid, state.tag, hard=True)

    def start_worker(self, index: int, *, wait: bool = True) -> None:
        """Start a stopped worker again on its port, with its config; by default wait until healthy."""
        state, entry = self._worker(index)
        if procs.is_ours(entry.pid, state.tag):
            return
        pid = procs.spawn(
            self._worker_command(state.tag, entry.config, entry.metrics_port),
            Path(entry.log),
            cwd=self.state_dir,
            env=self.env,
        )
        fresh = entry.model_copy(update={"pid": pid})
        state = state.model_copy(
            update={"workers": tuple(fresh if w.index == index else w for w in state.workers)}
        )
        save_state(self.state_dir, state)
        if wait:
            self._wait_worker(state, fresh)

    # -- down --------------------------------------------------------------------------------
    def _stop_all(self, state: ClusterState) -> list[str]:
        stopped = [w.name for w in state.workers if procs.stop(w.pid, state.tag)]
        if procs.stop(state.broker.pid, state.tag, grace_s=30.0):
            stopped.append(state.broker.name)
        return stopped

    def _stop_unrecorded(self, state: ClusterState | None) -> list[str]:
        """Stop this directory's tagged processes that ``state`` does not record (workers first)."""
        recorded = set() if state is None else {state.broker.pid, *(w.pid for w in state.workers)}
        found = {pid: tag for pid, tag in procs.find_tagged(self.state_dir).items() if pid not in recorded}

        def is_worker(pid: int) -> bool:
            try:
                return WORKER_MAIN.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return False

        order = sorted(found, key=lambda pid: not is_worker(pid))
        return [f"pid {pid}" for pid in order if procs.stop(pid, found[pid], grace_s=30.0)]

    def running_state(self) -> ClusterState | None:
        """The recorded cluster when every one of its processes runs, else ``None``."""
        state = load_state(self.state_dir)
        return state if state is not None and all(self.liveness(state).values()) else None

    def down(self, *, wipe: bool = False) -> list[str]:
        """Stop the recorded processes and any unrecorded ones of this directory (found by their
        tag); with ``wipe`` also delete data, logs and configs."""
        with locked(self.state_dir):
            state = load_state(self.state_dir)
            stopped = self._stop_all(state) if state is not None else []
            stopped += self._stop_unrecorded(state)
            clear_state(self.state_dir)
            if wipe:
                import shutil

                for directory in (self.data_dir, self.logs_dir, self.config_dir):
                    shutil.rmtree(directory, ignore_errors=True)
        return stopped

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        state = load_state(self.state_dir)
        if state is None:
            stray = sorted(procs.find_tagged(self.state_dir))
            return {"running": False, "state_dir": str(self.state_dir), "unrecorded_pids": stray}
        alive = self.liveness(state)
        group = names_for(Stage(state.stage)).group_id
        members = group_members(state.bootstrap, group) if alive["broker"] else set()
        workers = []
        for entry in state.workers:
            url = f"http://127.0.0.1:{entry.port}"
            info = worker_info(url) if alive[entry.name] else {}
            workers.append(
                {
                    "name": entry.name,
                    "pid": entry.pid,
                    "alive": alive[entry.name],
                    "rest_url": url,
                    "metrics_url": f"http://127.0.0.1:{entry.metrics_port}/metrics",
                    "worker_id": f"127.0.0.1:{entry.port}",
                    "in_group": f"127.0.0.1:{entry.port}" in members,
                    "version": info.get("version"),
                    "plugins": info.get("plugins", []),
                    "log": entry.log,
                }
            )
        return {
            "running": all(alive.values()),
            "state_dir": str(self.state_dir),
            "stage": state.stage,
            "group_id": group,
            "bootstrap": state.bootstrap,
            "cluster_id": state.cluster_id,
            "broker": {"pid": state.broker.pid, "alive": alive["broker"], "log": state.broker.log},
            "workers": workers,
        }


def stage_settings(stage: Stage, exactly_once: bool | None = None) -> StageSettings:
    """The stage's settings, with its exactly-once switch overridden when ``exactly_once`` is given."""
    settings = settings_for(stage)
    if exactly_once is None:
        return settings
    return settings.model_copy(update={"exactly_once": exactly_once})


# -- probes (each a single bounded request) ------------------------------------------------


def broker_answers(bootstrap: str) -> bool:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, "socket.timeout.ms": 2000})
    try:
        admin.list_topics(timeout=2)
    except Exception:  # any failure means "not yet"
        return False
    return True


def worker_healthy(url: str, credential: RestCredential | None = None) -> bool:
    """``GET /health`` is 200 once the worker's herder has started (joined the group, read its config)."""
    headers = {"Authorization": credential.authorization()} if credential else {}
    try:
        return httpx.get(f"{url}/health", timeout=2, headers=headers).status_code == 200
    except httpx.HTTPError:
        return False


def worker_info(url: str) -> dict[str, Any]:
    try:
        root = httpx.get(f"{url}/", timeout=3).json()
        plugins = httpx.get(f"{url}/connector-plugins", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return {"version": root.get("version"), "plugins": sorted(p["class"] for p in plugins)}


def group_members(bootstrap: str, group: str) -> set[str]:
    """The worker ids (``host:port`` of each REST listener) in the Connect group, as the broker sees it.

    ``describe_consumer_groups`` refuses groups of protocol type ``connect``; the older
    ``list_groups`` (DescribeGroups for any protocol type) still answers, so it is used here.
    A worker's client id is ``connect-<advertised host>:<port>``.
    """
    import warnings

    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            groups = admin.list_groups(group, timeout=5)
        except Exception:  # not ready yet
            return set()
    return {
        str(member.client_id).removeprefix("connect-")
        for found in groups
        if found.id == group and found.state == "Stable"
        for member in found.members
    }
