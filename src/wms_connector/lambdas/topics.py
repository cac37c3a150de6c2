"""CloudFormation custom resource that owns a stage's topics: created at deploy, deleted on destroy.

Entry point: ``wms_connector.lambdas.topics.handler`` (**contract** with the CDK stack).

Environment: ``STAGE`` (any valid stage), ``BOOTSTRAP`` (MSK bootstrap servers),
``ALERTS_TOPIC_ARN`` (the stage's SNS alerts topic), optional ``KAFKA_AUTH`` (``iam``/``mtls``/``tls``;
default: the stage's setting), with ``mtls`` ``KAFKA_CLIENT_CERT_SECRET`` (the name of the stage's
resolved ``kafkaClientCert``: read, validated and written to ``/tmp`` at each invocation, never
logged), optional ``REPLICATION_FACTOR`` (overrides the stage's, for a
cluster with fewer brokers; the stack never sets it) and ``AWS_REGION`` (set by Lambda).

* **Create / Update**: the same plan as ``wms-connector topics create``
  (``kafka.admin.reconcile_topics`` over ``kafka.topics.topic_specs(stage)``, decisions in
  ``kafka.reconcile``): missing topics are created, safe configs fixed. When the plan holds a
  ``report`` (a difference only a person may fix: partitions, replication factor, a shorter
  retention) **nothing is applied** and the answer is FAILED with the reasons, so the deploy stops
  before the ECS service (which depends on this resource) changes. A broker error also answers
  FAILED; every step is idempotent, so the next deploy continues where this one stopped. A bad
  environment (no stage, no bootstrap, an unknown auth) answers FAILED too.
* **Delete**: an ephemeral stage's own topics go, with the same code as ``wms-connector topics
  delete --yes`` (``kafka.admin.delete_stage_topics``; the rules live in ``kafka.deletion``). A
  named stage's topics are never deleted (and its role has no delete permission). A Delete that
  follows a failed Create (CloudFormation's rollback) deletes nothing: the failed Create answered
  with a physical id that says so, since the topics may be older than this stack.

The stack makes the ECS service depend on this resource: the service is created after the topics
exist, and on destroy it is deleted (its tasks stopped) before the topics are (deletion is refused
while the stage's Connect group still has members).

Wiring: a plain Lambda-backed custom resource whose service token is this function's ARN. Not
``custom_resources.Provider``: this handler answers the ``ResponseURL`` itself. The function needs
network access to the brokers, ``sns:Publish`` on the alerts topic, and with IAM auth
``kafka-cluster:Connect``, ``CreateTopic``, ``DescribeTopic``, ``*TopicDynamicConfiguration`` (and,
ephemeral stages only, ``DeleteTopic`` and ``DescribeGroup``) on the stage's own topics.

Whatever happens on Delete, the handler answers **SUCCESS**: a cleanup failure is published to
the alerts topic (with the command to finish by hand) and the destroy goes on; a custom resource
that fails or never answers would block the stack for an hour or forever. The broker work gets
the Lambda's remaining time minus a reserve for the alert and the answer.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wms_connector.connect.secret_refs import CLIENT_CERT_SECRET_ENV
from wms_connector.errors import WmsError
from wms_connector.kafka.admin import DeleteResult, TopicAdmin, delete_stage_topics, reconcile_topics
from wms_connector.kafka.client import TLS_DIR_ENV
from wms_connector.kafka.topics import topic_specs
from wms_connector.naming import names_for
from wms_connector.secrets.client_cert_files import fetch_client_tls
from wms_connector.secrets.store import SecretsBackend
from wms_connector.stages import KafkaAuth, Stage, settings_for

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)

#: Kept back from the Lambda's remaining time for the alert and the answer to CloudFormation.
RESERVE_MS: Final = 15_000
#: Below this much time for the deletion itself it is not attempted (and an alert says so).
MIN_WORK_MS: Final = 2_000
#: CloudFormation rejects a response body above 4096 bytes; the reason is cut to fit.
MAX_REASON: Final = 1_500
PUT_ATTEMPTS: Final = 3
#: Ends the physical id of a resource whose Create failed: its rollback Delete deletes nothing.
FAILED_CREATE_MARK: Final = "/create-failed"


class CfnEvent(BaseModel):
    """The fields of a CloudFormation custom-resource request that we use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    response_url: str = Field(alias="ResponseURL")
    stack_id: str = Field(alias="StackId")
    request_id: str = Field(alias="RequestId")
    logical_resource_id: str = Field(alias="LogicalResourceId")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")


