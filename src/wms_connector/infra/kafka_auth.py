"""How a stage's Kafka clients authenticate, in the template (issue 23: authenticated clients only).

* ``iam`` (the default): the roles' MSK grants (``infra/kafka_iam.py``).
* ``mtls``: the ``kafkaClientCert`` secret reaches the task's short-lived secrets container only,
  as one ECS secret read by the *execution* role; the container validates it and writes the
  client's PEM files (``wms-connector kafka-cert write``) on a task volume of their own,
  ``kafka-tls``, that the Connect and agent containers mount read-only (the agent reads the hold
  topic; it never mounts the password's volume). Synth only locates the secret
  (``DescribeSecret``): the template names it and holds no PEM, and neither the task role nor
  the deploy role reads it.
* ``tls``: no client identity. Allowed, because a cluster may be run that way, but synth warns
  (:func:`unauthenticated_warning`): the MSK cluster must then allow unauthenticated clients, and
  anyone who reaches its brokers can read and write every topic.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager

from wms_connector.connect.secret_refs import CLIENT_CERT_ENV, KAFKA_TLS_DIR
from wms_connector.infra.connect_service import ConnectService
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import KAFKA_CLIENT_CERT
from wms_connector.stages import KafkaAuth

#: The task volume holding the Kafka client certificate's files (written by the secrets container).
KAFKA_TLS_VOLUME = "kafka-tls"


def unauthenticated_warning(names: StageNames, auth: KafkaAuth) -> str | None:
    """What synth says about a stage whose Kafka clients present no identity (``None``: nothing)."""
    if auth.authenticated:
        return None
    return (
        f"stage {names.stage.name!r} uses kafka_auth={auth.value}: its Kafka clients present no identity, so "
        "the MSK cluster must allow unauthenticated clients, and anyone who reaches its brokers can read "
        "and write every topic (this stage's included) with no ACL or IAM policy to stop them; use iam "
        "(the default) or mtls (docs/infrastructure.md, 'Kafka client auth')"
    )


def missing_certificate_message(names: StageNames) -> str:
    tried = " and ".join(repr(p) for p in names.secret_paths(KAFKA_CLIENT_CERT.name))
    return (
        f"stage {names.stage.name!r} uses kafka_auth=mtls but no {KAFKA_CLIENT_CERT.name} secret exists at "
        f"{tried}; store the client certificate there (JSON certificate, privateKey, optional caBundle; "
        "docs/infrastructure.md, 'Kafka client auth')"
    )


def give_client_certificate(
    service: ConnectService, readers: tuple[ecs.ContainerDefinition, ...], secret_path: str
) -> secretsmanager.ISecret:
    """The whole ``kafkaClientCert`` secret into the secrets container's environment, by reference
    (``ecs.Secret`` grants the read to the task's execution role, nobody else), and its files'
    volume into ``readers`` (the Connect and agent containers), read-only."""
    secret = secretsmanager.Secret.from_secret_name_v2(service, "KafkaClientCertSecret", secret_path)
    service.task_definition.add_volume(name=KAFKA_TLS_VOLUME)
    writer = service.secrets_container
    writer.add_secret(CLIENT_CERT_ENV, ecs.Secret.from_secrets_manager(secret))
    writer.add_mount_points(
        ecs.MountPoint(container_path=KAFKA_TLS_DIR, source_volume=KAFKA_TLS_VOLUME, read_only=False)
    )
    for reader in readers:
        reader.add_mount_points(
            ecs.MountPoint(container_path=KAFKA_TLS_DIR, source_volume=KAFKA_TLS_VOLUME, read_only=True)
        )
    return secret
