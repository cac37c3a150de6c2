from __future__ import annotations

import pytest
from pydantic import SecretStr

from wms_connector.connect.config_checks import Problem, check_config
from wms_connector.connect.connector_config import (
    OPTIONAL_SETTINGS,
    ORACLE_PASSWORD_ENV,
    STANDIN_PASSWORD_ENV,
    OracleSource,
    PostgresStandIn,
    build_config,
    build_settings,
    exactly_once_settings,
    explain,
)
from wms_connector.connect.secret_refs import ClientTlsFiles, env_placeholder
from wms_connector.connect.worker_config import client_security_settings
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage, settings_for

STAGES = [Stage("main"), Stage("val"), Stage("production"), Stage("feature-x")]
PASSWORD = "s3cret-Pa55-never-shown"
CDB = DbInfo(
    host="ora.example.invalid",
    port=1521,
    db="CDB1",
    pdb_name="PDB1",
    user="c##dbz",
    password=SecretStr(PASSWORD),
)
NON_CDB = DbInfo(host="ora.example.invalid", port=1522, db="WMSDB", user="dbz", password=SecretStr(PASSWORD))
BOOT = "b-1.example.invalid:9094,b-2.example.invalid:9094"


def oracle(stage: Stage, db: DbInfo = CDB, auth: KafkaAuth = KafkaAuth.IAM) -> dict[str, str]:
    return build_config(stage, OracleSource(db), BOOT, auth)


def standin(stage: Stage) -> dict[str, str]:
    return build_config(
        stage,
        PostgresStandIn("127.0.0.1", 5544, "wms", "wms", password=PASSWORD),
        "127.0.0.1:9092",
        KafkaAuth.PLAINTEXT,
    )


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_oracle_config_passes_our_checks(stage: Stage) -> None:
    assert check_config(oracle(stage), known_secrets=[PASSWORD]) == []


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_standin_config_passes_our_checks(stage: Stage) -> None:
    assert check_config(standin(stage), known_secrets=[PASSWORD]) == []


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_names_and_topics_come_from_naming(stage: Stage) -> None:
    names = names_for(stage)
    config = oracle(stage)
    assert config["name"] == names.connector
    assert config["topic.prefix"] == names.topic_prefix
    assert config["schema.history.internal.kafka.topic"] == names.schema_history_topic
    assert config["signal.kafka.topic"] == names.signal_topic
    assert config["topic.heartbeat.prefix"] == names.heartbeat_topic_prefix
    assert config["heartbeat.interval.ms"] == str(settings_for(stage).heartbeat_interval_ms)
    # Debezium names data topics <topic.prefix>.<SCHEMA>.<TABLE>: exactly naming's data topics.
    tables = config["table.include.list"].split(",")
    assert {f"{config['topic.prefix']}.{t}" for t in tables} == set(names.data_topics.values())
    assert standin(stage)["name"] == names.standin_connector
    assert standin(stage)["topic.prefix"] == names.topic_prefix


def test_ephemeral_topics_are_namespaced() -> None:
    config = oracle(Stage("feature-x"))
    for key in (
        "topic.prefix",
        "schema.history.internal.kafka.topic",
        "signal.kafka.topic",
        "topic.heartbeat.prefix",
    ):
        assert config[key].startswith("--wms--feature-x--"), key


def test_password_is_only_a_placeholder() -> None:
    for config in (oracle(Stage("main")), standin(Stage("main"))):
        assert config["database.password"].startswith(("${env:", "${dir:"))
        assert all(PASSWORD not in v for v in config.values())
    # The product reads the file of the image's secrets directory; a local stand-in its environment.
    assert oracle(Stage("main"))["database.password"] == "${dir:/opt/connect/secrets:oracle-password}"
    assert standin(Stage("main"))["database.password"] == "${env:" + STANDIN_PASSWORD_ENV + "}"
    local_oracle = OracleSource(NON_CDB, password_ref=env_placeholder(ORACLE_PASSWORD_ENV))
    assert build_config(Stage("main"), local_oracle, BOOT, KafkaAuth.TLS)["database.password"] == (
        "${env:" + ORACLE_PASSWORD_ENV + "}"
    )


