"""The Debezium connector configuration of a stage (pure).

One builder, two source adapters:

* :class:`OracleSource` is the product: Debezium's Oracle connector (LogMiner) reading WMS/MMDL.
* :class:`PostgresStandIn` is the **STAND-IN** used locally and in tests: Debezium's PostgreSQL
  connector reading a local PostgreSQL that holds the same four tables. It exercises everything
  downstream of LogMiner (topics, converters, heartbeats, signals, workers) and nothing of Oracle.

Everything except the connection and the history settings is shared, so the stand-in's topics are
exactly the product's topics (``naming.data_topics``).

Each key is a :class:`Setting` carrying a one-line reason whenever the value deviates from
Debezium's default (or is an identity value a person must understand). :func:`explain` returns the
rows, so documentation is generated from this module instead of being written twice. Properties
that are deliberately *not* set, but that an operator may need, are listed in
:data:`OPTIONAL_SETTINGS`.

Only Debezium 3.x property names are used (``topic.prefix``, ``schema.history.internal.*``); see
``check_config`` for the checks that reject 1.x names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

# One definition of the client security settings, shared with the worker config. Debezium opens its
# own clients (schema history, Kafka signals) that do not inherit the worker's: they are repeated.
from wms_connector.connect.secret_refs import (
    IMAGE_CLIENT_TLS,
    ORACLE_PASSWORD_FILE,
    ClientTlsFiles,
    dir_placeholder,
    env_placeholder,
)
from wms_connector.connect.worker_config import client_security_settings
from wms_connector.naming import (
    CAPTURED_TABLES,
    HEARTBEAT_TABLE,
    SCHEMAS,
    SIGNAL_TABLE,
    StageNames,
    names_for,
)
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage, settings_for

ORACLE_CONNECTOR_CLASS: Final = "io.debezium.connector.oracle.OracleConnector"
POSTGRES_CONNECTOR_CLASS: Final = "io.debezium.connector.postgresql.PostgresConnector"
JSON_CONVERTER: Final = "org.apache.kafka.connect.json.JsonConverter"

#: The environment variable a *local* worker reads the Oracle password from (``${env:...}``, local
#: runs only); in ECS it is the variable the ``secrets`` container gets (``connect.secret_refs``).
ORACLE_PASSWORD_ENV: Final = "ORACLE_PASSWORD"
#: The same for the local stand-in PostgreSQL.
STANDIN_PASSWORD_ENV: Final = "WMS_STANDIN_PASSWORD"
#: How the product's connector names the Oracle password: the file the ``secrets`` container
#: writes into the worker's secrets directory (**contract** with the image and the task definition).
ORACLE_PASSWORD_REF: Final = dir_placeholder(ORACLE_PASSWORD_FILE)

#: Bounded in-task restarts on retriable errors: after ~5 x 10 s the task FAILS, which Connect
#: reports and the agent can act on (Debezium's default, -1, retries forever while RUNNING).
ERRORS_MAX_RETRIES: Final = 5
RETRY_WAIT_MS: Final = 10_000
#: Debezium's default, set explicitly: no digit of a TIMESTAMP(0..9) or DATE is lost (issue 15).
TIME_PRECISION_MODE: Final = "adaptive"
#: How long the task waits for a batch to fill before handing it to Connect (Debezium default 500).
POLL_INTERVAL_MS: Final = 100


@dataclass(frozen=True)
class Setting:
    """One connector property. ``reason`` is empty only for values equal to Debezium's default
    that need no explanation."""

    key: str
    value: str
    reason: str = ""


class SourceAdapter(Protocol):
    """What differs between the product (Oracle) and the stand-in (PostgreSQL)."""

    @property
    def kind(self) -> str: ...

    @property
    def connector_class(self) -> str: ...

    @property
    def plugin_name(self) -> str:
        """Short class name, as used by ``/connector-plugins/{name}/config/validate``."""
        ...

    def connector_name(self, names: StageNames) -> str: ...

    def settings(self, names: StageNames, bootstrap: str, security: Mapping[str, str]) -> list[Setting]: ...

    def secret_values(self) -> tuple[str, ...]:
        """Secret values known to the adapter, for plaintext scanning (never printed)."""
        ...


def _prefixed(prefix: str, security: Mapping[str, str], reason: str) -> list[Setting]:
    return [Setting(f"{prefix}{key}", value, reason) for key, value in security.items()]


@dataclass(frozen=True)
class OracleSource:
    """The product: Debezium's Oracle connector with LogMiner.

    ``password_ref`` is the placeholder the worker resolves: the secrets directory's file in the
    image (the default); a local run against a real Oracle passes ``env_placeholder(...)``."""

    db: DbInfo
    password_ref: str = ORACLE_PASSWORD_REF

    @property
    def kind(self) -> str:
        return "oracle"

    @property
    def connector_class(self) -> str:
        return ORACLE_CONNECTOR_CLASS

    @property
    def plugin_name(self) -> str:
        return "OracleConnector"

    def connector_name(self, names: StageNames) -> str:
        return names.connector

    def secret_values(self) -> tuple[str, ...]:
        # Only a legacy dbInfo holds the password; dbPassword is not read to render a config.
        return (self.db.password.get_secret_value(),) if self.db.password is not None else ()

    def settings(self, names: StageNames, bootstrap: str, security: Mapping[str, str]) -> list[Setting]:
        db = self.db
        rows = [
            Setting("database.hostname", db.host),
            Setting(
                "database.port",
                str(db.port),
                "always explicit: the code-level default is 1528, not Oracle's 1521",
            ),
            Setting(
                "database.dbname",
                db.db,
                "the CDB name in a multitenant database (PDB goes in database.pdb.name)"
                if db.is_cdb
                else "the database (non-CDB) name",
            ),
        ]
        if db.pdb_name is not None:
            rows.append(
                Setting("database.pdb.name", db.pdb_name, "CDB deployment: the PDB holding WMS and MMDL")
            )
        rows += [
            Setting("database.user", db.user, "the LogMiner user the DBA created (c##... in a CDB)"),
            Setting(
                "database.password",
                self.password_ref,
                "placeholder only: the worker's config provider reads the secrets directory's file "
                "when the connector starts, so the password never reaches the config topic, the REST "
                "API or a process environment",
            ),
            Setting(
                "connection.validation.timeout.ms",
                "15000",
                "fail validation (and every PUT) in 15 s, not 60 s, when the listener never answers",
            ),
            Setting("database.connection.adapter", "logminer", "LogMiner, buffered in the connector"),
            Setting(
                "log.mining.strategy",
                "online_catalog",
                "fastest, no dictionary in the redo (redo_log_catalog is deprecated in 3.6); DDL on "
                "the captured tables needs a pause (see docs/wms-config-details.md)",
            ),
            Setting(
                "log.mining.query.filter.mode",
                "in",
                "filter the four tables inside the LogMiner query, not in the connector: far less "
                "traffic on a busy database (the include lists hold literal names, no regex)",
            ),
            Setting(
                "log.mining.buffer.type",
                "memory",
                "Fargate disk is ephemeral, so a disk buffer would not survive a restart anyway",
            ),
            Setting("lob.enabled", "false", "the waiver tables carry no LOB columns that consumers need"),
            Setting("schema.history.internal.kafka.topic", names.schema_history_topic, "derived per stage"),
            Setting(
                "schema.history.internal.kafka.bootstrap.servers",
                bootstrap,
                "Kafka-backed schema history on the same cluster as the data",
            ),
            Setting(
                "schema.history.internal.store.only.captured.tables.ddl",
                "true",
                "WMS and MMDL hold many tables; record only the four captured ones (adding a table "
                "later needs the documented schema re-capture)",
            ),
            Setting(
                "schema.history.internal.skip.unparseable.ddl",
                "false",
                "never skip DDL: skipping can mangle or lose data",
            ),
            *_prefixed(
                "schema.history.internal.producer.",
                security,
                "the history producer does not inherit the worker's Kafka security",
            ),
            *_prefixed(
                "schema.history.internal.consumer.",
                security,
                "the history consumer does not inherit the worker's Kafka security",
            ),
        ]
        return rows


@dataclass(frozen=True)
class PostgresStandIn:
    """The local **STAND-IN** source: Debezium's PostgreSQL connector (``pgoutput``)."""

    host: str
    port: int
    db: str
    user: str
    password_env: str = STANDIN_PASSWORD_ENV
    #: The real password when known (tests scan the stored config for it); never put in the config.
    password: str | None = None
    #: The placeholder instead of ``${env:<password_env>}`` (the image: the secrets directory's file).
    password_ref: str | None = None

    @property
    def kind(self) -> str:
        return "standin"

    @property
    def connector_class(self) -> str:
        return POSTGRES_CONNECTOR_CLASS

    @property
    def plugin_name(self) -> str:
        return "PostgresConnector"

    def connector_name(self, names: StageNames) -> str:
        return names.standin_connector

    def secret_values(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def settings(self, names: StageNames, bootstrap: str, security: Mapping[str, str]) -> list[Setting]:
        return [
            Setting("database.hostname", self.host, "STAND-IN: local PostgreSQL on loopback"),
            Setting("database.port", str(self.port), "STAND-IN: a free port chosen at start"),
            Setting("database.dbname", self.db),
            Setting("database.user", self.user),
            Setting(
                "database.password",
                self.password_ref or env_placeholder(self.password_env),
                "placeholder only, resolved by the worker, like the Oracle password",
            ),
            Setting("plugin.name", "pgoutput", "PostgreSQL's built-in decoder: nothing to install"),
            Setting("slot.name", names.standin_slot, "one slot per stage, derived in naming"),
            Setting("publication.name", names.standin_publication, "one publication per stage"),
            Setting(
                "publication.autocreate.mode",
                "filtered",
                "publish only the four captured tables, as the Oracle filter does",
            ),
        ]


def exactly_once_settings(enabled: bool) -> list[Setting]:
    """The connector half of KIP-618 for a stage that enables it (``StageSettings.exactly_once``)."""
    if not enabled:
        return []
    return [
        Setting(
            "exactly.once.support",
            "required",
            "KIP-618: records and source offset commit in one Kafka transaction, so no duplicate "
            "after a crash for read_committed consumers; refuse to start where the worker cannot",
        )
    ]


def build_settings(
    stage: Stage,
    source: SourceAdapter,
    bootstrap: str,
    auth: KafkaAuth,
    *,
    exactly_once: bool | None = None,
    client_tls: ClientTlsFiles = IMAGE_CLIENT_TLS,
) -> list[Setting]:
    """Every property of the connector for ``stage``, in a stable, readable order.

    ``exactly_once`` overrides the stage's switch (benchmarks compare both modes); ``client_tls``
    is where Debezium's own clients find the ``mtls`` certificate files (the worker's)."""
    names = names_for(stage)
    stage_settings = settings_for(stage)
    if exactly_once is not None:
        stage_settings = stage_settings.model_copy(update={"exactly_once": exactly_once})
    security = client_security_settings(auth, client_tls)
    shared_head = [
        Setting("name", source.connector_name(names), "derived in naming"),
        Setting("connector.class", source.connector_class),
        Setting(
            "tasks.max",
            "1",
            "Debezium reads one ordered change stream with one task; HA comes from worker failover",
        ),
        Setting(
            "topic.prefix",
            names.topic_prefix,
            "data topics are exactly naming.data_topics (namespaced for ephemeral stages); never change it",
        ),
    ]
    shared_tail = [
        Setting("schema.include.list", ",".join(SCHEMAS), "only the two WMS schemas"),
        Setting(
            "table.include.list",
            ",".join(t.qualified for t in CAPTURED_TABLES),
            "exactly the four waiver tables",
        ),
        Setting("snapshot.mode", "initial", "snapshot the existing rows once, then stream"),
        Setting(
            "heartbeat.interval.ms",
            str(stage_settings.heartbeat_interval_ms),
            "keeps offsets fresh while the tables are quiet; feeds the stale-event alarm (default 0 = off)",
        ),
        Setting("topic.heartbeat.prefix", names.heartbeat_topic_prefix, "namespaced for ephemeral stages"),
        Setting(
            "signal.enabled.channels",
            "source,kafka",
            "Kafka signals (ad hoc snapshots) without DB writes; source stays on for a signal table",
        ),
        Setting("signal.kafka.topic", names.signal_topic, "derived in naming (default <prefix>-signal)"),
        Setting("signal.kafka.bootstrap.servers", bootstrap, "required by the Kafka signal channel"),
        Setting("signal.kafka.groupId", names.signal_consumer_group, "namespaced per stage"),
        *_prefixed(
            "signal.consumer.", security, "the signal consumer does not inherit the worker's Kafka security"
        ),
        Setting(
            "errors.max.retries",
            str(ERRORS_MAX_RETRIES),
            "bounded: after the retries the task FAILS visibly instead of looping while RUNNING",
        ),
        Setting("retriable.restart.connector.wait.ms", str(RETRY_WAIT_MS), "10 s between retries"),
        Setting(
            "event.processing.failure.handling.mode",
            "fail",
            "warn/skip would drop change events silently",
        ),
        Setting(
            "poll.interval.ms",
            str(POLL_INTERVAL_MS),
            "hand change batches to Kafka every 100 ms, not 500 ms: commit-to-Kafka latency",
        ),
        Setting(
            "decimal.handling.mode",
            "string",
            "every digit of NUMBER(p,s>0) and unconstrained NUMBER as a JSON string: lossless and "
            "readable without the schema (precise = base64 bytes + scale, double = lossy)",
        ),
        Setting(
            "time.precision.mode",
            TIME_PRECISION_MODE,
            "lossless: TIMESTAMP(0-3) as epoch ms, (4-6) epoch us, (7-9) epoch ns, DATE with its "
            "seconds (connect would drop every digit below the millisecond)",
        ),
        *exactly_once_settings(stage_settings.exactly_once),
        Setting(
            "key.converter",
            JSON_CONVERTER,
            "fixed per connector so the topic format never depends on the worker defaults",
        ),
        Setting("key.converter.schemas.enable", "true", "keys carry their schema (types of the PK)"),
        Setting("value.converter", JSON_CONVERTER, "JSON: readable by every consumer without a registry"),
        Setting("value.converter.schemas.enable", "true", "values carry their schema (column types)"),
    ]
    rows = shared_head + source.settings(names, bootstrap, security) + shared_tail
    keys = [row.key for row in rows]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:  # pragma: no cover - a programming error in this module
        raise AssertionError(f"duplicate connector keys: {duplicates}")
    return rows


def build_config(
    stage: Stage,
    source: SourceAdapter,
    bootstrap: str,
    auth: KafkaAuth,
    *,
    exactly_once: bool | None = None,
    client_tls: ClientTlsFiles = IMAGE_CLIENT_TLS,
) -> dict[str, str]:
    """The connector config as an ordered ``dict[str, str]`` (what is PUT to Connect)."""
    rows = build_settings(stage, source, bootstrap, auth, exactly_once=exactly_once, client_tls=client_tls)
    return {row.key: row.value for row in rows}


def explain(
    stage: Stage, source: SourceAdapter, bootstrap: str, auth: KafkaAuth
) -> list[tuple[str, str, str]]:
    """``(key, value, reason)`` rows for documentation (docs/wms-config-details.md checks against it)."""
    return [(r.key, r.value, r.reason) for r in build_settings(stage, source, bootstrap, auth)]


#: Properties deliberately left unset, with when to set them (rendered in the docs and by the CLI).
OPTIONAL_SETTINGS: Final = (
    Setting(
        "heartbeat.action.query",
        f"UPDATE <dbInfo.user>.{HEARTBEAT_TABLE} SET TS = SYSTIMESTAMP WHERE ID = 1",  # noqa: S608 - shown to the DBA, never run
        "CDB deployments with quiet tables: PDB-local DML so the offset SCN advances; the table must be "
        "captured and writable by the connector user (the DBA creates it)",
    ),
    Setting(
        "signal.data.collection",
        f"<dbInfo.db>.<dbInfo.user>.{SIGNAL_TABLE}",
        "a source signal table (id VARCHAR2(42) PK, type VARCHAR2(32), data VARCHAR2(2048)); Oracle "
        "incremental snapshots need it for watermarks even when triggered through Kafka",
    ),
    Setting(
        "archive.destination.name",
        "LOG_ARCHIVE_DEST_1",
        "set when the database has more than one LOCAL/VALID archive destination",
    ),
    Setting(
        "log.mining.session.max.ms",
        "3600000",
        "recycle the LogMiner session on a low-volume database that hits ORA-04036 (PGA growth)",
    ),
)
