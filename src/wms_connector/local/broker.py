"""The local KRaft nodes' properties (pure).

* One broker (the default): one node, controller and broker combined (node 1).
* ``N`` brokers (``local up --brokers 3``): production's shape. N broker-only nodes (ids 1..N)
  and one controller-only node (id :data:`CONTROLLER_NODE_ID`), as on MSK, where the controllers
  are not the brokers a maintenance restarts: a broker can then be restarted, frozen or started
  again with an empty data directory (broker replacement) without touching the metadata quorum.
  Internal topics (consumer offsets, transaction state) get replication factor 3 (at most N) and
  ``min.insync.replicas=2``, MSK's defaults for a three-AZ cluster.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Final

NODE_ID: Final = 1
#: The controller-only node of a multi-broker cluster (brokers are 1..N).
CONTROLLER_NODE_ID: Final = 0
BROKER_LISTENER: Final = "PLAINTEXT"
CONTROLLER_LISTENER: Final = "CONTROLLER"
HOST: Final = "127.0.0.1"
#: MSK's defaults for a three-AZ cluster: replication factor 3, two in-sync replicas per write.
MAX_REPLICATION_FACTOR: Final = 3
MIN_INSYNC_REPLICAS: Final = 2


def new_cluster_id() -> str:
    """A KRaft cluster id (a random UUID in URL-safe base64, as `kafka-storage random-uuid` makes)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that read like a command-line flag
            return text


def replication_for(brokers: int) -> int:
    """The replication factor of every topic on a local cluster of ``brokers`` brokers."""
    return max(1, min(brokers, MAX_REPLICATION_FACTOR))


def _common(log_dir: Path) -> dict[str, str]:
    return {
        "controller.listener.names": CONTROLLER_LISTENER,
        "listener.security.protocol.map": f"{BROKER_LISTENER}:PLAINTEXT,{CONTROLLER_LISTENER}:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
    }


def _broker_defaults(brokers: int) -> dict[str, str]:
    rf = replication_for(brokers)
    min_isr = str(MIN_INSYNC_REPLICAS if rf >= MAX_REPLICATION_FACTOR else 1)
    return {
        "inter.broker.listener.name": BROKER_LISTENER,
        "offsets.topic.replication.factor": str(rf),
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": str(rf),
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": str(rf),
        "share.coordinator.state.topic.min.isr": min_isr,
        "default.replication.factor": str(rf),
        "min.insync.replicas": min_isr,
        "num.partitions": "1",
        # Like MSK's default: topics are created explicitly, never by a producer's first write.
        "auto.create.topics.enable": "false",
        # Let the Connect group form at once instead of waiting for more members.
        "group.initial.rebalance.delay.ms": "0",
        "log.segment.bytes": str(64 * 1024 * 1024),
    }


def broker_properties(*, broker_port: int, controller_port: int, log_dir: Path) -> dict[str, str]:
    """The single node of a one-broker cluster: controller and broker combined, replication 1."""
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"{BROKER_LISTENER}://{HOST}:{broker_port},{CONTROLLER_LISTENER}://{HOST}:{controller_port}",
        "advertised.listeners": f"{BROKER_LISTENER}://{HOST}:{broker_port}",
        **_common(log_dir),
        **_broker_defaults(1),
    }


def controller_properties(*, controller_port: int, log_dir: Path) -> dict[str, str]:
    """The controller-only node of a multi-broker cluster (the whole metadata quorum)."""
    return {
        "process.roles": "controller",
        "node.id": str(CONTROLLER_NODE_ID),
        "controller.quorum.voters": f"{CONTROLLER_NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"{CONTROLLER_LISTENER}://{HOST}:{controller_port}",
        **_common(log_dir),
    }


def cluster_broker_properties(
    *, node_id: int, broker_port: int, controller_port: int, brokers: int, log_dir: Path
) -> dict[str, str]:
    """Broker-only node ``node_id`` (1..``brokers``) of a multi-broker cluster."""
    if not 1 <= node_id <= brokers:
        raise ValueError(f"node_id {node_id} is not one of the brokers 1..{brokers}")
    return {
        "process.roles": "broker",
        "node.id": str(node_id),
        "controller.quorum.voters": f"{CONTROLLER_NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"{BROKER_LISTENER}://{HOST}:{broker_port}",
        "advertised.listeners": f"{BROKER_LISTENER}://{HOST}:{broker_port}",
        **_common(log_dir),
        **_broker_defaults(brokers),
    }