class TopicsEnv(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str
    bootstrap: str = Field(min_length=1)
    alerts_topic_arn: str = Field(min_length=1)
    kafka_auth: KafkaAuth | None = None
    replication_factor: int | None = Field(default=None, ge=1)
    region: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TopicsEnv:
        return cls(
            stage=environ.get("STAGE", ""),
            bootstrap=environ.get("BOOTSTRAP", ""),
            alerts_topic_arn=environ.get("ALERTS_TOPIC_ARN", ""),
            kafka_auth=environ.get("KAFKA_AUTH") or None,
            replication_factor=environ.get("REPLICATION_FACTOR") or None,
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        )

    def checked_stage(self) -> Stage:
        """The stage, which must be valid (raises ``InputError`` otherwise)."""
        return Stage.parse(self.stage)

    def auth(self, stage: Stage) -> KafkaAuth:
        return self.kafka_auth if self.kafka_auth is not None else settings_for(stage).kafka_auth


class Publisher(Protocol):
    """The one SNS call we make (``boto3.client("sns")`` satisfies it)."""

    def publish(self, *, TopicArn: str, Subject: str, Message: str) -> Any: ...  # noqa: N803


@dataclass(frozen=True)
class Answer:
    status: Literal["SUCCESS", "FAILED"]
    reason: str
    physical_resource_id: str
    data: Mapping[str, str]


def response_body(event: CfnEvent, answer: Answer) -> bytes:
    reason = answer.reason if len(answer.reason) <= MAX_REASON else answer.reason[: MAX_REASON - 3] + "..."
    body = {
        "Status": answer.status,
        "Reason": reason,
        "PhysicalResourceId": answer.physical_resource_id,
        "StackId": event.stack_id,
        "RequestId": event.request_id,
        "LogicalResourceId": event.logical_resource_id,
        "NoEcho": False,
        "Data": dict(answer.data),
    }
    return json.dumps(body).encode("utf-8")


def put_response(url: str, body: bytes, timeout_s: float) -> int:
    """PUT the answer to the pre-signed S3 URL. Content-Type must be empty: it is part of the signature."""
    request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's pre-signed https URL
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        return int(response.status)


def _physical_id(event: CfnEvent, stage: Stage | None) -> str:
    if event.physical_resource_id:
        return event.physical_resource_id
    if stage is not None:
        # Stable across updates: CloudFormation never sees a "replacement" of this resource.
        return f"{names_for(stage).topics_function}/topics"
    return f"{event.logical_resource_id}-{event.request_id}"


def _failed(event: CfnEvent, stage: Stage | None, reason: str) -> Answer:
    physical_id = _physical_id(event, stage)
    if event.request_type == "Create":
        physical_id += FAILED_CREATE_MARK
    return Answer("FAILED", reason, physical_id, {})


def _alert(sns: Publisher, topic_arn: str, subject: str, message: str) -> None:
    try:
        sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)
    except Exception:  # the alert is best effort: the answer to CloudFormation must still go out
        log.exception("could not publish the alert %r", subject)


def _finish_by_hand(env: TopicsEnv) -> str:
    return (
        f"Finish by hand: wms-connector topics delete --stage {env.stage} --bootstrap {env.bootstrap} --yes"
    )


