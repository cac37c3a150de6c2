"""The stage's alerts topic: KMS-encrypted SNS, TLS-only, mailing the ``alertEmails`` recipients."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from wms_connector.infra.keys import customer_key

#: AWS services that publish to the topic on the stage's behalf (ECS events, CloudWatch alarms).
PUBLISHING_SERVICES = ("events.amazonaws.com", "cloudwatch.amazonaws.com")


class AlertsTopic(Construct):
    """SNS topic + its customer-managed key.

    A customer-managed key (not ``alias/aws/sns``) because the AWS-managed key's policy cannot be
    changed, and EventBridge and CloudWatch alarms can only publish to an encrypted topic whose
    key lets them ``kms:GenerateDataKey``/``kms:Decrypt``. The topic policy lets those services
    publish only on behalf of this account (``aws:SourceAccount``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        topic_name: str,
        emails: tuple[str, ...],
        account: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id_)
        self.key = customer_key(
            self, description=f"encrypts SNS topic {topic_name}", removal_policy=removal_policy
        )
        # No source condition on the key: SNS uses the key on the publisher's behalf and the AWS
        # guides for EventBridge and CloudWatch publish to encrypted topics give none; the topic
        # policy below is where the account is pinned.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAwsServicesToPublishEncrypted",
                principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
            )
        )
        same_account = {"StringEquals": {"aws:SourceAccount": account}}
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=topic_name,
            display_name=topic_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAwsServicesToPublish",
                principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=same_account,
            )
        )
        for address in emails:
            self.topic.add_subscription(subs.EmailSubscription(address))
