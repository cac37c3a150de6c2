"""The topics custom resource (every stage), driven with CloudFormation's event shapes.

Real pieces: the local broker, moto's server for SNS (an SQS queue subscribed to read alerts),
and an HTTP server on loopback as the pre-signed response URL. The event shapes are those of
the AWS CloudFormation documentation ("Custom resource request objects").
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from wms_connector.kafka.admin import TopicAdmin, delete_stage_topics, reconcile_topics
from wms_connector.kafka.reconcile import ActionKind
from wms_connector.kafka.topics import TopicRole, topic_specs
from wms_connector.lambdas.topics import FAILED_CREATE_MARK, handler
from wms_connector.local.procs import free_port
from wms_connector.naming import names_for
from wms_connector.stages import Stage

from .conftest import Alerts, CfnResponses

#: The data topics' history window (issue 21): a longer one than specified is left alone.
WINDOW = "min.compaction.lag.ms"

pytestmark = pytest.mark.integration

STAGE = Stage("cleanup-me")
NEIGHBOUR = Stage("cleanup-me-2")
MAIN = Stage("main")
ACCOUNT = "123456789012"
#: A stage whose topics only the Create test makes (and the end of this module deletes).
FRESH = Stage("topics-fresh")


class LambdaContext:
    """The one method of the Lambda context object the handler uses, over a real clock."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self.function_name = names_for(STAGE).topics_function

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))


def _event(
    request_type: str, response_url: str, stage: Stage = STAGE, physical_id: str | None = None
) -> dict[str, Any]:
    stack = names_for(stage).connector_stack
    token = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{names_for(stage).topics_function}"
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": token,
        "ResponseURL": response_url,
        "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{stack}/{uuid.uuid4()}",
        "RequestId": str(uuid.uuid4()),
        "ResourceType": "Custom::WmsTopics",
        "LogicalResourceId": "TopicsResource",
        "ResourceProperties": {
            "ServiceToken": token,
            "Stage": stage.name,
        },
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = dict(event["ResourceProperties"])
    return event


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, topics_bootstrap: str, alerts: Alerts) -> None:
    monkeypatch.setenv("STAGE", STAGE.name)
    monkeypatch.setenv("BOOTSTRAP", topics_bootstrap)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", alerts.topic_arn)
    monkeypatch.setenv("KAFKA_AUTH", "plaintext")
    monkeypatch.setenv("REPLICATION_FACTOR", "1")  # one local broker
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def stage_topics(admin: TopicAdmin) -> set[str]:
    """The stage's topics, a confusable neighbour's and main's, all present on the broker."""
    for stage in (STAGE, NEIGHBOUR, MAIN):
        assert not reconcile_topics(admin, topic_specs(stage, replication_factor=1), dry_run=False).failed
    return set(names_for(STAGE).all_topics)


def _answer(cfn: CfnResponses, event: dict[str, Any]) -> dict[str, Any]:
    (body,) = cfn.received
    assert cfn.content_types == [""]  # part of the pre-signed URL's signature
    assert body["RequestId"] == event["RequestId"]
    assert body["StackId"] == event["StackId"]
    assert body["LogicalResourceId"] == event["LogicalResourceId"]
    assert body["PhysicalResourceId"]
    return body


def _plan(admin: TopicAdmin, stage: Stage) -> list[ActionKind]:
    """What `topics create --dry-run` would do now (the same specs as the handler, RF 1)."""
    result = reconcile_topics(admin, topic_specs(stage, replication_factor=1), dry_run=True)
    return [r.action.kind for r in result.results]


def _again(cfn: CfnResponses) -> None:
    cfn.received.clear()
    cfn.content_types.clear()