def test_pdb_name_only_for_cdb() -> None:
    assert oracle(Stage("main"), CDB)["database.pdb.name"] == "PDB1"
    assert "database.pdb.name" not in oracle(Stage("main"), NON_CDB)
    assert oracle(Stage("main"), NON_CDB)["database.port"] == "1522"


@pytest.mark.parametrize("auth", list(KafkaAuth))
def test_client_security_repeated_for_every_debezium_client(auth: KafkaAuth) -> None:
    config = oracle(Stage("main"), auth=auth)
    for key, value in client_security_settings(auth).items():
        for prefix in (
            "schema.history.internal.producer.",
            "schema.history.internal.consumer.",
            "signal.consumer.",
        ):
            assert config[prefix + key] == value


def test_mtls_gives_every_debezium_client_the_workers_certificate_files_and_no_pem() -> None:
    files = ClientTlsFiles("/run/kafka-tls")
    config = build_config(Stage("production"), OracleSource(CDB), BOOT, KafkaAuth.MTLS, client_tls=files)
    for prefix in (
        "schema.history.internal.producer.",
        "schema.history.internal.consumer.",
        "signal.consumer.",
    ):
        assert config[prefix + "security.protocol"] == "SSL"
        assert config[prefix + "ssl.keystore.type"] == "PEM"
        assert config[prefix + "ssl.keystore.location"] == "/run/kafka-tls/kafka-client-keystore.pem"
        assert config[prefix + "ssl.truststore.location"] == "/run/kafka-tls/kafka-ca.pem"
    assert not any("BEGIN" in value for value in config.values())
    assert not any(key.endswith(("ssl.keystore.key", "ssl.keystore.certificate.chain")) for key in config)
    assert not errors(check_config(config))


def test_standin_has_no_schema_history_and_same_shared_settings() -> None:
    ora, pg = oracle(Stage("main"), auth=KafkaAuth.PLAINTEXT), standin(Stage("main"))
    assert not any(k.startswith("schema.history.internal") for k in pg)
    for key in (
        "topic.prefix",
        "table.include.list",
        "schema.include.list",
        "key.converter",
        "value.converter",
        "heartbeat.interval.ms",
        "decimal.handling.mode",
        "time.precision.mode",
        "signal.kafka.topic",
    ):
        assert pg[key] == ora[key], key
    assert pg["plugin.name"] == "pgoutput"
    assert pg["slot.name"] == names_for(Stage("main")).standin_slot


def test_every_deviation_has_a_reason_and_explain_matches_config() -> None:
    stage = Stage("production")
    rows = explain(stage, OracleSource(CDB), BOOT, KafkaAuth.IAM)
    assert [(k, v) for k, v, _ in rows] == list(oracle(stage, auth=KafkaAuth.IAM).items())
    reasons = {k: r for k, _, r in rows}
    for key in (
        "tasks.max",
        "database.port",
        "database.password",
        "heartbeat.interval.ms",
        "errors.max.retries",
        "decimal.handling.mode",
        "time.precision.mode",
        "log.mining.query.filter.mode",
        "schema.history.internal.store.only.captured.tables.ddl",
    ):
        assert reasons[key], key
    assert {s.key for s in OPTIONAL_SETTINGS} >= {"heartbeat.action.query", "signal.data.collection"}


def test_four_tables_present() -> None:
    rows = build_settings(Stage("main"), OracleSource(CDB), BOOT, KafkaAuth.TLS)
    tables = next(r.value for r in rows if r.key == "table.include.list").split(",")
    assert tables == [t.qualified for t in CAPTURED_TABLES]


# -- mutation tests: each of these breaks the config, and our checks must say so -------------------

