"""``wms-connector-S``: the Connect service in the stage's VPC, its topics, events, alarms, redeploy."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from wms_connector.infra.agent_alarms import AgentAlarms
from wms_connector.infra.agent_sidecar import AgentSidecar
from wms_connector.infra.audit_task import ScheduledAudit
from wms_connector.infra.bundle import lambda_code as bundle_code
from wms_connector.infra.connect_service import ConnectSecrets, ConnectService
from wms_connector.infra.events import ServiceEvents
from wms_connector.infra.inputs import StageInputs
from wms_connector.infra.kafka_auth import give_client_certificate
from wms_connector.infra.kafka_iam import grant_audit_msk_access, grant_stage_msk_access
from wms_connector.infra.logging import LogsKey
from wms_connector.infra.monitoring import ServiceAlarms
from wms_connector.infra.network import ConnectSecurityGroup, import_vpc
from wms_connector.infra.redeploy import SecretRedeploy
from wms_connector.infra.topics import StageTopics
from wms_connector.stages import KafkaAuth


class ConnectorStack(Stack):
    """Composes the units and wires them; every choice arrives in ``inputs``."""

    def __init__(self, scope: Construct, *, inputs: StageInputs, **kwargs: Any) -> None:
        names, settings, secrets = inputs.names, inputs.settings, inputs.secrets
        super().__init__(scope, names.connector_stack, stack_name=names.connector_stack, **kwargs)
        # Imported by export name, not by object: the alerts stack never changes because of this one.
        alerts_topic_arn = Fn.import_value(names.alerts_topic_export)
        alerts_key_arn = Fn.import_value(names.alerts_key_export)
        alerts_topic = sns.Topic.from_topic_arn(self, "AlertsTopic", alerts_topic_arn)

        vpc = import_vpc(self, "Vpc", secrets.vpc.value)
        self.logs_key = LogsKey(
            self, "LogsKey", log_group_root=names.log_group_root, removal_policy=inputs.removal_policy
        ).key
        self.network = ConnectSecurityGroup(
            self,
            "Network",
            vpc=vpc,
            group_name=names.security_group,
            oracle_port=secrets.db_info.value.port,
            oracle_cidr=secrets.db_info.value.cidr,
            kafka_ports=tuple(b.port for b in secrets.broker_string.value.brokers),
        )
        self.connect = ConnectService(
            self,
            "Connect",
            names=names,
            settings=settings,
            vpc=vpc,
            security_group=self.network.group,
            secrets=ConnectSecrets(
                db_info=secrets.db_info,
                broker_string=secrets.broker_string,
                password=secrets.password_source,
            ),
            image_context=inputs.image_context,
            logs_key=self.logs_key,
            removal_policy=inputs.removal_policy,
            iam_path=inputs.iam_path,
        )
        if settings.kafka_auth is KafkaAuth.IAM:
            grant_stage_msk_access(self.connect.task_role, names, inputs.msk_cluster)
        for number, warning in enumerate(inputs.warnings, start=1):
            Annotations.of(self).add_warning_v2(f"wms:stage-warning-{number}", warning)
        self.events = ServiceEvents(
            self,
            "Events",
            cluster_arn=self.connect.cluster.cluster_arn,
            task_stopped_rule_name=names.task_stopped_rule,
            service_errors_rule_name=names.service_errors_rule,
            alerts_topic=alerts_topic,
        )
        self.alarms = ServiceAlarms(
            self,
            "Alarms",
            names=names,
            cluster_name=names.cluster,
            service_name=names.service,
            desired_count=settings.worker_count,
            alerts_topic=alerts_topic,
        )
        # The Lambdas' code (topics, redeploy): one asset, built once.
        lambda_code = bundle_code(inputs.lambda_bundle_dir)
        self.topics = StageTopics(
            self,
            "Topics",
            names=names,
            settings=settings,
            brokers=secrets.broker_string.value,
            vpc=vpc,
            code=lambda_code,
            alerts_topic_arn=alerts_topic_arn,
            alerts_key_arn=alerts_key_arn,
            logs_key=self.logs_key,
            removal_policy=inputs.removal_policy,
            iam_path=inputs.iam_path,
            msk_cluster=inputs.msk_cluster,
            kafka_client_cert=inputs.kafka_client_cert,
        )
        # Create order: the topics exist before the service (MSK does not auto-create them). Destroy
        # order: the service goes first, then the topics resource deletes the topics it used.
        self.connect.service.node.add_dependency(self.topics.resource)
        self.redeploy = SecretRedeploy(
            self,
            "Redeploy",
            names=names,
            settings=settings,
            secret_names=inputs.redeploy_secrets,
            service_arn=self.connect.service.service_arn,
            alerts_topic=alerts_topic,
            alerts_key_arn=alerts_key_arn,
            code=lambda_code,
            logs_key=self.logs_key,
            removal_policy=inputs.removal_policy,
            iam_path=inputs.iam_path,
        )
        self.agent = AgentSidecar(
            self,
            "Agent",
            names=names,
            settings=settings,
            task_definition=self.connect.task_definition,
            image=self.connect.image,
            connect_container=self.connect.connect_container,
            db_secret=self.connect.db_secret,
            rest_secrets=self.connect.rest_env_secrets,
            db=secrets.db_info.value,
            brokers=secrets.broker_string.value,
            logs_key=self.logs_key,
            removal_policy=inputs.removal_policy,
        )
        if inputs.kafka_client_cert is not None:
            give_client_certificate(
                self.connect, (self.connect.connect_container, self.agent.container), inputs.kafka_client_cert
            )
        self.audit = ScheduledAudit(
            self,
            "Audit",
            names=names,
            settings=settings,
            cluster=self.connect.cluster,
            image=self.connect.image,
            execution_role=self.connect.execution_role,
            db_secret=self.connect.db_secret,
            db_secret_path=secrets.db_info.path,
            password_secret=None if secrets.password_source.legacy else self.connect.password_secret,
            password_secret_path=None if secrets.password_source.legacy else secrets.password_source.path,
            kafka_client_cert=inputs.kafka_client_cert,
            brokers=secrets.broker_string.value,
            vpc=vpc,
            security_group=self.network.group,
            alerts_topic=alerts_topic,
            logs_key=self.logs_key,
            removal_policy=inputs.removal_policy,
            iam_path=inputs.iam_path,
        )
        if settings.kafka_auth is KafkaAuth.IAM:
            grant_audit_msk_access(self.audit.task_role, names, inputs.msk_cluster)
        self.agent_alarms = AgentAlarms(
            self,
            "AgentAlarms",
            names=names,
            settings=settings,
            alerts_topic=alerts_topic,
            extra_alarms=(self.alarms.running_tasks, self.audit.alarm),
        )
        self.agent_alarms.dashboard.add_widgets(self.audit.widget())
        if inputs.permissions_boundary_arn is not None:
            iam.PermissionsBoundary.of(self).apply(
                iam.ManagedPolicy.from_managed_policy_arn(self, "Boundary", inputs.permissions_boundary_arn)
            )
