"""Run the local cluster: KRaft broker(s) and N Connect workers from the pinned jars.

One broker by default; ``brokers=3`` gives production's shape (three brokers, one controller-only
node, replication factor 3, ``min.insync.replicas=2``: :mod:`.broker`), with the operations the MSK
maintenance drills need (stop, kill, freeze, start with an empty data directory, a worker added
before another is retired).

This is the I/O shell. Properties come from pure functions (:mod:`.broker`,
:mod:`wms_connector.connect.worker_config`); processes are tracked in a state file (:mod:`.state`) so
``up``/``status``/``logs``/``down`` work across CLI runs, and only pids carrying this cluster's
tag are ever signalled (:mod:`.procs`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import httpx

from wms_connector.connect.rest_auth import CREDENTIALS_FILE, RestCredential, jaas_config, jaas_jvm_flag
from wms_connector.connect.secret_refs import LOCAL_SECRET_SOURCES
from wms_connector.connect.worker_config import TopicSizing, WorkerEndpoint, render_properties, worker_config
from wms_connector.errors import InputError, WmsError
from wms_connector.local import procs
from wms_connector.local.broker import (
    CONTROLLER_NODE_ID,
    broker_properties,
    cluster_broker_properties,
    controller_properties,
    new_cluster_id,
    replication_for,
)
from wms_connector.local.java import Java, find_java
from wms_connector.local.paths import RuntimeLayout, repo_root
from wms_connector.local.state import (
    BrokerEntry,
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
CONTROLLER_HEAP: Final = ("-Xms64m", "-Xmx256m")
#: ``local up --brokers N``: 1 (the default) or production's 3; more only costs memory.
MAX_BROKERS: Final = 5
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
        entries: list[ProcessEntry] = [*state.nodes, *state.workers]
        return {entry.name: procs.is_ours(entry.pid, state.tag) for entry in entries}

    # -- up ----------------------------------------------------------------------------------
    def up(
        self,
        stage: Stage,
        workers: int = 2,
        *,
        brokers: int = 1,
        broker_port: int | None = None,
        progress: Progress = _quiet,
    ) -> tuple[ClusterState, bool]:
        """Start the cluster, or return the one already running. ``(state, started_now)``.

        Holds the state directory's lock, and never trusts the state file alone: processes of
        this directory's cluster that the file does not record (it is missing or damaged) are
        found by their tag and stopped before anything starts on the same data directory."""
        with locked(self.state_dir):
            return self._up(stage, workers, brokers, broker_port=broker_port, progress=progress)

    def _up(
        self, stage: Stage, workers: int, brokers: int, *, broker_port: int | None, progress: Progress
    ) -> tuple[ClusterState, bool]:
        if workers < 1:
            raise InputError(f"--workers must be at least 1 (got {workers})")
        if not 1 <= brokers <= MAX_BROKERS:
            raise InputError(f"--brokers must be 1 to {MAX_BROKERS} (got {brokers}); production has 3")
        if broker_port is not None and not 1 <= broker_port <= 65535:
            raise InputError(f"--broker-port {broker_port} is not a TCP port (1..65535)")
        existing = load_state(self.state_dir)
        stray = self._stop_unrecorded(existing)
        if stray:
            progress(f"stopped {', '.join(stray)}: processes of this directory the state file did not record")
        if existing is not None:
            alive = self.liveness(existing)
            if all(alive.values()):
                if (
                    existing.stage != stage.name
                    or len(existing.workers) != workers
                    or len(existing.brokers) != brokers
                ):
                    raise InputError(
                        f"a local cluster already runs from {self.state_dir} for stage {existing.stage!r} "
                        f"with {len(existing.brokers)} broker(s) and {len(existing.workers)} worker(s); "
                        f"run `wms-connector local down` before starting one for stage {stage.name!r} "
                        f"with {brokers} broker(s) and {workers} worker(s)"
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
        if existing is not None and len(existing.brokers) != brokers:
            raise InputError(
                f"the data in {self.data_dir} is of a cluster with {len(existing.brokers)} broker(s): "
                f"run `wms-connector local down --wipe` before starting one with {brokers}"
            )
        return self._start(stage, workers, broker_port, existing, progress, brokers=brokers), True

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
        *,
        brokers: int,
    ) -> ClusterState:
        for directory in (self.data_dir, self.logs_dir, self.config_dir):
            directory.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "log4j2.properties").write_text(LOG4J2)
        taken: set[int] = set()
        old_ports = [b.port for b in previous.brokers] if previous else []
        b_ports = [
            self._pick_port(
                broker_port
                if index == 0 and broker_port
                else (old_ports[index] if index < len(old_ports) else None),
                taken,
            )
            for index in range(brokers)
        ]
        c_port = self._pick_port(previous.controller_port if previous else None, taken)
        tag = uuid.uuid4().hex
        entries, controller = self._node_entries(brokers, b_ports, c_port)
        cluster_id = self._format(entries, controller, tag, progress)
        if controller is not None:
            progress(f"starting the KRaft controller on 127.0.0.1:{c_port}")
            controller = controller.model_copy(
                update={"pid": self._spawn_node(controller, tag, CONTROLLER_HEAP)}
            )
        progress(f"starting {brokers} Kafka broker(s) on 127.0.0.1:{', '.join(map(str, b_ports))}")
        started = tuple(
            entry.model_copy(update={"pid": self._spawn_node(entry, tag, BROKER_HEAP)}) for entry in entries
        )
        state = ClusterState(
            tag=tag,
            stage=stage.name,
            cluster_id=cluster_id,
            brokers=started,
            controller=controller,
            controller_port=c_port,
            workers=(),
            started_at=time.time(),
        )
        save_state(self.state_dir, state)
        try:
            self._wait_broker(state)
            old_worker_ports = [w.port for w in previous.workers] if previous else []
            workers_started: list[WorkerEntry] = []
            for index in range(workers):
                preferred = old_worker_ports[index] if index < len(old_worker_ports) else None
                port = self._pick_port(preferred, taken)
                workers_started.append(
                    self._spawn_worker(state, stage, index, port, self._pick_port(None, taken))
                )
                # Recorded at once: if a later spawn fails, the clean-up below (or `local down`)
                # still knows this worker, instead of leaving it running unrecorded.
                state = state.model_copy(update={"workers": tuple(workers_started)})
                save_state(self.state_dir, state)
            progress(f"starting {workers} Connect worker(s) (group {names_for(stage).group_id})")
            for entry in workers_started:
                self._wait_worker(state, entry)
            progress("waiting until every worker is in the group")
            self._wait_group(state)
        except BaseException:
            self._stop_all(state)
            clear_state(self.state_dir)
            raise
        return state

    def _node_entries(
        self, brokers: int, ports: list[int], controller_port: int
    ) -> tuple[list[BrokerEntry], BrokerEntry | None]:
        """The nodes to run, with their property files written (pids filled in once spawned)."""

        def entry(name: str, node_id: int, port: int, props: dict[str, str], data: Path) -> BrokerEntry:
            config = self.config_dir / f"{name}.properties"
            config.write_text(render_properties(props))
            log = self.logs_dir / f"{name}.log"
            return BrokerEntry(
                name=name,
                pid=0,
                port=port,
                log=str(log),
                config=str(config),
                node_id=node_id,
                data_dir=str(data),
            )

        if brokers == 1:
            data = self.data_dir / "broker"
            props = broker_properties(broker_port=ports[0], controller_port=controller_port, log_dir=data)
            return [entry("broker", 1, ports[0], props, data)], None
        data = self.data_dir / "controller"
        controller = entry(
            "controller",
            CONTROLLER_NODE_ID,
            controller_port,
            controller_properties(controller_port=controller_port, log_dir=data),
            data,
        )
        nodes = []
        for node_id, port in enumerate(ports, start=1):
            data = self.data_dir / f"broker-{node_id}"
            props = cluster_broker_properties(
                node_id=node_id,
                broker_port=port,
                controller_port=controller_port,
                brokers=brokers,
                log_dir=data,
            )
            nodes.append(entry(f"broker-{node_id}", node_id, port, props, data))
        return nodes, controller

    def _spawn_node(self, entry: BrokerEntry, tag: str, heap: tuple[str, ...]) -> int:
        return procs.spawn(
            self._java_command(heap, tag, BROKER_MAIN, entry.config),
            Path(entry.log),
            cwd=self.state_dir,
            env=self.env,
        )

    def _format(
        self, brokers: list[BrokerEntry], controller: BrokerEntry | None, tag: str, progress: Progress
    ) -> str:
        """Format every node whose storage is not formatted yet, all with one cluster id (the one
        already on disk, if any node has it: a kept cluster, or one broker started empty)."""
        nodes = [*brokers, *((controller,) if controller is not None else ())]
        cluster_id = None
        for node in nodes:
            meta = Path(node.data_dir) / "meta.properties"
            if meta.is_file():
                for line in meta.read_text().splitlines():
                    if line.startswith("cluster.id="):
                        cluster_id = line.split("=", 1)[1].strip()
        cluster_id = cluster_id or new_cluster_id()
        for node in nodes:
            if not (Path(node.data_dir) / "meta.properties").is_file():
                progress(f"formatting the KRaft storage of the {node.name}")
                self._format_one(node, cluster_id, tag)
        return cluster_id

    def _format_one(self, node: BrokerEntry, cluster_id: str, tag: str) -> None:
        command = self._java_command(
            ("-Xmx256m",), tag, STORAGE_MAIN, "format", "-t", cluster_id, "-c", node.config
        )
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=dict(self.env), timeout=self.timeout_s
        )
        if result.returncode != 0:
            said = (result.stdout + result.stderr).strip()[-800:]
            raise WmsError(
                f"formatting the storage of the {node.name} in {Path(node.data_dir)} failed: {said}"
            )

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
            sizing=replace(LOCAL_SIZING, replication_factor=replication_for(len(state.brokers))),
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
        """Every broker answers, and the cluster's metadata lists all of them."""
        for entry in state.brokers:
            self._wait(state, entry, "ready", _answers(state, entry, self._node_alive))
        first = state.brokers[0]
        self._wait(
            state,
            first,
            "aware of every broker",
            lambda: registered_brokers(state.bootstrap) >= len(state.brokers),
        )

    def _node_alive(self, state: ClusterState) -> bool:
        if state.controller is not None and not procs.is_ours(state.controller.pid, state.tag):
            raise self._died(state, state.controller)
        return True

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

    # -- single brokers (MSK maintenance drills) ----------------------------------------------
    def _broker(self, node_id: int) -> tuple[ClusterState, BrokerEntry]:
        state = self.state
        for entry in state.brokers:
            if entry.node_id == node_id:
                return state, entry
        raise InputError(f"no broker {node_id}: this cluster has brokers 1..{len(state.brokers)}")

    def stop_broker(self, node_id: int, *, hard: bool = False) -> None:
        """Stop one broker: SIGTERM (a controlled shutdown, as MSK patching does) or SIGKILL."""
        state, entry = self._broker(node_id)
        procs.stop(entry.pid, state.tag, hard=hard, grace_s=60.0)

    def pause_broker(self, node_id: int) -> None:
        """Freeze one broker (SIGSTOP): it keeps its sockets and answers nothing, like a hung host."""
        state, entry = self._broker(node_id)
        procs.send(entry.pid, state.tag, signal.SIGSTOP)

    def resume_broker(self, node_id: int) -> None:
        state, entry = self._broker(node_id)
        procs.send(entry.pid, state.tag, signal.SIGCONT)

    def start_broker(self, node_id: int, *, empty: bool = False, wait: bool = True) -> None:
        """Start a stopped broker again (same id, port, config); ``empty`` first deletes its data
        directory and formats it anew with the cluster's id (a broker replaced with a new disk)."""
        state, entry = self._broker(node_id)
        if procs.is_ours(entry.pid, state.tag):
            raise WmsError(f"the {entry.name} still runs (pid {entry.pid}): stop it first")
        if empty:
            shutil.rmtree(entry.data_dir, ignore_errors=True)
            self._format_one(entry, state.cluster_id, state.tag)
        fresh = entry.model_copy(update={"pid": self._spawn_node(entry, state.tag, BROKER_HEAP)})
        state = state.model_copy(
            update={"brokers": tuple(fresh if b.node_id == node_id else b for b in state.brokers)}
        )
        save_state(self.state_dir, state)
        if wait:
            self._wait(state, fresh, "ready", lambda: broker_answers(f"127.0.0.1:{fresh.port}"))

    # -- a worker added, another retired (ECS rolling deploy) ---------------------------------
    def add_worker(self, *, wait: bool = True) -> WorkerEntry:
        """Start one more worker (next index, new ports), wait until it is healthy and in the group."""
        state = self.state
        taken = {p for w in state.workers for p in (w.port, w.metrics_port)}
        index = max((w.index for w in state.workers), default=-1) + 1
        entry = self._spawn_worker(
            state, self.stage, index, self._pick_port(None, taken), self._pick_port(None, taken)
        )
        state = state.model_copy(update={"workers": (*state.workers, entry)})
        save_state(self.state_dir, state)
        if wait:
            self._wait_worker(state, entry)
            self._wait_group(state)
        return entry

    def retire_worker(self, index: int) -> None:
        """Stop one worker gracefully (SIGTERM) and forget it (the old task of a rolling deploy)."""
        state, entry = self._worker(index)
        procs.stop(entry.pid, state.tag, grace_s=60.0)
        state = self.state
        save_state(
            self.state_dir,
            state.model_copy(update={"workers": tuple(w for w in state.workers if w.index != index)}),
        )

    # -- down --------------------------------------------------------------------------------
    def _stop_all(self, state: ClusterState) -> list[str]:
        stopped = [w.name for w in state.workers if procs.stop(w.pid, state.tag)]
        # Brokers all at once (each hands its leaderships over while the controller still runs),
        # then the controller-only node.
        signalled = [b for b in state.brokers if procs.send(b.pid, state.tag, signal.SIGTERM)]
        for broker in signalled:
            procs.stop(broker.pid, state.tag, grace_s=30.0)
        stopped += [b.name for b in signalled]
        if state.controller is not None and procs.stop(state.controller.pid, state.tag, grace_s=30.0):
            stopped.append(state.controller.name)
        return stopped

    def _stop_unrecorded(self, state: ClusterState | None) -> list[str]:
        """Stop this directory's tagged processes that ``state`` does not record (workers first)."""
        recorded = (
            set() if state is None else {*(n.pid for n in state.nodes), *(w.pid for w in state.workers)}
        )
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
        members = (
            group_members(state.bootstrap, group) if any(alive[b.name] for b in state.brokers) else set()
        )
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
            "broker": {"pid": state.broker.pid, "alive": alive[state.broker.name], "log": state.broker.log},
            "brokers": [
                {"name": n.name, "node_id": n.node_id, "pid": n.pid, "port": n.port, "alive": alive[n.name]}
                for n in state.nodes
            ],
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


def _answers(
    state: ClusterState, entry: BrokerEntry, controller_alive: Callable[[ClusterState], bool]
) -> Callable[[], bool]:
    return lambda: controller_alive(state) and broker_answers(f"127.0.0.1:{entry.port}")


def registered_brokers(bootstrap: str) -> int:
    """How many brokers the cluster's metadata lists (0 when nobody answers)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, "socket.timeout.ms": 2000})
    try:
        return len(admin.list_topics(timeout=2).brokers)
    except Exception:  # any failure means "not yet"
        return 0


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
