"""Log groups: named by naming, retention from the stage, encrypted with the stage's key."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from wms_connector.infra.keys import customer_key


class LogsKey(Construct):
    """One customer-managed key for every log group of the stage.

    CloudWatch Logs may use it only for log groups under the stage's root
    (``kms:EncryptionContext:aws:logs:arn``), so it cannot encrypt another stage's logs.
    """

    def __init__(self, scope: Construct, id_: str, *, log_group_root: str, removal_policy: RemovalPolicy):
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.key = customer_key(
            self, description=f"encrypts the log groups under {log_group_root}", removal_policy=removal_policy
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisStage",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{log_group_root}/*"
                        )
                    }
                },
            )
        )


def log_group(
    scope: Construct,
    id_: str,
    *,
    name: str,
    retention_days: int,
    key: kms.IKey,
    removal_policy: RemovalPolicy,
) -> logs.LogGroup:
    group = logs.LogGroup(scope, id_, log_group_name=name, encryption_key=key, removal_policy=removal_policy)
    # The L2 takes an enum; the stage gives a validated number of days (stages.LOG_RETENTION_DAYS_ALLOWED).
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = retention_days
    return group
