"""EventBridge target: a change of the stage's ``dbPassword`` or ``dbInfo`` forces a new deployment.

Entry point: ``wms_connector.lambdas.redeploy.handler`` (**contract** with the CDK stack).

ECS injects the Oracle password (into the ``connect-secrets`` container) and user (into the
agent) from the secrets when a task *starts*; a running worker keeps the old value. So after a
secret changes, the service is redeployed (``ecs:UpdateService`` with ``forceNewDeployment``):
the rolling deployment (100 % / 200 %) starts new workers with the current value before the old
ones stop.

Environment: ``CLUSTER``, ``SERVICE`` (names from ``naming``) and ``SECRET_NAMES`` (the resolved
paths, comma-separated: ``wms/S/dbInfo`` or ``wms/default/dbInfo``, and the same for
``dbPassword`` when the stage has one; Secrets Manager names cannot hold a comma).

The event is CloudTrail's "AWS API Call via CloudTrail" for Secrets Manager, which the rule (see
``infra/redeploy.py``) already narrows to the value-changing calls on that secret. The handler checks
again, exactly (the rule's ARN match is a prefix): the call succeeded, it is one of
:data:`VALUE_CHANGING_CALLS`, and its ``secretId`` names one of the secrets or one of their ARNs. Anything
else is logged and ignored. An ECS error raises, so Lambda's asynchronous retries try again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)

#: The Secrets Manager calls after which the secret's AWSCURRENT value may be new. A rotation ends
#: with UpdateSecretVersionStage (the new version becomes AWSCURRENT); PutSecretValue and
#: UpdateSecret change it directly; RotateSecret starts a rotation (the later calls follow).
VALUE_CHANGING_CALLS: Final = ("PutSecretValue", "UpdateSecret", "RotateSecret", "UpdateSecretVersionStage")
#: Between the names in ``SECRET_NAMES``.
SECRET_SEPARATOR: Final = ","


class EcsClient(Protocol):
    """The one ECS call we make (``boto3.client("ecs")`` satisfies it)."""

    def update_service(self, *, cluster: str, service: str, forceNewDeployment: bool) -> Any: ...  # noqa: N803


@dataclass(frozen=True)
class RedeployEnv:
    cluster: str
    service: str
    secret_names: tuple[str, ...]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RedeployEnv:
        missing = [key for key in ("CLUSTER", "SERVICE", "SECRET_NAMES") if not environ.get(key)]
        if missing:
            raise ValueError(f"the redeploy Lambda is misconfigured: {', '.join(missing)} not set")
        names = tuple(n for n in environ["SECRET_NAMES"].split(SECRET_SEPARATOR) if n)
        return cls(environ["CLUSTER"], environ["SERVICE"], names)


def names_the_secret(secret_id: str, secret_name: str) -> bool:
    """Whether a CloudTrail ``secretId`` (a name, a full ARN or a partial ARN) is ``secret_name`` (pure).

    A full ARN ends in ``secret:<name>-<6 random characters>``; a partial ARN lacks the suffix.
    """
    if secret_id == secret_name:
        return True
    if not secret_id.startswith("arn:"):
        return False
    _, _, resource = secret_id.partition(":secret:")
    if resource == secret_name:
        return True
    head, dash, suffix = resource.rpartition("-")
    return bool(dash) and head == secret_name and len(suffix) == 6 and suffix.isalnum()


def decide(event: Mapping[str, Any], secret_names: tuple[str, ...]) -> str | None:
    """``None`` when the event changes one secret's value (redeploy), else why it is ignored (pure)."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return "not a CloudTrail event (no detail)"
    name = detail.get("eventName")
    if name not in VALUE_CHANGING_CALLS:
        return f"call {name!r} does not change a secret's value"
    if detail.get("errorCode"):
        return f"call {name} failed ({detail.get('errorCode')}): the value did not change"
    params = detail.get("requestParameters")
    secret_id = params.get("secretId") if isinstance(params, Mapping) else None
    if not isinstance(secret_id, str) or not any(names_the_secret(secret_id, n) for n in secret_names):
        return f"call {name} is about another secret ({secret_id!r})"
    return None


def handle(event: Mapping[str, Any], environ: Mapping[str, str], ecs: EcsClient) -> dict[str, object]:
    """Redeploy when the event changes one of the stage's secrets; return what was done."""
    env = RedeployEnv.from_environ(environ)
    ignored = decide(event, env.secret_names)
    if ignored is not None:
        log.info("not redeploying %s: %s", env.service, ignored)
        return {"redeployed": False, "reason": ignored}
    call = event["detail"]["eventName"]
    secret_id = event["detail"]["requestParameters"]["secretId"]
    secret = next(n for n in env.secret_names if names_the_secret(secret_id, n))
    ecs.update_service(cluster=env.cluster, service=env.service, forceNewDeployment=True)
    log.info("%s on %s: forced a new deployment of %s/%s", call, secret, env.cluster, env.service)
    return {"redeployed": True, "reason": f"{call} on {secret}"}


def handler(event: Mapping[str, Any], context: Any) -> dict[str, object]:
    """Lambda entry point."""
    import os

    import boto3

    return handle(event, os.environ, boto3.client("ecs"))
