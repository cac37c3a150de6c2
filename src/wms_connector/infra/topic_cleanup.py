"""The ephemeral stage's topic cleanup: a Lambda in the VPC behind a CloudFormation custom resource.

On stack *Delete* the custom resource's handler (``wms_connector.lambdas.topic_cleanup.handler``,
topics issue) deletes the stage's own namespaced topics and nothing else. Order on destroy: the
connector stack makes the ECS service depend on this custom resource, so CloudFormation deletes
the service first (its tasks are stopped) and only then deletes the custom resource, while the
Lambda, its role and its security group still exist (the custom resource depends on them).

Code: the asset is ``build/lambda/`` (``make lambda-bundle``): our package plus the manylinux
x86_64 cp312 wheels of its runtime dependencies (confluent-kafka, pydantic), installed with pip
``--platform ... --only-binary=:all:``: no Docker, and synth itself needs no network.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from wms_connector.infra.bundle import lambda_code
from wms_connector.infra.iam import service_role
from wms_connector.infra.kafka_iam import grant_cleanup_msk_access
from wms_connector.infra.logging import log_group
from wms_connector.infra.nag import acknowledge
from wms_connector.infra.network import kafka_client_group
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import BrokerString
from wms_connector.stages import KafkaAuth, StageSettings

HANDLER = "wms_connector.lambdas.topic_cleanup.handler"
RESOURCE_TYPE = "Custom::WmsTopicCleanup"
#: Deleting a dozen topics takes seconds; the margin covers a slow controller and retries.
TIMEOUT = Duration.minutes(5)
MEMORY_MIB = 512


class TopicCleanup(Construct):
    """Only ever added to ephemeral stages (the stack checks ``stage.is_ephemeral``)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        brokers: BrokerString,
        vpc: ec2.IVpc,
        bundle_dir: Path,
        alerts_topic_arn: str,
        alerts_key_arn: str,
        logs_key: kms.IKey,
        iam_path: str | None,
    ) -> None:
        super().__init__(scope, id_)
        if names.stage.is_named:
            raise ValueError(f"topic cleanup is for ephemeral stages only, not {names.stage.name!r}")
        self.security_group = kafka_client_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            group_name=names.topic_cleanup_security_group,
            kafka_ports=tuple(b.port for b in brokers.brokers),
        )
        self.role = service_role(
            self,
            "Role",
            role_name=names.topic_cleanup_role,
            service="lambda.amazonaws.com",
            path=iam_path,
            description=f"{names.topic_cleanup_function}: delete the stage's own topics on destroy",
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
            grant_cleanup_msk_access(self.role, names)
        self.log_group = log_group(
            self,
            "Logs",
            name=names.topic_cleanup_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=names.topic_cleanup_function,
            description=f"deletes the topics of stage {names.stage.name} (namespace {names.topic_namespace})",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.X86_64,
            handler=HANDLER,
            code=lambda_code(bundle_dir),
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
            },
        )
        self.log_group.grant_write(self.role)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={"Stage": names.stage.name, "TopicNamespace": names.topic_namespace},
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The role's policy must outlive the custom resource's Delete call.
        self.resource.node.add_dependency(self.role)
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
