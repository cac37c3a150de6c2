"""The Kafka ACLs a stage's certificate principal needs (``kafka_auth = mtls``), pure.

With mtls the broker knows the client by its certificate's subject (Kafka's default SSL principal
builder: ``User:CN=...,OU=...``, :attr:`~wms_connector.secrets.client_cert.KafkaClientCert.principal`)
and the cluster's ACLs decide what it may do; no IAM policy is involved. One certificate per stage
serves the workers, the agent (hold topic), and whoever creates the stage's topics under it (the
topics Lambda, ``wms-connector topics create``). The list mirrors the MSK IAM grants of
``infra/kafka_iam.py``: exact topic and group names (never a prefix a neighbour could share), the
tasks' transactional ids under the Connect group id (Connect picks the suffix) and the leader's
``connect-cluster-<group.id>``, and on the cluster only
``IdempotentWrite``. ``tests/integration/test_kafka_mtls.py`` starts a worker against a broker
that grants exactly these and nothing else.

``kafka_acls_commands`` prints them as ``kafka-acls.sh`` invocations (docs/stream.md).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from wms_connector.naming import StageNames


class AclResource(StrEnum):
    TOPIC = "topic"
    GROUP = "group"
    TRANSACTIONAL_ID = "transactional-id"
    CLUSTER = "cluster"


class AclPattern(StrEnum):
    LITERAL = "literal"
    PREFIXED = "prefixed"


#: Kafka's own name of the one cluster resource.
CLUSTER_RESOURCE: Final = "kafka-cluster"


@dataclass(frozen=True)
class Acl:
    """Allow ``operations`` on one resource (or every resource starting with ``name``)."""

    resource: AclResource
    name: str
    operations: tuple[str, ...]
    why: str
    pattern: AclPattern = AclPattern.LITERAL


#: Read and write the stage's topics (the workers, Debezium's history and signal clients, the hold).
TOPIC_USE: Final = ("Describe", "DescribeConfigs", "Read", "Write")
#: Create and configure them (the topics Lambda / ``topics create``; the workers never create one).
TOPIC_MANAGE: Final = ("Create", "AlterConfigs")


def stage_acls(names: StageNames) -> tuple[Acl, ...]:
    """Every ACL of the stage's principal, in a stable order."""
    manage = (*TOPIC_MANAGE, "Delete") if names.stage.is_ephemeral else TOPIC_MANAGE
    groups = (
        (names.group_id, "the Connect workers' group"),
        (names.schema_history_consumer_group, "Debezium's schema-history consumer"),
        (names.signal_consumer_group, "Debezium's Kafka signal consumer"),
        (names.hold_reader_group, "the agents' hold reader (never joined; its coordinator is looked up)"),
    )
    acls = [
        Acl(
            AclResource.TOPIC,
            topic,
            (*TOPIC_USE, *manage),
            "the stage's own topic: used by the workers and agent, created and configured by the topics "
            "Lambda" + (" (deleted with the ephemeral stage)" if names.stage.is_ephemeral else ""),
        )
        for topic in names.all_topics
    ]
    acls += [Acl(AclResource.GROUP, group, ("Describe", "Read"), why) for group, why in groups]
    acls.append(
        Acl(
            AclResource.TRANSACTIONAL_ID,
            f"{names.group_id}-",
            ("Describe", "Write"),
            "exactly-once source: the tasks' producers, <group>-<connector>-<task>",
            AclPattern.PREFIXED,
        )
    )
    acls.append(
        Acl(
            AclResource.TRANSACTIONAL_ID,
            names.leader_transactional_id,
            ("Describe", "Write"),
            "exactly-once source: the leader's config-topic writes, connect-cluster-<group>",
        )
    )
    acls.append(
        Acl(
            AclResource.CLUSTER,
            CLUSTER_RESOURCE,
            ("IdempotentWrite",),
            "idempotent and transactional producers (the workers' and the agent's)",
        )
    )
    return tuple(acls)


_FLAG: Final = {
    AclResource.TOPIC: "--topic",
    AclResource.GROUP: "--group",
    AclResource.TRANSACTIONAL_ID: "--transactional-id",
}


def kafka_acls_commands(names: StageNames, principal: str, bootstrap: str = "BOOTSTRAP") -> list[str]:
    """``kafka-acls.sh --add`` lines that grant :func:`stage_acls` to ``principal``."""
    lines = []
    for acl in stage_acls(names):
        target = ["--cluster"] if acl.resource is AclResource.CLUSTER else [_FLAG[acl.resource], acl.name]
        if acl.pattern is AclPattern.PREFIXED:
            target += ["--resource-pattern-type", "prefixed"]
        words = ["kafka-acls.sh", "--bootstrap-server", bootstrap, "--add", "--allow-principal", principal]
        for operation in acl.operations:
            words += ["--operation", operation]
        lines.append(shlex.join([*words, *target]))
    return lines
