"""The local KRaft broker's properties (pure): one node, controller and broker combined."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Final

NODE_ID: Final = 1
BROKER_LISTENER: Final = "PLAINTEXT"
CONTROLLER_LISTENER: Final = "CONTROLLER"


def new_cluster_id() -> str:
    """A KRaft cluster id (a random UUID in URL-safe base64, as `kafka-storage random-uuid` makes)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that read like a command-line flag
            return text


def broker_properties(*, broker_port: int, controller_port: int, log_dir: Path) -> dict[str, str]:
    host = "127.0.0.1"
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{host}:{controller_port}",
        "listeners": f"{BROKER_LISTENER}://{host}:{broker_port},{CONTROLLER_LISTENER}://{host}:{controller_port}",
        "advertised.listeners": f"{BROKER_LISTENER}://{host}:{broker_port}",
        "controller.listener.names": CONTROLLER_LISTENER,
        "inter.broker.listener.name": BROKER_LISTENER,
        "listener.security.protocol.map": f"{BROKER_LISTENER}:PLAINTEXT,{CONTROLLER_LISTENER}:PLAINTEXT",
        "log.dirs": str(log_dir),
        # One broker: every replication factor is 1.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "default.replication.factor": "1",
        "num.partitions": "1",
        # Like MSK's default: topics are created explicitly, never by a producer's first write.
        "auto.create.topics.enable": "false",
        # Let the Connect group form at once instead of waiting for more members.
        "group.initial.rebalance.delay.ms": "0",
        "log.segment.bytes": str(64 * 1024 * 1024),
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
    }
