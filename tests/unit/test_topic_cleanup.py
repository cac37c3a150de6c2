"""The topics handler's parsing and answering, without a broker (edges: the PUT, SNS, the admin client).

The broker work itself runs against the real local broker in
``tests/integration/topics/test_topic_cleanup_lambda.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from wms_connector.lambdas.topics import (
    FAILED_CREATE_MARK,
    MAX_REASON,
    Answer,
    CfnEvent,
    handle,
    response_body,
)

EVENT = {
    "RequestType": "Create",
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:wms-connector-x-topics",
    "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/wms-connector-x/guid",
    "RequestId": "req-1",
    "ResourceType": "Custom::WmsTopics",
    "LogicalResourceId": "TopicsResource",
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


def _no_broker(*args: object, **kwargs: object) -> Any:
    raise ConnectionRefusedError("no broker in a unit test")


def _run(event: dict[str, Any], env: dict[str, str]) -> Recorder:
    rec = Recorder()
    handle(event, env, lambda: 60_000, rec, connect=_no_broker, put=rec.put)
    return rec


def test_create_that_cannot_reach_kafka_fails_and_its_rollback_deletes_nothing() -> None:
    rec = _run(EVENT, ENV)
    ((url, body),) = rec.puts
    assert url == EVENT["ResponseURL"]
    assert body["Status"] == "FAILED"
    assert "could not be reconciled on b-1.msk:9094" in body["Reason"]
    assert body["PhysicalResourceId"] == "wms-connector-x-topics/topics" + FAILED_CREATE_MARK
    # CloudFormation's rollback sends Delete with that id: no broker call, SUCCESS.
    rollback = _run({**EVENT, "RequestType": "Delete", "PhysicalResourceId": body["PhysicalResourceId"]}, ENV)
    assert rollback.puts[0][1]["Status"] == "SUCCESS"
    assert "no topic deleted" in rollback.puts[0][1]["Reason"]
    assert rec.published == rollback.published == []


def test_the_reason_and_the_alert_name_the_kind_of_failure_never_the_exception_text() -> None:
    said = "SASL authentication failed for principal arn:aws:sts::123456789012:assumed-role/x"

    def refusing(*args: object, **kwargs: object) -> Any:
        raise RuntimeError(said)

    for request in (
        EVENT,
        {**EVENT, "RequestType": "Delete", "PhysicalResourceId": "wms-connector-x-topics/t"},
    ):
        rec = Recorder()
        handle(request, ENV, lambda: 60_000, rec, connect=refusing, put=rec.put)
        reason = rec.puts[0][1]["Reason"]
        assert "RuntimeError" in reason and "function's log" in reason, reason
        assert said not in reason and all(said not in m["Message"] for m in rec.published)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
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

    handle(EVENT, ENV, lambda: 60_000, rec, connect=_no_broker, put=flaky)
    assert len(attempts) == 2
    assert rec.puts[0][1]["Status"] == "FAILED"