MUTATIONS = [
    (
        "1.x name database.server.name",
        lambda c: c.update({"database.server.name": "wms"}),
        "database.server.name",
    ),
    (
        "1.x history",
        lambda c: c.update({"database.history.kafka.topic": "h"}),
        "database.history.kafka.topic",
    ),
    (
        "1.x retention",
        lambda c: c.update({"log.mining.transaction.retention.hours": "4"}),
        "log.mining.transaction.retention.hours",
    ),
    ("1.x snapshot value", lambda c: c.update({"snapshot.mode": "schema_only"}), "snapshot.mode"),
    (
        "missing history topic",
        lambda c: c.pop("schema.history.internal.kafka.topic"),
        "schema.history.internal.kafka.topic",
    ),
    (
        "missing history servers",
        lambda c: c.pop("schema.history.internal.kafka.bootstrap.servers"),
        "schema.history.internal.kafka.bootstrap.servers",
    ),
    ("tasks.max=2", lambda c: c.update({"tasks.max": "2"}), "tasks.max"),
    ("bad strategy", lambda c: c.update({"log.mining.strategy": "nope"}), "log.mining.strategy"),
    ("bad decimal", lambda c: c.update({"decimal.handling.mode": "float"}), "decimal.handling.mode"),
    ("bad snapshot", lambda c: c.update({"snapshot.mode": "sometimes"}), "snapshot.mode"),
    (
        "bad filter",
        lambda c: c.update({"log.mining.query.filter.mode": "like"}),
        "log.mining.query.filter.mode",
    ),
    (
        "skip failures",
        lambda c: c.update({"event.processing.failure.handling.mode": "skip"}),
        "event.processing.failure.handling.mode",
    ),
    (
        "missing table",
        lambda c: c.update(
            {"table.include.list": "MMDL.PLAN_BASE_WVR_TBL,WMS.PLAN_BASE_WVR_TBL,WMS.PLAN_WVR_RVSN_TBL"}
        ),
        "table.include.list",
    ),
    ("missing schema", lambda c: c.update({"schema.include.list": "WMS"}), "schema.include.list"),
    ("plaintext password", lambda c: c.update({"database.password": PASSWORD}), "database.password"),
    ("password elsewhere", lambda c: c.update({"driver.note": f"pw={PASSWORD}"}), "driver.note"),
    (
        "bad signal channel",
        lambda c: c.update({"signal.enabled.channels": "source,carrier-pigeon"}),
        "signal.enabled.channels",
    ),
    ("wrong class", lambda c: c.update({"connector.class": "x.Y"}), "connector.class"),
    ("ms timestamps", lambda c: c.update({"time.precision.mode": "connect"}), "time.precision.mode"),
    ("us timestamps", lambda c: c.update({"time.precision.mode": "microseconds"}), "time.precision.mode"),
    ("double decimals", lambda c: c.update({"decimal.handling.mode": "double"}), "decimal.handling.mode"),
    ("bad eos", lambda c: c.update({"exactly.once.support": "always"}), "exactly.once.support"),
]


@pytest.mark.parametrize(("what", "mutate", "key"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation_is_caught(what: str, mutate: object, key: str) -> None:
    config = oracle(Stage("main"))
    mutate(config)  # type: ignore[operator]
    found = errors(check_config(config, known_secrets=[PASSWORD]))
    assert key in {p.key for p in found}, (what, found)


def test_messages_never_echo_the_secret() -> None:
    config = oracle(Stage("main"))
    config["database.password"] = PASSWORD
    config["x.y"] = PASSWORD
    assert all(PASSWORD not in p.message for p in check_config(config, known_secrets=[PASSWORD]))


def test_removed_tunables_warn_but_pass() -> None:
    config = oracle(Stage("main"))
    config["log.mining.batch.size.max"] = "100000"
    problems = check_config(config)
    assert [p.key for p in problems] == ["log.mining.batch.size.max"]
    assert not problems[0].is_error


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_values_are_lossless_and_delivery_exactly_once(stage: str) -> None:
    for config in (oracle(Stage(stage)), standin(Stage(stage))):
        assert config["time.precision.mode"] == "adaptive"  # TIMESTAMP(0..9) keep every digit
        assert config["decimal.handling.mode"] == "string"  # NUMBER keeps every digit
        assert config["exactly.once.support"] == "required"
        assert errors(check_config(config)) == []


def test_the_exactly_once_switch() -> None:
    assert [s.key for s in exactly_once_settings(True)] == ["exactly.once.support"]
    assert exactly_once_settings(False) == []  # at-least-once, Connect's default
