"""Kafka Connect worker configuration for a stage (pure).

The same function renders the properties of the production workers (``runtime/entrypoint.sh``
calls ``wms-connector worker-config``) and of the local workers (``wms-connector local up``), so
the local cluster runs the configuration production runs, with loopback addresses and plaintext.

Choices, and why
----------------
* **Distributed mode**, group id and the three internal topics from :mod:`wms_connector.naming`
  (namespaced for ephemeral stages). Connect creates the internal topics compacted; partitions and
  replication factor come from :class:`~wms_connector.stages.StageSettings` (overridable for the
  single-broker local cluster).
* **JSON converters with schemas** (``org.apache.kafka.connect.json.JsonConverter``,
  ``schemas.enable=true``) as the default for keys and values. No schema registry exists on the
  BigMAC cluster, and JSON with embedded schemas is self-describing: any consumer can read a
  record without a registry client, and Debezium's change-event envelope keeps its types. The cost
  is size (the schema travels in every record); Avro would need a registry we do not run.
* **Secrets** only through a config provider (:mod:`wms_connector.connect.secret_refs`): the
  connector config holds ``${dir:/opt/connect/secrets:oracle-password}`` and Connect resolves it
  in memory, so no password reaches the config topic or the REST API. Production workers enable
  only ``DirectoryConfigProvider`` over the secrets directory (``allowed.paths``), so a config
  cannot read any other file; local workers enable ``EnvVarConfigProvider`` with an allowlist
  (``^(ORACLE|WMS_STANDIN)_...``) instead, so a config cannot pull e.g. the AWS credentials
  endpoint out of the environment.
* ``connector.client.config.override.policy=None``: a connector config cannot change the
  worker's Kafka client settings (security protocol, credentials).
* **Failover in seconds** (issue 15, measured by ``bench/failover.py``). Group settings:
  ``session.timeout.ms`` = 6 s, ``heartbeat.interval.ms`` = 2 s and
  ``scheduled.rebalance.max.delay.ms`` = 0 (Kafka's default is 5 min; 0 is allowed since Kafka 3.7,
  KAFKA-15693). A crashed worker is noticed after the session timeout; with no rebalance delay the
  leader hands its connector and task to a survivor in that same rebalance, so a kill -9 costs the
  session timeout + one rebalance + the task start, whether the lost worker was the group leader
  or not. A graceful stop (SIGTERM: every ECS deploy and scale-in) leaves the group at once and
  costs one rebalance + the task start. Measured (stand-in, 2 shared cores, load 5 to 10): task
  RUNNING elsewhere a median 5.0 s after a kill -9 of a non-leader, 6.0 s of the leader, 0.4 s
  after a graceful stop (the session expires 4 to 6 s after the last heartbeat). Before (10 s
  session, 15 s delay): ~25 s after a kill of a non-leader, ~10 s of the leader, ~15 s graceful.

  The trade-off: a worker that is only briefly away (a GC pause longer than 6 s, a network blip,
  a worker restarted in place) loses its task to the other worker at once instead of getting it
  back, which costs one extra task move (a Debezium restart: a few seconds of no events, never a
  loss). With two workers and one task that churn is cheap, and it buys the fast failover.

  **MSK bounds the detection**: the broker refuses a session timeout below its
  ``group.min.session.timeout.ms`` (6 s by default, MSK too). Lowering detection further needs an MSK
  custom configuration with e.g. ``group.min.session.timeout.ms=3000`` (an MSK configuration
  revision applied to the cluster, a rolling broker restart) and then a lower value here; we do not
  go there: below ~6 s a slow heartbeat on a loaded worker starts to look like a crash.
* **Exactly-once source delivery** (KIP-618), when the stage enables it
  (:attr:`~wms_connector.stages.StageSettings.exactly_once`, default on):
  ``exactly.once.source.support=enabled``. Each source task writes its records *and* its source
  offset in one Kafka transaction (transactional id ``<group.id>-<connector>-<task>``), and a new
  task fences the old one's producer, so a killed worker's uncommitted records are aborted, never
  delivered twice, to a consumer reading with ``isolation.level=read_committed``. The leader also
  writes the config topic transactionally (id ``connect-cluster-<group.id>``). The workers therefore need
  the transactional-id permissions (MSK IAM: ``infra/kafka_iam.py``; mtls: ACLs, docs/stream.md).
  Measured across kill -9 (``bench/failover.py``, 25 inserts/s): 0 duplicates and 0 lost with
  it, 382 duplicates over 4 kills without it. The cost is a commit per poll batch (latency,
  measured by ``bench/e2e_latency.py``). Enabling it on
  a cluster that already runs without it takes two deploys (``preparing``, then ``enabled``, as
  Kafka's docs say): a fresh stage can start enabled. ``consumer.isolation.level=read_committed``
  makes any sink connector on these workers (the tests' JDBC sink) read committed data only.
* ``plugin.discovery=service_load``: Connect finds plugins through their ServiceLoader manifests
  instead of scanning every class of every jar, which halves worker start time and cuts idle
  memory (measured: see the reference notes, section 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from wms_connector.connect.rest_auth import REST_EXTENSION_CLASS
from wms_connector.connect.secret_refs import (
    IMAGE_CLIENT_TLS,
    IMAGE_SECRET_SOURCES,
    LOCAL_ENV_ALLOWLIST,
    ClientTlsFiles,
    SecretSources,
)
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage, StageSettings, settings_for

JSON_CONVERTER: Final = "org.apache.kafka.connect.json.JsonConverter"
#: Environment variables a *local* worker's config may read through ``${env:NAME}`` (secret_refs).
SECRET_ENV_ALLOWLIST_PATTERN: Final = LOCAL_ENV_ALLOWLIST
#: See the module docstring for the trade-off (issue 15: chosen from bench/failover.py figures).
REBALANCE_DELAY_MS: Final = 0
#: The broker's default (and MSK's) group.min.session.timeout.ms: the lowest MSK accepts.
SESSION_TIMEOUT_MS: Final = 6_000
HEARTBEAT_INTERVAL_MS: Final = 2_000
REST_PORT: Final = 8083
#: The config topic must have exactly one partition (Connect refuses anything else).
CONFIG_TOPIC_PARTITIONS: Final = 1
STATUS_TOPIC_PARTITIONS: Final = 5
#: The source tasks' producer (issue 22, ``bench/throughput.py``). A change event is JSON with its
#: schema, ~4.8 KB, and consecutive events repeat the schema: zstd over 64 KiB batches stored the
#: stand-in's events in 1/38 to 1/40 of their size (16 KiB batches, Kafka's default: 1/12; no compression,
#: Kafka's default: 1/1). MSK bills storage and cross-AZ replication by the byte, and the brokers'
#: work falls with it. ``linger.ms`` costs no latency here: with exactly-once every poll batch ends
#: in a transaction commit, which flushes whatever is lingering.
PRODUCER_COMPRESSION: Final = "zstd"
PRODUCER_BATCH_BYTES: Final = 262_144
PRODUCER_LINGER_MS: Final = 20
#: How long every client of the worker (its group membership and internal-topic clients, the
#: tasks' producers and consumers, the admin client) waits for one broker request (issue 22,
#: ``bench/drills.py`` broker-hang). A hung broker keeps its sockets open and answers nothing; MSK
#: fences it after its 9 s session, but a client with a request in flight to it waits the full
#: request timeout (Kafka's defaults: 40 s for the worker, 30 s for its clients) before it looks at
#: the new metadata. Meanwhile Connect revokes every task of a worker that cannot reach its group
#: coordinator, and exactly-once zombie fencing gives up on a config topic it cannot read. 10 s is
#: just past the broker's session, and far above any healthy MSK answer.
CLIENT_REQUEST_TIMEOUT_MS: Final = 10_000
#: Client prefixes whose settings Connect does not inherit from the worker's top level.
CLIENT_PREFIXES: Final = ("producer.", "consumer.", "admin.")

MSK_IAM_LOGIN_MODULE: Final = "software.amazon.msk.auth.iam.IAMLoginModule required;"
MSK_IAM_CALLBACK_HANDLER: Final = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"


def client_security_settings(auth: KafkaAuth, tls_files: ClientTlsFiles = IMAGE_CLIENT_TLS) -> dict[str, str]:
    """Kafka client settings for ``auth``, unprefixed.

    Repeat them under every prefix of a client that talks to the cluster (the worker does so for
    ``producer.``/``consumer.``/``admin.``; Debezium's schema history needs
    ``schema.history.internal.producer.``/``.consumer.``). TLS and IAM use the JVM's default trust
    store, which trusts the Amazon certificates MSK presents. ``mtls`` names the PEM files in
    ``tls_files`` (Kafka's PEM key store: the private key and the chain in one file, KIP-651);
    the files are read by the client, so no certificate or key text is ever in a config.
    """
    if auth is KafkaAuth.PLAINTEXT:
        return {"security.protocol": "PLAINTEXT"}
    if auth is KafkaAuth.TLS:
        return {"security.protocol": "SSL"}
    if auth is KafkaAuth.MTLS:
        return {
            "security.protocol": "SSL",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": tls_files.keystore,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": tls_files.trust,
        }
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "AWS_MSK_IAM",
        "sasl.jaas.config": MSK_IAM_LOGIN_MODULE,
        "sasl.client.callback.handler.class": MSK_IAM_CALLBACK_HANDLER,
    }


def prefixed(settings: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}{key}": value for key, value in settings.items()}


def jvm_heap_opts(settings: StageSettings) -> str:
    """``KAFKA_HEAP_OPTS`` for the Connect container: a fixed heap sized from its memory."""
    return f"-Xms{settings.heap_mib}m -Xmx{settings.heap_mib}m"


@dataclass(frozen=True)
class WorkerEndpoint:
    """Where one worker listens and what it tells the others (its REST URL)."""

    bootstrap_servers: str
    advertised_host: str
    rest_port: int = REST_PORT
    listen_host: str = "0.0.0.0"  # noqa: S104 - inside the task; the security group limits who reaches it


@dataclass(frozen=True)
class TopicSizing:
    """Replication factor and partitions of the internal topics (defaults: the stage's settings)."""

    replication_factor: int
    offsets_partitions: int
    status_partitions: int = STATUS_TOPIC_PARTITIONS

    @classmethod
    def for_stage(cls, settings: StageSettings) -> TopicSizing:
        return cls(settings.replication_factor, settings.offsets_topic_partitions)


def worker_config(
    stage: Stage,
    endpoint: WorkerEndpoint,
    plugin_path: tuple[str, ...],
    *,
    auth: KafkaAuth | None = None,
    sizing: TopicSizing | None = None,
    settings: StageSettings | None = None,
    rebalance_delay_ms: int = REBALANCE_DELAY_MS,
    session_timeout_ms: int = SESSION_TIMEOUT_MS,
    secret_sources: SecretSources = IMAGE_SECRET_SOURCES,
    rest_auth: bool = False,
    client_tls: ClientTlsFiles = IMAGE_CLIENT_TLS,
) -> dict[str, str]:
    """The worker properties of ``stage``, in the order they are written to the file.

    ``secret_sources`` defaults to production's (the secrets directory only); the local cluster
    passes ``LOCAL_SECRET_SOURCES``. ``rest_auth`` puts the REST API behind the basic-auth
    extension (:mod:`wms_connector.connect.rest_auth`; the JVM also needs the JAAS flag).
    ``client_tls`` is where ``mtls`` clients find their certificate files (default: the image's
    secrets directory)."""
    settings = settings if settings is not None else settings_for(stage)
    names = names_for(stage)
    sizing = sizing if sizing is not None else TopicSizing.for_stage(settings)
    security = client_security_settings(auth if auth is not None else settings.kafka_auth, client_tls)
    props: dict[str, str] = {
        "bootstrap.servers": endpoint.bootstrap_servers,
        "group.id": names.group_id,
        "config.storage.topic": names.config_topic,
        "config.storage.replication.factor": str(sizing.replication_factor),
        "offset.storage.topic": names.offsets_topic,
        "offset.storage.replication.factor": str(sizing.replication_factor),
        "offset.storage.partitions": str(sizing.offsets_partitions),
        "status.storage.topic": names.status_topic,
        "status.storage.replication.factor": str(sizing.replication_factor),
        "status.storage.partitions": str(sizing.status_partitions),
        "key.converter": JSON_CONVERTER,
        "key.converter.schemas.enable": "true",
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "true",
        **secret_sources.worker_properties(),
        "connector.client.config.override.policy": "None",
        "scheduled.rebalance.max.delay.ms": str(rebalance_delay_ms),
        "session.timeout.ms": str(session_timeout_ms),
        "heartbeat.interval.ms": str(min(HEARTBEAT_INTERVAL_MS, session_timeout_ms // 3)),
        "plugin.discovery": "service_load",
        "plugin.path": ",".join(plugin_path),
        "listeners": f"http://{endpoint.listen_host}:{endpoint.rest_port}",
        "rest.advertised.host.name": endpoint.advertised_host,
        "rest.advertised.port": str(endpoint.rest_port),
        "rest.advertised.listener": "http",
        "offset.flush.interval.ms": "10000",
        # KIP-618; the switch is per stage (module docstring). "disabled" is Kafka's default.
        "exactly.once.source.support": "enabled" if settings.exactly_once else "disabled",
        "consumer.isolation.level": "read_committed",
        # Batching and compression of the change events (PRODUCER_* above; docs/stream.md).
        "producer.compression.type": PRODUCER_COMPRESSION,
        "producer.batch.size": str(PRODUCER_BATCH_BYTES),
        "producer.linger.ms": str(PRODUCER_LINGER_MS),
        # Source connectors create their topics through Connect's admin client only when a
        # connector asks for it (topic.creation.*); we create topics ourselves before that.
        "topic.creation.enable": "true",
    }
    timeouts = {"request.timeout.ms": str(CLIENT_REQUEST_TIMEOUT_MS)}
    props.update(timeouts)
    if rest_auth:
        props["rest.extension.classes"] = REST_EXTENSION_CLASS
    props.update(security)
    for prefix in CLIENT_PREFIXES:
        props.update(prefixed({**timeouts, **security}, prefix))
    return props


def render_properties(props: Mapping[str, str]) -> str:
    """A Java properties file. Values are escaped the way ``java.util.Properties`` reads them."""
    lines = [f"{_escape(key, is_key=True)}={_escape(value, is_key=False)}" for key, value in props.items()]
    return "\n".join(lines) + "\n"


def _escape(text: str, *, is_key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\n":
            out.append("\\n")
        elif char in "=:#!" and is_key:
            out.append("\\" + char)
        elif char == " " and (is_key or index == 0):
            out.append("\\ ")
        else:
            out.append(char)
    return "".join(out)


def topics_named(props: Mapping[str, str]) -> tuple[str, ...]:
    """Every Kafka topic (and the group id) a worker config names: for namespace checks."""
    keys = ("group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic")
    return tuple(props[key] for key in keys)
