"""``kafka_auth = mtls`` against a real broker that requires client certificates (issue 23).

A broker from the pinned jars with two listeners: PLAINTEXT on loopback for itself (inter-broker,
controller; its ANONYMOUS principal is the only super user) and SSL with ``ssl.client.auth=required``
for the clients, and ACLs on (StandardAuthorizer, nothing allowed without an ACL). A CA and the
certificates are made here. The stage's principal, as :class:`KafkaClientCert` names it, gets
exactly :func:`stage_acls` and nothing else; then, over SSL with the certificate:

* the topics are created the way the topics Lambda does (``reconcile_topics`` over a
  confluent-kafka client from ``kafka.client.client_config``),
* a Connect worker runs our generated worker config in mtls mode (every client prefix with the
  PEM key store) with exactly-once on: it starts, joins its group and writes its internal topics,
* a Python client round-trips a record through the hold topic,

and a client without a certificate is refused. A connector run is left out: the worker's clients,
the connector's (the same settings under more prefixes, tests/unit/test_connector_config.py) and
the principal's ACLs are what mtls changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from tests.certs import TestCa
from wms_connector.connect.secret_refs import LOCAL_SECRET_SOURCES, ClientTlsFiles
from wms_connector.connect.worker_config import WorkerEndpoint, render_properties, worker_config
from wms_connector.kafka.acls import AclPattern, AclResource, stage_acls
from wms_connector.kafka.admin import TopicAdmin, reconcile_topics
from wms_connector.kafka.client import TLS_DIR_ENV, client_config, client_tls_files
from wms_connector.kafka.topics import topic_specs
from wms_connector.local import procs
from wms_connector.local.broker import broker_properties, new_cluster_id
from wms_connector.local.cluster import (
    BROKER_HEAP,
    BROKER_MAIN,
    JVM_COMMON,
    LOCAL_SIZING,
    LOG4J2,
    STORAGE_MAIN,
    WORKER_HEAP,
    WORKER_MAIN,
    group_members,
    stage_settings,
)
from wms_connector.local.fetch import FetchResult
from wms_connector.local.java import find_java
from wms_connector.naming import names_for
from wms_connector.secrets.client_cert import KafkaClientCert
from wms_connector.secrets.client_cert_files import write_client_tls_files
from wms_connector.stages import KafkaAuth, Stage

pytestmark = pytest.mark.integration

STAGE = Stage("it-mtls")
NAMES = names_for(STAGE)
HOST = "127.0.0.1"
TIMEOUT_S = 120.0

_RESOURCE = {
    AclResource.TOPIC: ResourceType.TOPIC,
    AclResource.GROUP: ResourceType.GROUP,
    AclResource.TRANSACTIONAL_ID: ResourceType.TRANSACTIONAL_ID,
    AclResource.CLUSTER: ResourceType.BROKER,
}
_PATTERN = {
    AclPattern.LITERAL: ResourcePatternType.LITERAL,
    AclPattern.PREFIXED: ResourcePatternType.PREFIXED,
}
_OPERATION = {
    "Describe": AclOperation.DESCRIBE,
    "DescribeConfigs": AclOperation.DESCRIBE_CONFIGS,
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Create": AclOperation.CREATE,
    "AlterConfigs": AclOperation.ALTER_CONFIGS,
    "Delete": AclOperation.DELETE,
    "IdempotentWrite": AclOperation.IDEMPOTENT_WRITE,
}


@dataclass(frozen=True)
class MtlsBroker:
    plain: str  # the super user's listener (set-up and checks only)
    ssl: str  # the clients' listener: certificate required
    ca: Path
    files: ClientTlsFiles  # the stage's client certificate, written as the image writes it
    cert: KafkaClientCert
    tag: str
    root: Path


def _java(
    layout_classpath: str, root: Path, tag: str, heap: tuple[str, ...], main: str, *args: str
) -> list[str]:
    java = find_java()
    return [
        str(java.executable),
        *heap,
        *JVM_COMMON,
        f"-Dlog4j2.configurationFile={root / 'log4j2.properties'}",
        procs.tag_arg(tag),
        "-cp",
        layout_classpath,
        main,
        *args,
    ]


def _until(what: str, ready: object, log: Path, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.3)
    pytest.fail(f"{what} not within {timeout_s:.0f} s; log tail:\n{procs.log_tail(log, 40)}")


def _answers(bootstrap: str, config: dict[str, object] | None = None) -> bool:
    try:
        AdminClient({"bootstrap.servers": bootstrap, **(config or {})}).list_topics(timeout=2)
    except KafkaException:
        return False
    return True


def _grant(admin: AdminClient, principal: str) -> None:
    bindings = [
        AclBinding(
            _RESOURCE[acl.resource],
            acl.name,
            _PATTERN[acl.pattern],
            principal,
            "*",
            _OPERATION[operation],
            AclPermissionType.ALLOW,
        )
        for acl in stage_acls(NAMES)
        for operation in acl.operations
    ]
    for future in admin.create_acls(bindings, request_timeout=30).values():
        future.result()


@pytest.fixture(scope="module")
def mtls_broker(runtime_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MtlsBroker]:
    root = tmp_path_factory.mktemp("mtls")
    (root / "log4j2.properties").write_text(LOG4J2)
    ca = TestCa()
    (root / "ca.pem").write_text(ca.pem)
    server = ca.issue(cn="broker", ip=HOST)
    (root / "broker.pem").write_text(server.key + server.certificate)
    client = ca.issue(cn=f"wms-connector-{STAGE.name}", ou="cdc")
    tls_dir = root / "kafka-tls"
    tls_dir.mkdir(mode=0o700)
    cert = KafkaClientCert.parse(json.dumps(client.secret(ca.pem)))
    files = ClientTlsFiles(str(tls_dir))
    write_client_tls_files(cert, files)

    plain_port, ssl_port, controller_port = procs.free_port(), procs.free_port(), procs.free_port()
    props = broker_properties(broker_port=plain_port, controller_port=controller_port, log_dir=root / "data")
    props |= {
        "listeners": f"PLAINTEXT://{HOST}:{plain_port},SSL://{HOST}:{ssl_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{plain_port},SSL://{HOST}:{ssl_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT",
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.ssl.ssl.keystore.type": "PEM",
        "listener.name.ssl.ssl.keystore.location": str(root / "broker.pem"),
        "listener.name.ssl.ssl.truststore.type": "PEM",
        "listener.name.ssl.ssl.truststore.location": str(root / "ca.pem"),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        # The broker itself (PLAINTEXT: inter-broker and controller) is ANONYMOUS on loopback.
        "super.users": "User:ANONYMOUS",
    }
    config = root / "broker.properties"
    config.write_text(render_properties(props))
    tag = uuid.uuid4().hex
    classpath = runtime_jars.layout.classpath
    formatted = subprocess.run(
        _java(
            classpath,
            root,
            tag,
            ("-Xmx256m",),
            STORAGE_MAIN,
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(config),
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_S,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    log = root / "broker.log"
    pid = procs.spawn(
        _java(classpath, root, tag, BROKER_HEAP, BROKER_MAIN, str(config)),
        log,
        cwd=root,
        env=dict(os.environ),
    )
    try:
        plain = f"{HOST}:{plain_port}"
        _until("the broker", lambda: _answers(plain), log)
        _grant(AdminClient({"bootstrap.servers": plain}), cert.principal)
        yield MtlsBroker(plain, f"{HOST}:{ssl_port}", root / "ca.pem", files, cert, tag, root)
    finally:
        procs.stop(pid, tag)


def test_a_client_without_a_certificate_is_refused(mtls_broker: MtlsBroker) -> None:
    anonymous = {"security.protocol": "SSL", "ssl.ca.location": str(mtls_broker.ca)}
    assert not _answers(mtls_broker.ssl, anonymous)
    # The same client with the stage's certificate is let in (and is not a super user: see below).
    assert _answers(
        mtls_broker.ssl, client_config(mtls_broker.ssl, KafkaAuth.MTLS, tls_files=mtls_broker.files)
    )


def test_the_stage_principal_creates_its_topics_runs_a_worker_and_round_trips_a_record(
    mtls_broker: MtlsBroker, runtime_jars: FetchResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python clients find the files through WMS_KAFKA_TLS_DIR (the agent, the CLI, the topics Lambda).
    monkeypatch.setenv(TLS_DIR_ENV, mtls_broker.files.directory)
    assert client_tls_files() == mtls_broker.files
    admin = TopicAdmin.connect(mtls_broker.ssl, KafkaAuth.MTLS)
    created = reconcile_topics(admin, topic_specs(STAGE, replication_factor=1), dry_run=False)
    assert not created.failed, created.to_json()
    # The ACLs are the principal's only rights: another stage's topic is out of reach.
    other = topic_specs(Stage("it-mtls-other"), replication_factor=1)[:1]
    assert admin.create(other)[other[0].name] is not None

    settings = stage_settings(STAGE)
    assert settings.exactly_once  # the transactional-id ACLs are exercised
    rest_port = procs.free_port()
    props = worker_config(
        STAGE,
        WorkerEndpoint(
            bootstrap_servers=mtls_broker.ssl, advertised_host=HOST, rest_port=rest_port, listen_host=HOST
        ),
        runtime_jars.layout.plugin_path,
        auth=KafkaAuth.MTLS,
        sizing=replace(LOCAL_SIZING, offsets_partitions=settings.offsets_topic_partitions),
        settings=settings,
        secret_sources=LOCAL_SECRET_SOURCES,
        client_tls=mtls_broker.files,
    )
    assert props["consumer.ssl.keystore.location"] == mtls_broker.files.keystore
    config = mtls_broker.root / "worker.properties"
    config.write_text(render_properties(props))
    log = mtls_broker.root / "worker.log"
    command = _java(
        runtime_jars.layout.classpath,
        mtls_broker.root,
        mtls_broker.tag,
        WORKER_HEAP,
        WORKER_MAIN,
        str(config),
    )
    pid = procs.spawn(command, log, cwd=mtls_broker.root, env=dict(os.environ))
    try:
        url = f"http://{HOST}:{rest_port}"

        def joined() -> bool:
            try:
                return httpx.get(f"{url}/connectors", timeout=3).status_code == 200 and bool(
                    group_members(mtls_broker.plain, NAMES.group_id)
                )
            except httpx.HTTPError:
                return False

        _until("the mtls worker in its group", joined, log)
        # Its config topic holds what the leader wrote through the certificate, in a transaction
        # (exactly-once: the session key, under connect-cluster-<group>).
        checker = TopicAdmin.connect(mtls_broker.plain, KafkaAuth.PLAINTEXT)
        _until(
            "the leader's first config-topic write",
            lambda: checker.end_offsets([NAMES.config_topic]).get(NAMES.config_topic, 0) > 0,
            log,
            timeout_s=30,
        )
        assert "SslAuthenticationException" not in log.read_text()
        assert "TopicAuthorizationException" not in log.read_text()
        assert "TransactionalIdAuthorizationException" not in log.read_text()
    finally:
        procs.stop(pid, mtls_broker.tag)

    # A Python client with the certificate: a record through the hold topic and back.
    key, value = b"round-trip", uuid.uuid4().hex.encode()
    producer = Producer(client_config(mtls_broker.ssl, KafkaAuth.MTLS) | {"enable.idempotence": True})
    producer.produce(NAMES.hold_topic, key=key, value=value)
    assert producer.flush(30) == 0
    consumer = Consumer(
        client_config(mtls_broker.ssl, KafkaAuth.MTLS)
        | {"group.id": NAMES.hold_reader_group, "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    )
    try:
        consumer.assign([TopicPartition(NAMES.hold_topic, 0, 0)])
        deadline, seen = time.monotonic() + 30, []
        while time.monotonic() < deadline and (key, value) not in seen:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                seen.append((message.key(), message.value()))
        assert (key, value) in seen
    finally:
        consumer.close()
