"""Secret rotation without a person: a change of the stage's ``dbInfo`` secret redeploys Connect.

An EventBridge rule matches CloudTrail's record of the Secrets Manager calls that change a
secret's value (``lambdas.redeploy.VALUE_CHANGING_CALLS``) on the stage's *resolved* ``dbInfo``
secret (``wms/S/dbInfo`` or, when the stage has none, ``wms/default/dbInfo``), by name or by ARN.
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
from wms_connector.lambdas.redeploy import VALUE_CHANGING_CALLS
from wms_connector.naming import StageNames
from wms_connector.stages import StageSettings

HANDLER = "wms_connector.lambdas.redeploy.handler"

TIMEOUT = Duration.seconds(30)
MEMORY_MIB = 256


def secret_event_pattern(secret_name: str, secret_arn_prefix: str) -> events.EventPattern:
    """CloudTrail's Secrets Manager calls that change ``secret_name``'s value, by name or by ARN."""
    return events.EventPattern(
        source=["aws.secretsmanager"],
        detail_type=["AWS API Call via CloudTrail"],
        detail={
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": list(VALUE_CHANGING_CALLS),
            "requestParameters": {"secretId": [secret_name, {"prefix": secret_arn_prefix}]},
        },
    )


class SecretRedeploy(Construct):
    """The rule and the Lambda that redeploy the service after a ``dbInfo`` change."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        secret_name: str,
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
            description=f"{names.redeploy_function}: redeploy {names.service} after a dbInfo change",
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
            description=f"forces a new deployment of {names.service} when {secret_name} changes",
            handler=HANDLER,
            code=code,
            role=self.role,
            timeout=TIMEOUT,
            memory_size=MEMORY_MIB,
            log_group=self.log_group,
            environment={"CLUSTER": names.cluster, "SERVICE": names.service, "SECRET_NAME": secret_name},
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
        arn_prefix = (
            f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:{secret_name}"
        )
        self.rule = events.Rule(
            self,
            "SecretChanged",
            rule_name=names.secret_change_rule,
            description=f"{secret_name} changed: redeploy {names.service} so workers read the new value",
            event_pattern=secret_event_pattern(secret_name, arn_prefix),
            targets=[targets.LambdaFunction(self.function, retry_attempts=4)],
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "pinned to python3.12 on purpose: it shares the bundle of the topics Lambda, whose binary wheels "
            "are built for cp312 (make lambda-bundle); move both together",
        )
