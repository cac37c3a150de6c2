"""Fixtures for the topic tests against the real local broker."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wms_connector.kafka.admin import TopicAdmin
from wms_connector.local.cluster import LocalCluster
from wms_connector.stages import KafkaAuth


@pytest.fixture(scope="session")
def topics_bootstrap(local_cluster: LocalCluster) -> str:
    """Bootstrap of the real local broker (the runtime's session cluster; plaintext on loopback)."""
    return local_cluster.bootstrap


@pytest.fixture
def admin(topics_bootstrap: str) -> Iterator[TopicAdmin]:
    yield TopicAdmin.connect(topics_bootstrap, KafkaAuth.PLAINTEXT)


# -- CloudFormation's side of a custom resource: the response URL and the alerts topic ------------


@dataclass
class CfnResponses:
    """A real HTTP server on loopback standing in for CloudFormation's pre-signed response URL."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str | None] = field(default_factory=list)


@pytest.fixture
def cfn_responses() -> Iterator[CfnResponses]:
    captured = CfnResponses(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            captured.received.append(json.loads(self.rfile.read(length)))
            captured.content_types.append(self.headers.get("Content-Type"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    captured.url = f"http://127.0.0.1:{server.server_address[1]}/cfn-response?X-Amz-Signature=fake"
    yield captured
    server.shutdown()
    server.server_close()


@dataclass
class Alerts:
    topic_arn: str
    sqs: Any
    queue_url: str

    def messages(self) -> list[dict[str, Any]]:
        """Every alert published so far (drained from the queue subscribed to the topic)."""
        found = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            if not batch.get("Messages"):
                return found
            for message in batch["Messages"]:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def alerts(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Alerts:
    """The stage's alerts topic in moto, with a queue subscribed so a test can read what was sent."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", moto_endpoint)
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    topic_arn = sns.create_topic(Name=f"wms-alerts-test-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Alerts(topic_arn, sqs, queue_url)