def _reconcile(
    env: TopicsEnv,
    stage: Stage,
    remaining_ms: Callable[[], int],
    connect: Callable[..., TopicAdmin],
) -> tuple[bool, str]:
    """Create/fix the stage's topics: ``(ok, reason)``. An unsafe plan applies nothing."""
    budget_ms = remaining_ms() - RESERVE_MS
    if budget_ms < MIN_WORK_MS:
        return False, f"stage {stage.name}: not enough Lambda time left to reconcile the topics"
    deadline = time.monotonic() + budget_ms / 1000
    try:
        admin = connect(env.bootstrap, env.auth(stage), region=env.region, deadline=deadline)
        specs = topic_specs(stage, replication_factor=env.replication_factor)
        result = reconcile_topics(admin, specs, dry_run=False, refuse_unsafe=True)
    except Exception as error:  # the deploy stops with the reason; the next one retries
        log.exception("topic reconcile of stage %s failed", stage.name)
        return False, (
            f"stage {stage.name}: the topics could not be reconciled on {env.bootstrap} ({_kind(error)}; "
            "the details are in the function's log)"
        )
    log.info("topic reconcile of stage %s: %s", stage.name, json.dumps(result.to_json()))
    if result.unfixable:
        problems = [f"{r.action.spec.name} {p}" for r in result.unfixable for p in r.action.problems]
        return False, (
            f"stage {stage.name}: nothing applied, the topics need a person: {'; '.join(problems)}. "
            f"See `wms-connector topics create --stage {stage.name} --bootstrap {env.bootstrap} --dry-run`"
        )
    if result.failed:
        problems = [f"{r.action.spec.name}: {r.error}" for r in result.failed]
        return False, f"stage {stage.name}: the broker refused: {'; '.join(problems)}"
    counts: dict[str, int] = {}
    for item in result.results:
        counts[item.action.kind.value] = counts.get(item.action.kind.value, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    return True, f"topics of stage {stage.name}: {summary}"


def _kind(error: BaseException) -> str:
    """What kind of failure, for CloudFormation's Reason and the alert: never the exception's text,
    which may quote a broker's or a library's words (hosts, principals); the log has it."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, WmsError):
        return str(error)
    return f"{type(error).__name__}"


def _delete(
    env: TopicsEnv,
    stage: Stage,
    remaining_ms: Callable[[], int],
    sns: Publisher,
    connect: Callable[..., TopicAdmin],
) -> str:
    """Delete the topics; return the reason text. Never raises: failures become an alert."""
    budget_ms = remaining_ms() - RESERVE_MS
    subject = f"wms-connector {stage.name}: topic cleanup failed"
    if budget_ms < MIN_WORK_MS:
        message = f"Stage {stage.name}: not enough Lambda time left to delete topics. {_finish_by_hand(env)}"
        _alert(sns, env.alerts_topic_arn, subject, message)
        return message
    deadline = time.monotonic() + budget_ms / 1000
    try:
        admin = connect(env.bootstrap, env.auth(stage), region=env.region, deadline=deadline)
        result: DeleteResult = delete_stage_topics(admin, stage, dry_run=False)
    except Exception as error:  # any failure: alert, then let the destroy go on
        log.exception("topic cleanup of stage %s failed", stage.name)
        message = (
            f"Stage {stage.name}: topic cleanup failed ({_kind(error)}; the details are in the function's "
            f"log). {_finish_by_hand(env)}"
        )
        _alert(sns, env.alerts_topic_arn, subject, message)
        return message
    log.info("topic cleanup of stage %s: %s", stage.name, json.dumps(result.to_json()))
    if not result.ok:
        problems = [f"{t}: {e}" for t, e in result.errors.items()] + [
            f"{t}: still listed" for t in result.still_listed
        ]
        message = (
            f"Stage {stage.name}: some topics were not deleted: {'; '.join(problems)}. {_finish_by_hand(env)}"
        )
        _alert(sns, env.alerts_topic_arn, subject, message)
        return message
    return f"deleted {len(result.deleted)} topic(s) of stage {stage.name}"


def handle(
    raw_event: Mapping[str, Any],
    environ: Mapping[str, str],
    remaining_ms: Callable[[], int],
    sns: Publisher,
    *,
    connect: Callable[..., TopicAdmin] = TopicAdmin.connect,
    put: Callable[[str, bytes, float], int] = put_response,
) -> Answer | None:
    """The whole handler, with its dependencies passed in. Returns what was answered."""
    try:
        event = CfnEvent.model_validate(raw_event)
    except ValidationError as error:
        # Without a well-formed event there is nobody to answer; log it for the operator.
        log.error("not a CloudFormation custom-resource event: %s", error)
        return None
    env: TopicsEnv | None = None
    stage: Stage | None = None
    problem: str | None = None
    try:
        env = TopicsEnv.from_environ(environ)
        stage = env.checked_stage()
    except ValidationError as error:
        # Field names only: pydantic's text would quote the values it was given.
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "value" for e in error.errors())
        problem = f"the topics resource is misconfigured (environment: {fields})"
    except WmsError as error:  # our own words: they name the rule, never a secret
        problem = f"the topics resource is misconfigured: {error}"

    physical_id = event.physical_resource_id or ""
    if event.request_type in ("Create", "Update"):
        if problem is not None or env is None or stage is None:
            answer = _failed(event, stage, problem or "the topics resource is misconfigured")
        else:
            ok, reason = _reconcile(env, stage, remaining_ms, connect)
            answer = (
                Answer("SUCCESS", reason, _physical_id(event, stage), {})
                if ok
                else _failed(event, stage, reason)
            )
    elif physical_id.endswith(FAILED_CREATE_MARK):
        answer = Answer("SUCCESS", "the Create had failed: no topic deleted", physical_id, {})
    elif problem is not None or env is None or stage is None:
        reason = problem or "the topics resource is misconfigured"
        alerts_arn = environ.get("ALERTS_TOPIC_ARN", "")
        if alerts_arn:
            _alert(
                sns, alerts_arn, "wms-connector: topic cleanup skipped", f"{reason}. No topic was deleted."
            )
        answer = Answer("SUCCESS", f"{reason}; no topic deleted", _physical_id(event, stage), {})
    elif stage.is_named:
        answer = Answer(
            "SUCCESS",
            f"stage {stage.name} is a named stage: its topics are never deleted",
            _physical_id(event, stage),
            {},
        )
    else:
        reason = _delete(env, stage, remaining_ms, sns, connect)
        answer = Answer("SUCCESS", reason, _physical_id(event, stage), {})

    body = response_body(event, answer)
    for attempt in range(1, PUT_ATTEMPTS + 1):
        timeout_s = max(1.0, min(10.0, remaining_ms() / 1000 - 1))
        try:
            put(event.response_url, body, timeout_s)
            break
        except Exception:
            log.exception("answering CloudFormation failed (attempt %d of %d)", attempt, PUT_ATTEMPTS)
    return answer


#: Where the Lambda writes the mtls client files (its only writable directory is /tmp).
LAMBDA_TLS_DIR: Final = "/tmp/wms-kafka-tls"  # noqa: S108 - the Lambda's own /tmp, owner-only files


def prepare_client_tls(
    environ: MutableMapping[str, str], backend: SecretsBackend, directory: str = LAMBDA_TLS_DIR
) -> str | None:
    """With ``KAFKA_AUTH=mtls``: the certificate's files in ``directory`` and ``WMS_KAFKA_TLS_DIR``
    pointing there (for ``kafka.client``). Returns a problem in one line (never the key), or None."""
    if environ.get("KAFKA_AUTH") != KafkaAuth.MTLS.value:
        return None
    path = environ.get(CLIENT_CERT_SECRET_ENV, "")
    if not path:
        return f"KAFKA_AUTH=mtls but {CLIENT_CERT_SECRET_ENV} is not set"
    problem = fetch_client_tls(path, backend, directory)
    if problem is None:
        environ[TLS_DIR_ENV] = directory
    return problem


def handler(event: Mapping[str, Any], context: Any) -> None:
    """Lambda entry point."""
    import os

    import boto3
    from botocore.config import Config

    from wms_connector.secrets.store import AwsSecretsBackend

    problem = prepare_client_tls(os.environ, AwsSecretsBackend(boto3.client("secretsmanager")))
    if problem is not None:
        # The connect below then fails with "files missing" and the deploy stops; this says why.
        log.error("the Kafka client certificate could not be prepared: %s", problem)

    # Short timeouts: the alert must not eat the time reserved for answering CloudFormation.
    sns = boto3.client("sns", config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2}))
    handle(event, os.environ, context.get_remaining_time_in_millis, sns)
