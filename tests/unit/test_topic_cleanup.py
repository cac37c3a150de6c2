"""The cleanup handler's parsing and answering, without a broker (edges: the PUT and SNS)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wms_connector.lambdas.topic_cleanup import MAX_REASON, Answer, CfnEvent, handle, response_body

EVENT = {
    "RequestType": "Create",
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:wms-connector-x-topic-cleanup",
    "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/wms-connector-x/guid",
    "RequestId": "req-1",
    "ResourceType": "Custom::TopicCleanup",
    "LogicalResourceId": "TopicCleanup",
    "ResourceProperties": {"ServiceToken": "arn:...", "Stage": "x"},
}
ENV = {"STAGE": "x", "BOOTSTRAP": "b-1.msk:9094", "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:wms-alerts-x"}


class Recorder:
    def __init__(self) -> None:
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.published: list[dict[str, str]] = []

    def put(self, url: str, body: bytes, timeout: float) -> int:
        self.puts.append((url, json.loads(body)))
        return 200

    def publish(self, *, TopicArn: str, Subject: str, Message: str) -> None:  # noqa: N803
        self.published.append({"TopicArn": TopicArn, "Subject": Subject, "Message": Message})


def _run(event: dict[str, Any], env: dict[str, str]) -> Recorder:
    rec = Recorder()

    def no_broker(*args: object, **kwargs: object) -> Any:
        raise AssertionError("Create/Update must not contact Kafka")

    handle(event, env, lambda: 60_000, rec, connect=no_broker, put=rec.put)
    return rec


def test_create_is_a_no_op_that_succeeds() -> None:
    rec = _run(EVENT, ENV)
    ((url, body),) = rec.puts
    assert url == EVENT["ResponseURL"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "wms-connector-x-topic-cleanup/topics"
    assert rec.published == []


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({**ENV, "STAGE": "production"}, "named stage"),
        ({**ENV, "STAGE": "Bad_Stage"}, "invalid stage"),
        ({**ENV, "BOOTSTRAP": ""}, "bootstrap"),
        ({**ENV, "KAFKA_AUTH": "kerberos"}, "kafka_auth"),
    ],
)
def test_misconfigured_create_fails_and_delete_succeeds(env: dict[str, str], needle: str) -> None:
    created = _run(EVENT, env)
    assert created.puts[0][1]["Status"] == "FAILED"
    assert needle in created.puts[0][1]["Reason"]
    deleted = _run({**EVENT, "RequestType": "Delete", "PhysicalResourceId": "p"}, env)
    assert deleted.puts[0][1]["Status"] == "SUCCESS"
    assert deleted.puts[0][1]["PhysicalResourceId"] == "p"
    assert [needle in m["Message"] for m in deleted.published] == [True]


def test_event_without_response_url_is_not_answered() -> None:
    rec = Recorder()
    assert handle({"RequestType": "Delete"}, ENV, lambda: 60_000, rec, put=rec.put) is None
    assert rec.puts == []


def test_reason_is_cut_to_fit_the_response_limit() -> None:
    body = json.loads(response_body(CfnEvent.model_validate(EVENT), Answer("SUCCESS", "x" * 10_000, "p", {})))
    assert len(body["Reason"]) == MAX_REASON
    assert len(response_body(CfnEvent.model_validate(EVENT), Answer("SUCCESS", "x" * 10_000, "p", {}))) < 4096


def test_a_failing_put_is_retried() -> None:
    rec = Recorder()
    attempts: list[int] = []

    def flaky(url: str, body: bytes, timeout: float) -> int:
        attempts.append(1)
        if len(attempts) < 2:
            raise OSError("connection reset")
        return rec.put(url, body, timeout)

    handle(EVENT, ENV, lambda: 60_000, rec, put=flaky)
    assert len(attempts) == 2
    assert rec.puts[0][1]["Status"] == "SUCCESS"