@pytest.mark.usefixtures("lambda_env")
def test_create_makes_every_topic_of_a_fresh_stage_with_its_configs(
    cfn_responses: CfnResponses, admin: TopicAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGE", FRESH.name)
    assert not set(names_for(FRESH).all_topics) & admin.topic_names()
    event = _event("Create", cfn_responses.url, stage=FRESH)
    handler(event, LambdaContext(120))
    body = _answer(cfn_responses, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"{names_for(FRESH).topics_function}/topics"
    assert f"{len(names_for(FRESH).all_topics)} create" in body["Reason"]
    assert set(names_for(FRESH).all_topics) <= admin.topic_names()
    assert set(_plan(admin, FRESH)) == {ActionKind.OK}  # partitions and configs as specified


@pytest.mark.usefixtures("lambda_env")
def test_create_succeeds_and_touches_no_topic(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str], alerts: Alerts
) -> None:
    """The stage's topics already exist as specified: Create answers SUCCESS and changes nothing."""
    before = admin.describe(stage_topics)
    event = _event("Create", cfn_responses.url)
    handler(event, LambdaContext(60))
    body = _answer(cfn_responses, event)
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == f"{names_for(STAGE).topics_function}/topics"
    assert f"{len(stage_topics)} ok" in body["Reason"]
    assert admin.describe(stage_topics) == before
    assert alerts.messages() == []


@pytest.mark.usefixtures("lambda_env")
def test_update_succeeds_and_keeps_the_physical_id(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str]
) -> None:
    event = _event("Update", cfn_responses.url, physical_id="kept-id")
    handler(event, LambdaContext(60))
    body = _answer(cfn_responses, event)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "kept-id")
    assert stage_topics <= admin.topic_names()
    _again(cfn_responses)
    handler(event, LambdaContext(60))  # idempotent
    assert _answer(cfn_responses, event)["Status"] == "SUCCESS"


@pytest.mark.usefixtures("lambda_env")
def test_update_fixes_a_safe_config(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str]
) -> None:
    history = names_for(STAGE).schema_history_topic
    assert admin.alter(history, {"retention.ms": str(7 * 24 * 3600 * 1000)}) is None
    event = _event("Update", cfn_responses.url, physical_id="kept-id")
    handler(event, LambdaContext(60))
    body = _answer(cfn_responses, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "1 alter-config" in body["Reason"]
    assert admin.describe([history])[history].config["retention.ms"] == "-1"


@pytest.mark.usefixtures("lambda_env")
def test_unsafe_plan_fails_the_deploy_with_the_reason_and_applies_nothing(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str]
) -> None:
    names = names_for(STAGE)
    specs = {s.role: s for s in topic_specs(STAGE, replication_factor=1)}
    data = names.data_topics[next(iter(names.data_topics))]
    heartbeat, history = names.heartbeat_topic, names.schema_history_topic
    # A person made a data topic keep more history; the handler must not shorten it (versions a
    # lagging consumer needs would go)...
    longer = str(int(specs[TopicRole.DATA].config[WINDOW]) * 2)
    assert admin.alter(data, {WINDOW: longer}) is None
    # ...and a safe fix is pending at the same time: it must not be applied either.
    assert admin.alter(history, {"retention.ms": "86400000"}) is None
    assert admin.delete([heartbeat]) == {heartbeat: None}
    assert admin.wait_gone([heartbeat]) == set()
    try:
        event = _event("Update", cfn_responses.url, physical_id="kept-id")
        handler(event, LambdaContext(60))
        body = _answer(cfn_responses, event)
        assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", "kept-id")
        assert "nothing applied" in body["Reason"]
        assert data in body["Reason"] and f"{WINDOW} is {longer}" in body["Reason"]
        assert heartbeat not in admin.topic_names()  # not created
        assert admin.describe([history])[history].config["retention.ms"] == "86400000"  # not fixed
    finally:
        admin.alter(data, {WINDOW: specs[TopicRole.DATA].config[WINDOW]})
        reconcile_topics(admin, topic_specs(STAGE, replication_factor=1), dry_run=False)


