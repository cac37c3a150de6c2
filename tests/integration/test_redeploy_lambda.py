"""The redeploy Lambda against moto's ECS server: a dbPassword or dbInfo change forces a new deployment.

The events are CloudTrail's "AWS API Call via CloudTrail" records as EventBridge delivers them
(shape from the AWS documentation: ``detail.eventName``, ``detail.requestParameters.secretId``).
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from wms_connector.lambdas.redeploy import handle
from wms_connector.naming import names_for
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

STAGE = Stage("rotate-me")
SECRET = names_for(STAGE).secret_paths("dbInfo")[0]
#: The stage's dbPassword resolved to the default path: rotations there redeploy this stage too.
PASSWORD = names_for(STAGE).secret_paths("dbPassword")[1]
ACCOUNT = "123456789012"


def _event(call: str, secret_id: str, error: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": call,
        "awsRegion": "us-east-1",
        "requestParameters": {"secretId": secret_id},
    }
    if error:
        detail["errorCode"] = error
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.secretsmanager",
        "account": ACCOUNT,
        "region": "us-east-1",
        "detail": detail,
    }


@pytest.fixture
def ecs(moto_endpoint: str) -> Any:
    """The stage's cluster and service in moto (names from naming)."""
    client = boto3.client("ecs", endpoint_url=moto_endpoint, region_name="us-east-1")
    names = names_for(STAGE)
    client.create_cluster(clusterName=names.cluster)
    client.register_task_definition(
        family=names.task_family,
        containerDefinitions=[{"name": names.connect_container, "image": "connect:test", "memory": 512}],
    )
    client.create_service(
        cluster=names.cluster, serviceName=names.service, taskDefinition=names.task_family, desiredCount=1
    )
    yield client
    client.delete_service(cluster=names.cluster, service=names.service, force=True)
    client.delete_cluster(cluster=names.cluster)


def _deployment_id(ecs: Any) -> str:
    names = names_for(STAGE)
    (service,) = ecs.describe_services(cluster=names.cluster, services=[names.service])["services"]
    return str(service["deployments"][0]["id"])


ENV = {
    "CLUSTER": names_for(STAGE).cluster,
    "SERVICE": names_for(STAGE).service,
    "SECRET_NAMES": f"{SECRET},{PASSWORD}",
}


@pytest.mark.parametrize(
    ("call", "secret_id"),
    [
        ("PutSecretValue", SECRET),
        ("UpdateSecret", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{SECRET}-AbC123"),
        ("UpdateSecretVersionStage", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{SECRET}"),
        ("RotateSecret", SECRET),
    ],
)
def test_a_value_change_of_the_stage_dbinfo_forces_a_new_deployment(
    ecs: Any, call: str, secret_id: str
) -> None:
    before = _deployment_id(ecs)
    result = handle(_event(call, secret_id), ENV, ecs)
    assert result == {"redeployed": True, "reason": f"{call} on {SECRET}"}
    assert _deployment_id(ecs) != before


@pytest.mark.parametrize(
    "secret_id", [PASSWORD, f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{PASSWORD}-XyZ789"]
)
def test_a_rotated_db_password_forces_a_new_deployment(ecs: Any, secret_id: str) -> None:
    before = _deployment_id(ecs)
    result = handle(_event("UpdateSecretVersionStage", secret_id), ENV, ecs)
    assert result == {"redeployed": True, "reason": f"UpdateSecretVersionStage on {PASSWORD}"}
    assert _deployment_id(ecs) != before


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (_event("PutSecretValue", SECRET + "Old"), "another secret"),
        # The stage's own dbPassword path, unused (it resolved to the default one).
        (_event("PutSecretValue", names_for(STAGE).secret_paths("dbPassword")[0]), "another secret"),
        (
            _event(
                "PutSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:wms/other/dbInfo-AbC123"
            ),
            "another secret",
        ),
        (_event("GetSecretValue", SECRET), "does not change"),
        (_event("PutSecretValue", SECRET, error="AccessDenied"), "failed"),
        ({"detail-type": "Scheduled Event"}, "not a CloudTrail event"),
    ],
)
def test_other_events_change_nothing(ecs: Any, event: dict[str, Any], why: str) -> None:
    before = _deployment_id(ecs)
    result = handle(event, ENV, ecs)
    assert result["redeployed"] is False
    assert why in str(result["reason"])
    assert _deployment_id(ecs) == before


def test_a_missing_service_raises_so_lambda_retries(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.ClientError):
        handle(_event("PutSecretValue", SECRET), {**ENV, "SERVICE": "not-there"}, ecs)


def test_a_misconfigured_function_says_what_is_missing(ecs: Any) -> None:
    with pytest.raises(ValueError, match="SECRET_NAMES"):
        handle(_event("PutSecretValue", SECRET), {"CLUSTER": "c", "SERVICE": "s"}, ecs)
