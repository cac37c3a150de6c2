"""The worker config of a stage: namespaced names, security per auth, the settings we rely on."""

from __future__ import annotations

import pytest

from wms_connector.connect.secret_refs import (
    KAFKA_TLS_DIR,
    LOCAL_SECRET_SOURCES,
    SECRETS_DIR,
    ClientTlsFiles,
    SecretSources,
)
from wms_connector.connect.worker_config import (
    CLIENT_PREFIXES,
    SECRET_ENV_ALLOWLIST_PATTERN,
    WorkerEndpoint,
    client_security_settings,
    jvm_heap_opts,
    render_properties,
    topics_named,
    worker_config,
)
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage, settings_for

ENDPOINT = WorkerEndpoint(bootstrap_servers="b-1.example:9094", advertised_host="10.0.0.7")
PLUGINS = ("/opt/connect/plugins",)


@pytest.mark.parametrize("stage", ["feature-x", "a", "it-local", "x" * 36])
def test_every_topic_of_an_ephemeral_stage_is_in_its_namespace(stage: str) -> None:
    parsed = Stage(stage)
    props = worker_config(parsed, ENDPOINT, PLUGINS)
    namespace = f"--wms--{stage}--"
    for name in topics_named(props):
        assert name.startswith(namespace), name
    assert props["group.id"] == names_for(parsed).group_id


@pytest.mark.parametrize("stage", ["main", "val", "production"])
def test_a_named_stage_uses_its_own_unnamespaced_topics(stage: str) -> None:
    parsed = Stage(stage)
    names = names_for(parsed)
    props = worker_config(parsed, ENDPOINT, PLUGINS)
    assert topics_named(props) == (
        names.group_id,
        names.config_topic,
        names.offsets_topic,
        names.status_topic,
    )
    assert props["config.storage.topic"] == f"mgmt.connect.wms-connector-{stage}.config"
    assert all("--wms--" not in name for name in topics_named(props))


def test_sizing_comes_from_the_stage() -> None:
    settings = settings_for(Stage("production"))
    props = worker_config(Stage("production"), ENDPOINT, PLUGINS)
    assert props["offset.storage.partitions"] == str(settings.offsets_topic_partitions)
    for kind in ("config", "offset", "status"):
        assert props[f"{kind}.storage.replication.factor"] == str(settings.replication_factor)


def test_the_settings_we_rely_on() -> None:
    props = worker_config(Stage("production"), ENDPOINT, PLUGINS)
    # Production: the secrets directory only, and no environment provider at all.
    assert props["config.providers"] == "dir"
    assert (
        props["config.providers.dir.class"]
        == "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
    )
    assert props["config.providers.dir.param.allowed.paths"] == "/opt/connect/secrets"
    assert not [key for key in props if key.startswith("config.providers.env")]
    assert props["connector.client.config.override.policy"] == "None"
    assert props["plugin.discovery"] == "service_load"
    assert props["key.converter"] == props["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    # Failover: detection + delay stays well under a minute.
    assert int(props["session.timeout.ms"]) + int(props["scheduled.rebalance.max.delay.ms"]) <= 30_000
    assert props["rest.advertised.host.name"] == "10.0.0.7"
    assert props["plugin.path"] == "/opt/connect/plugins"


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("ORACLE_PASSWORD", True),
        ("WMS_STANDIN_PASSWORD", True),
        ("AWS_SECRET_ACCESS_KEY", False),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", False),
        ("PATH", False),
        ("ORACLE_", False),
    ],
)
def test_the_env_allowlist_admits_only_connector_secrets(name: str, allowed: bool) -> None:
    import re

    assert bool(re.fullmatch(SECRET_ENV_ALLOWLIST_PATTERN, name)) is allowed


