"""The stage's topics: a Lambda in the VPC behind a CloudFormation custom resource, every stage.

On *Create*/*Update* the handler (``wms_connector.lambdas.topics.handler``) creates and fixes the
stage's topics with the plan of ``wms-connector topics create``, and fails the deploy when the plan
needs a person. On *Delete* it deletes an ephemeral stage's own namespaced topics and nothing else
(a named stage's: never). Order: the connector stack makes the ECS service depend on this custom
resource, so CloudFormation creates the service only once the topics exist, and on destroy deletes
the service first (its tasks are stopped) and only then this resource, while the Lambda, its role
and its security group still exist (the custom resource depends on them).

``Topics`` (the resource property) is a digest of the stage's topic specs: a change of any
partition count or config makes CloudFormation send an *Update*, so the deploy reconciles them.

Code: the Lambda bundle given by the stack (``lambda_.Code``), shared with the redeploy Lambda.
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from wms_connector.connect.secret_refs import CLIENT_CERT_SECRET_ENV
from wms_connector.infra.bundle import bundled_function
from wms_connector.infra.iam import service_role
from wms_connector.infra.kafka_iam import grant_topics_msk_access
from wms_connector.infra.logging import log_group
from wms_connector.infra.nag import acknowledge, checkov_skip
from wms_connector.infra.network import kafka_client_group
from wms_connector.kafka.topics import topic_specs
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import BrokerString, MskCluster
from wms_connector.stages import KafkaAuth, StageSettings

HANDLER = "wms_connector.lambdas.topics.handler"
RESOURCE_TYPE = "Custom::WmsTopics"
#: Creating or deleting a dozen topics takes seconds; the margin covers a slow controller and retries.
TIMEOUT = Duration.minutes(5)
MEMORY_MIB = 512


def topics_digest(names: StageNames) -> str:
    """A digest of every topic spec of the stage (pure): it changes whenever a spec does."""
    specs = [spec.to_json() for spec in topic_specs(names.stage)]
    return hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest()[:16]


class StageTopics(Construct):
    """Every stage's topics; deletion on destroy only for an ephemeral stage (the handler decides)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        brokers: BrokerString,
        vpc: ec2.IVpc,
        code: lambda_.Code,
        alerts_topic_arn: str,
        alerts_key_arn: str,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        iam_path: str | None,
        msk_cluster: MskCluster | None = None,
        kafka_client_cert: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.security_group = kafka_client_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            group_name=names.topics_security_group,
            kafka_ports=tuple(b.port for b in brokers.brokers),
        )
        self.role = service_role(
            self,
            "Role",
            role_name=names.topics_role,
            service="lambda.amazonaws.com",
            path=iam_path,
            description=f"{names.topics_function}: create the stage's topics; a branch's: delete on destroy",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="LambdaVpcNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="NotifyAlerts", actions=["sns:Publish"], resources=[alerts_topic_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptForAlertsTopic",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[alerts_key_arn],
            )
        )
        if settings.kafka_auth is KafkaAuth.IAM:
            grant_topics_msk_access(self.role, names, msk_cluster)
        self.log_group = log_group(
            self,
            "Logs",
            name=names.topics_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        self.function = bundled_function(
            self,
            "Function",
            function_name=names.topics_function,
            description=f"creates (and for a branch stage deletes) the topics of stage {names.stage.name}",
            handler=HANDLER,
            code=code,
            role=self.role,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=vpc.private_subnets),
            security_groups=[self.security_group],
            timeout=TIMEOUT,
            memory_size=MEMORY_MIB,
            log_group=self.log_group,
            environment={
                "STAGE": names.stage.name,
                "BOOTSTRAP": str(brokers),
                "KAFKA_AUTH": settings.kafka_auth.value,
                "ALERTS_TOPIC_ARN": alerts_topic_arn,
                # mtls: the secret's name (the function reads it; the template holds no PEM).
                **({CLIENT_CERT_SECRET_ENV: kafka_client_cert} if kafka_client_cert else {}),
            },
        )
        if kafka_client_cert is not None:
            secretsmanager.Secret.from_secret_name_v2(self, "KafkaClientCert", kafka_client_cert).grant_read(
                self.role
            )
        self.log_group.grant_write(self.role)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "Stage": names.stage.name,
                "TopicNamespace": names.topic_namespace,
                "Topics": topics_digest(names),
            },
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The role's policy must outlive the custom resource's Delete call.
        self.resource.node.add_dependency(self.role)
        checkov_skip(
            self.function,
            "CKV_AWS_116",
            "invoked synchronously by CloudFormation (custom resource): a failure fails the stack "
            "operation itself and the handler's answer carries it; an async dead-letter queue never fires",
        )
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            checkov_skip(
                policy,
                "CKV_AWS_111",
                "the only unconstrained writes are the ENI actions Lambda needs to run in the VPC "
                "(ec2:CreateNetworkInterface etc.), which AWS documents on * only (as the managed "
                "AWSLambdaVPCAccessExecutionRole does)",
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:*NetworkInterface* for a VPC Lambda's ENIs cannot be scoped to a resource (AWS defines none "
            "at create time); these are the actions of AWSLambdaVPCAccessExecutionRole, nothing more",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "pinned to python3.12 on purpose: the bundle's binary wheels (confluent-kafka, pydantic-core) "
            "are built for cp312 (make lambda-bundle); move both together",
        )