@pytest.mark.usefixtures("lambda_env")
def test_failed_create_then_rollback_delete_keeps_the_topics(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first deploy that fails must not delete topics it did not make (they may be older)."""
    data = next(iter(names_for(STAGE).data_topics.values()))
    spec = next(s for s in topic_specs(STAGE, replication_factor=1) if s.name == data)
    assert admin.alter(data, {WINDOW: str(int(spec.config[WINDOW]) * 2)}) is None
    try:
        create = _event("Create", cfn_responses.url)
        handler(create, LambdaContext(60))
        failed = _answer(cfn_responses, create)
        assert failed["Status"] == "FAILED"
        assert failed["PhysicalResourceId"].endswith(FAILED_CREATE_MARK)
        _again(cfn_responses)
        rollback = _event("Delete", cfn_responses.url, physical_id=failed["PhysicalResourceId"])
        handler(rollback, LambdaContext(60))
        assert _answer(cfn_responses, rollback)["Status"] == "SUCCESS"
        assert stage_topics <= admin.topic_names()
    finally:
        admin.alter(data, {WINDOW: spec.config[WINDOW]})


@pytest.mark.usefixtures("lambda_env")
def test_delete_removes_exactly_the_stage_topics(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str], alerts: Alerts
) -> None:
    before = admin.topic_names()
    event = _event("Delete", cfn_responses.url, physical_id="the-id")
    handler(event, LambdaContext(120))
    body = _answer(cfn_responses, event)
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "the-id")
    assert f"deleted {len(stage_topics)} topic(s)" in body["Reason"]
    assert admin.topic_names() == before - stage_topics
    assert set(names_for(NEIGHBOUR).all_topics) | set(names_for(MAIN).all_topics) <= admin.topic_names()
    assert alerts.messages() == []


@pytest.mark.usefixtures("lambda_env")
def test_delete_with_unreachable_broker_alerts_and_still_succeeds(
    cfn_responses: CfnResponses, alerts: Alerts, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # a loopback port nobody listens on
    monkeypatch.setenv("BOOTSTRAP", dead)
    event = _event("Delete", cfn_responses.url, physical_id="the-id")
    handler(event, LambdaContext(19))  # 15 s reserved for alert + answer: 4 s for Kafka
    body = _answer(cfn_responses, event)
    assert body["Status"] == "SUCCESS"
    assert "topic cleanup failed" in body["Reason"]
    (alert,) = alerts.messages()
    assert alert["Subject"] == f"wms-connector {STAGE.name}: topic cleanup failed"
    assert f"wms-connector topics delete --stage {STAGE.name} --bootstrap {dead} --yes" in alert["Message"]


@pytest.mark.usefixtures("lambda_env")
def test_delete_without_enough_time_alerts_deletes_nothing_and_succeeds(
    cfn_responses: CfnResponses, admin: TopicAdmin, stage_topics: set[str], alerts: Alerts
) -> None:
    event = _event("Delete", cfn_responses.url, physical_id="the-id")
    handler(event, LambdaContext(10))
    assert _answer(cfn_responses, event)["Status"] == "SUCCESS"
    assert stage_topics <= admin.topic_names()
    (alert,) = alerts.messages()
    assert "not enough Lambda time" in alert["Message"]


@pytest.mark.usefixtures("lambda_env")
def test_named_stage_create_fails_and_delete_deletes_nothing(
    cfn_responses: CfnResponses,
    admin: TopicAdmin,
    stage_topics: set[str],
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """main: Create reconciles (SUCCESS while right, FAILED on an unsafe difference); Delete never
    deletes a named stage's topic, whatever the physical id."""
    monkeypatch.setenv("STAGE", "main")
    create = _event("Create", cfn_responses.url, stage=MAIN)
    handler(create, LambdaContext(60))
    assert _answer(cfn_responses, create)["Status"] == "SUCCESS"

    data = next(iter(names_for(MAIN).data_topics.values()))
    spec = next(s for s in topic_specs(MAIN, replication_factor=1) if s.name == data)
    assert admin.alter(data, {WINDOW: str(int(spec.config[WINDOW]) * 2)}) is None
    try:
        _again(cfn_responses)
        handler(create, LambdaContext(60))
        body = _answer(cfn_responses, create)
        assert body["Status"] == "FAILED"
        assert data in body["Reason"] and "need a person" in body["Reason"]
    finally:
        admin.alter(data, {WINDOW: spec.config[WINDOW]})

    _again(cfn_responses)
    before = admin.topic_names()
    delete = _event("Delete", cfn_responses.url, stage=MAIN, physical_id="the-id")
    handler(delete, LambdaContext(60))
    body = _answer(cfn_responses, delete)
    assert body["Status"] == "SUCCESS"
    assert "never deleted" in body["Reason"]
    assert admin.topic_names() == before
    assert alerts.messages() == []


def test_cleanup(admin: TopicAdmin) -> None:
    """Leave the broker as found (the neighbour's topics)."""
    for stage in (STAGE, NEIGHBOUR, FRESH):
        assert delete_stage_topics(admin, stage, dry_run=False).ok