def test_local_workers_read_their_environment_through_the_allowlist_only() -> None:
    props = worker_config(Stage("main"), ENDPOINT, PLUGINS, secret_sources=LOCAL_SECRET_SOURCES)
    assert props["config.providers"] == "env"
    assert (
        props["config.providers.env.class"] == "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    )
    assert props["config.providers.env.param.allowlist.pattern"] == SECRET_ENV_ALLOWLIST_PATTERN
    assert not [key for key in props if key.startswith("config.providers.dir")]


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        ({"secrets_dir": None, "env_allowlist": None}, "at least one"),
        ({"secrets_dir": "secrets"}, "absolute"),
    ],
)
def test_a_worker_without_a_secret_source_or_with_a_relative_directory_is_refused(
    sources: dict[str, str | None], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        SecretSources(**sources)  # type: ignore[arg-type]


@pytest.mark.parametrize("auth", list(KafkaAuth))
def test_security_settings_reach_the_worker_and_every_client(auth: KafkaAuth) -> None:
    props = worker_config(Stage("val"), ENDPOINT, PLUGINS, auth=auth)
    security = client_security_settings(auth)
    for prefix in ("", *CLIENT_PREFIXES):
        for key, value in security.items():
            assert props[f"{prefix}{key}"] == value


def test_security_settings_per_auth() -> None:
    assert client_security_settings(KafkaAuth.TLS) == {"security.protocol": "SSL"}
    assert client_security_settings(KafkaAuth.PLAINTEXT) == {"security.protocol": "PLAINTEXT"}
    iam = client_security_settings(KafkaAuth.IAM)
    assert iam["security.protocol"] == "SASL_SSL"
    assert iam["sasl.mechanism"] == "AWS_MSK_IAM"
    assert iam["sasl.jaas.config"] == "software.amazon.msk.auth.iam.IAMLoginModule required;"
    assert (
        iam["sasl.client.callback.handler.class"] == "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
    )


def test_default_auth_is_the_stages_and_iam_for_every_stage_kind() -> None:
    for stage in ("main", "val", "production", "feature-x"):
        props = worker_config(Stage(stage), ENDPOINT, PLUGINS)
        assert props["security.protocol"] == "SASL_SSL", stage
        assert props["sasl.mechanism"] == "AWS_MSK_IAM", stage


MTLS_KEYS = (
    "security.protocol",
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.truststore.type",
    "ssl.truststore.location",
)


def test_mtls_names_pem_files_for_the_worker_and_every_client_prefix() -> None:
    files = ClientTlsFiles("/run/kafka-tls")
    props = worker_config(Stage("production"), ENDPOINT, PLUGINS, auth=KafkaAuth.MTLS, client_tls=files)
    for prefix in ("", *CLIENT_PREFIXES):
        got = {key: props[f"{prefix}{key}"] for key in MTLS_KEYS}
        assert got == {
            "security.protocol": "SSL",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": "/run/kafka-tls/kafka-client-keystore.pem",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": "/run/kafka-tls/kafka-ca.pem",
        }, prefix
    # Paths only: no inline PEM (ssl.keystore.key / certificate.chain) and no password-protected
    # store a password would have to be written for.
    for key, value in props.items():
        assert "BEGIN" not in value, key
        assert not key.endswith(("ssl.keystore.key", "ssl.keystore.certificate.chain", "password")), key
    assert not any(key.endswith("sasl.jaas.config") for key in props)


def test_mtls_defaults_to_the_images_certificate_volume_not_the_secrets_directory() -> None:
    props = worker_config(Stage("main"), ENDPOINT, PLUGINS, auth=KafkaAuth.MTLS)
    assert props["ssl.keystore.location"] == f"{KAFKA_TLS_DIR}/kafka-client-keystore.pem"
    assert props["admin.ssl.truststore.location"] == f"{KAFKA_TLS_DIR}/kafka-ca.pem"
    assert KAFKA_TLS_DIR != SECRETS_DIR


def test_client_tls_files_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        ClientTlsFiles("relative/dir")


def test_heap_is_sized_from_the_container() -> None:
    settings = settings_for(Stage("production"))
    assert jvm_heap_opts(settings) == f"-Xms{settings.heap_mib}m -Xmx{settings.heap_mib}m"
    assert settings.heap_mib < settings.connect_memory_mib


def test_properties_are_escaped_for_java() -> None:
    text = render_properties({"a": "x=y", "k:e y": " lead", "p": "C:\\dir", "r": "^(A|B)_[A-Z]+$"})
    assert text.splitlines() == ["a=x=y", "k\\:e\\ y=\\ lead", "p=C:\\\\dir", "r=^(A|B)_[A-Z]+$"]


MSK_MIN_SESSION_TIMEOUT_MS = 6_000  # broker group.min.session.timeout.ms, Kafka's and MSK's default


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_failover_in_seconds_and_exactly_once(stage: str) -> None:
    props = worker_config(Stage(stage), ENDPOINT, PLUGINS)
    # The broker refuses a session below its minimum: the worker would never join the group.
    assert int(props["session.timeout.ms"]) >= MSK_MIN_SESSION_TIMEOUT_MS
    assert int(props["heartbeat.interval.ms"]) * 3 <= int(props["session.timeout.ms"])
    assert props["scheduled.rebalance.max.delay.ms"] == "0"  # a lost task moves in the same rebalance
    assert props["exactly.once.source.support"] == "enabled"
    assert props["consumer.isolation.level"] == "read_committed"


def test_the_exactly_once_switch_of_a_stage() -> None:
    off = settings_for(Stage("val")).model_copy(update={"exactly_once": False})
    props = worker_config(Stage("val"), ENDPOINT, PLUGINS, settings=off)
    assert props["exactly.once.source.support"] == "disabled"
