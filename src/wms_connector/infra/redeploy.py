"""Secret rotation without a person: a change of ``dbPassword`` or ``dbInfo`` redeploys Connect.

An EventBridge rule matches CloudTrail's record of the Secrets Manager calls that change a
secret's value (``lambdas.redeploy.VALUE_CHANGING_CALLS``) on the stage's *resolved* secrets
(``wms/S/X`` or, when the stage has none, ``wms/default/X``, for ``dbPassword`` and ``dbInfo``),
by name or by ARN. A redeploy starts new tasks, which read the password and the Oracle user when
they start; the host, port, db and PDB are baked into the task definition at synth, so a change
of those needs a deploy (docs/operations.md, "Secret rotation"; ``verify`` reports the drift).
Its target is a small Lambda (``wms_connector.lambdas.redeploy.handler``) that calls
``ecs:UpdateService(forceNewDeployment=True)`` on the stage's service, and nothing else.

A redeploy that fails (after Lambda's own two retries of an asynchronous invocation) is not
silent: the function's dead-letter target is the stage's alerts topic, so the event that failed
reaches the people the alarms mail (checkov CKV_AWS_116).

Needs CloudTrail: EventBridge receives "AWS API Call via CloudTrail" events only from a trail that
logs the region's management events (most accounts have an organization trail); see
docs/operations.md, "Secret rotation".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from wms_connector.infra.bundle import bundled_function
from wms_connector.infra.iam import service_role
from wms_connector.infra.logging import log_group
from wms_connector.infra.nag import acknowledge, checkov_skip
from wms_connector.lambdas.redeploy import SECRET_SEPARATOR, VALUE_CHANGING_CALLS
from wms_connector.naming import StageNames
from wms_connector.stages import StageSettings

HANDLER = "wms_connector.lambdas.redeploy.handler"

TIMEOUT = Duration.seconds(30)
MEMORY_MIB = 256


def secret_event_pattern(secrets: Sequence[tuple[str, str]]) -> events.EventPattern:
    """CloudTrail's Secrets Manager calls that change any of ``secrets``' values, by name or by ARN.

    ``secrets``: ``(name, ARN prefix)`` pairs."""
    matches: list[Any] = []
    for name, arn_prefix in secrets:
        matches += [name, {"prefix": arn_prefix}]
    return events.EventPattern(
        source=["aws.secretsmanager"],
        detail_type=["AWS API Call via CloudTrail"],
        detail={
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": list(VALUE_CHANGING_CALLS),
            "requestParameters": {"secretId": matches},
        },
    )


class SecretRedeploy(Construct):
    """The rule and the Lambda that redeploy the service after a ``dbPassword`` or ``dbInfo`` change."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        secret_names: Sequence[str],
        service_arn: str,
        alerts_topic: sns.ITopic,
        alerts_key_arn: str,
        code: lambda_.Code,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        iam_path: str | None,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.role = service_role(
            self,
            "Role",
            role_name=names.redeploy_role,
            service="lambda.amazonaws.com",
            path=iam_path,
            description=f"{names.redeploy_function}: redeploy {names.service} after a secret change",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="RedeployConnect", actions=["ecs:UpdateService"], resources=[service_arn])
        )
        self.log_group = log_group(
            self,
            "Logs",
            name=names.redeploy_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        self.function = bundled_function(
            self,
            "Function",
            function_name=names.redeploy_function,
            description=f"forces a new deployment of {names.service} when {', '.join(secret_names)} changes"[
                :256
            ],
            handler=HANDLER,
            code=code,
            role=self.role,
            timeout=TIMEOUT,
            memory_size=MEMORY_MIB,
            log_group=self.log_group,
            environment={
                "CLUSTER": names.cluster,
                "SERVICE": names.service,
                "SECRET_NAMES": SECRET_SEPARATOR.join(secret_names),
            },
            # A failed redeploy after a rotation alarms: the failed event goes to the alerts topic.
            dead_letter_topic=alerts_topic,
        )
        checkov_skip(
            self.function,
            "CKV_AWS_117",
            "it calls only the ECS and SNS APIs and reaches no data in the VPC; outside the VPC it "
            "needs no NAT or VPC endpoints to reach them",
        )
        # The alerts topic is encrypted with the alerts stack's key: publishing needs a data key.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptForAlerts",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[alerts_key_arn],
            )
        )
        self.log_group.grant_write(self.role)
        arn_base = f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:"
        self.rule = events.Rule(
            self,
            "SecretChanged",
            rule_name=names.secret_change_rule,
            description=f"{', '.join(secret_names)} changed: redeploy {names.service}"[:512],
            event_pattern=secret_event_pattern([(name, arn_base + name) for name in secret_names]),
            targets=[targets.LambdaFunction(self.function, retry_attempts=4)],
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "pinned to python3.12 on purpose: it shares the bundle of the topics Lambda, whose binary wheels "
            "are built for cp312 (make lambda-bundle); move both together",
        )
