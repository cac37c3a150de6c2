"""The Kafka Connect service: cluster, task definition, Fargate service, roles and log group.

Environment contract of the Connect container (read by ``runtime/entrypoint.sh``, which renders
the worker properties, heap included, with ``wms-connector worker-config --stage``; **keep in step**):

============================  ==========================================================
``WMS_STAGE``                 the stage name
``KAFKA_BOOTSTRAP_SERVERS``   MSK bootstrap list (resolved ``brokerString``; not a secret)
``ORACLE_HOST/PORT/DB/PDB``   from ``dbInfo`` (not secret; ``ORACLE_PDB`` only for a CDB)
============================  ==========================================================

**No password in the Connect container's environment.** The task has a third, short-lived
container, ``connect-secrets`` (same image, ``entrypoint.sh write-secrets``): ECS injects
``ORACLE_PASSWORD`` (the whole ``dbPassword`` secret, read by the *execution* role; a legacy
``dbInfo``'s JSON key ``password`` while a stage has no ``dbPassword``) into its environment
only; it writes ``/opt/connect/secrets/oracle-password`` (mode 0400, the worker's user) on a task
volume and exits. The Connect container starts after it succeeded, mounts the volume read-only
and reads the file through ``DirectoryConfigProvider`` when the connector starts (the connector
config says ``${dir:/opt/connect/secrets:oracle-password}``). The agent container does not mount
the volume, and the task role cannot read the secret. Synth never reads ``dbPassword``: it only
finds which path exists (``DescribeSecret``; secrets.store.locate_password).

**ECS Exec** is a task-level switch (``enableExecuteCommand``): ECS cannot enable it for one
container only. What limits it is IAM: the ``ecs:ExecuteCommand`` caller's policy, with the
condition key ``ecs:container-name``. The stack creates the managed policy
``names.exec_policy`` that allows Exec into the agent container only; operators get that policy
and no unconditioned ``ecs:ExecuteCommand`` (docs/infrastructure.md, "Who can do what").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from wms_connector.connect.rest_auth import PASSWORD_ENV as REST_PASSWORD_ENV
from wms_connector.connect.rest_auth import USER_ENV as REST_USER_ENV
from wms_connector.connect.secret_refs import SECRETS_DIR
from wms_connector.image.context import DOCKERFILE, IMAGE_CONTEXT_FILES
from wms_connector.infra.iam import service_role
from wms_connector.infra.logging import log_group
from wms_connector.infra.nag import acknowledge, log_streams_pattern
from wms_connector.infra.network import CONNECT_REST_PORT
from wms_connector.infra.task_definition import fargate_task_definition
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import BrokerString, DbInfo
from wms_connector.secrets.store import PasswordSource, Resolved
from wms_connector.stages import StageSettings

PASSWORD_ENV = "ORACLE_PASSWORD"
USER_ENV = "ORACLE_USER"
#: The task volume holding the worker's secret files (written by the secrets container).
SECRETS_VOLUME = "connect-secrets"
#: The REST API's user (the password is generated; connect.rest_auth).
REST_USER = "wms-connect"
#: The image (runtime/Dockerfile) is built on a Python slim base: ``python3`` on PATH, no curl or wget.


def health_check_command(port: int = CONNECT_REST_PORT) -> list[str]:
    """The container health check (exec form): exit 0 once the worker's REST root answers.

    A 2xx, or a 401: with the REST credential on (connect.rest_auth) a live worker refuses the
    anonymous probe, and the probe must not hold the credential. Any other status, a refused
    connection or a timeout exits non-zero.
    """
    probe = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        f"    urllib.request.urlopen('http://localhost:{port}/', timeout=4)\n"
        "except urllib.error.HTTPError as answer:\n"
        "    raise SystemExit(0 if answer.code == 401 else 1)"
    )
    return ["CMD", "python3", "-c", probe]


#: Seconds a new worker gets to join the group before failed health checks count.
HEALTH_START_PERIOD_S = 120
#: SIGTERM to SIGKILL: time for a clean leave (tasks stopped, the open transaction committed or
#: aborted, the group left at once, so the other worker takes over in about a second). Connect
#: needs a few seconds (task.shutdown.graceful.timeout.ms is 5 s per task); a worker killed
#: earlier costs the 6 s session timeout instead, never data. Fargate allows up to 120 s.
STOP_TIMEOUT_S = 60
#: Keep idle Oracle sessions alive through firewalls (see reference §7.2; applies to the whole task).
TCP_KEEPALIVE_S = "60"


def exec_into_agent_policy(
    scope: Construct,
    *,
    names: StageNames,
    cluster: ecs.ICluster,
    rest_secret: secretsmanager.ISecret,
    key: kms.IKey,
    path: str | None,
) -> iam.ManagedPolicy:
    """What an operator needs for ECS Exec into this stage's tasks: the agent container only.

    ECS has no per-container Exec switch; the ``ecs:container-name`` condition on
    ``ecs:ExecuteCommand`` is the one place to say which container a person may enter."""
    stack = Stack.of(scope)
    tasks = f"arn:{stack.partition}:ecs:{stack.region}:{stack.account}:task/{names.cluster}/*"
    policy = iam.ManagedPolicy(
        scope,
        "ExecIntoAgent",
        managed_policy_name=names.exec_policy,
        path=path,
        description=f"ECS Exec into {names.service}'s {names.agent_container} container only",
        statements=[
            iam.PolicyStatement(
                sid="ExecIntoTheAgentOnly",
                actions=["ecs:ExecuteCommand"],
                resources=[cluster.cluster_arn, tasks],
                conditions={"StringEquals": {"ecs:container-name": names.agent_container}},
            ),
            iam.PolicyStatement(sid="FindTheTasks", actions=["ecs:DescribeTasks"], resources=[tasks]),
            # Port forwarding (REST 8083, exporter 9404 on the task's loopback) with the forwarding
            # document only: SessionDocumentAccessCheck refuses the default shell document.
            iam.PolicyStatement(
                sid="ForwardPortsOnly",
                actions=["ssm:StartSession"],
                resources=[
                    tasks,
                    f"arn:{stack.partition}:ssm:{stack.region}::document/AWS-StartPortForwardingSession",
                ],
                conditions={"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
            ),
            iam.PolicyStatement(
                sid="ReadTheRestCredential",
                actions=["secretsmanager:GetSecretValue"],
                resources=[rest_secret.secret_arn],
            ),
            # The stage key encrypts the REST credential (read through Secrets Manager only) and the
            # Exec session between the operator's client and the container (a data key per session).
            iam.PolicyStatement(
                sid="DecryptTheRestCredential",
                actions=["kms:Decrypt"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}
                },
            ),
            iam.PolicyStatement(
                sid="EncryptTheExecSession", actions=["kms:GenerateDataKey"], resources=[key.key_arn]
            ),
            iam.PolicyStatement(
                sid="ListTheTasks",
                actions=["ecs:ListTasks"],
                resources=["*"],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            ),
        ],
    )
    nag_tasks = f"arn:<AWS::Partition>:ecs:{stack.region}:{stack.account}:task/{names.cluster}/*"
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_tasks}]",
        "task ids are chosen by ECS at each start; the cluster part is this stage's own cluster",
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "ecs:ListTasks has no resource scope in IAM; the ecs:cluster condition limits it to this cluster",
    )
    return policy


@dataclass(frozen=True)
class ConnectSecrets:
    """The resolved secrets the Connect container needs (paths and parsed values)."""

    db_info: Resolved[DbInfo]
    broker_string: Resolved[BrokerString]
    #: Where the password is (located by metadata at synth, never read): ``dbPassword``, or legacy.
    password: PasswordSource


def connect_environment(*, stage: str, db: DbInfo, brokers: BrokerString) -> dict[str, str]:
    """The non-secret environment of the Connect container (pure; see the module docstring)."""
    env = {
        "WMS_STAGE": stage,
        "KAFKA_BOOTSTRAP_SERVERS": str(brokers),
        "ORACLE_HOST": db.host,
        "ORACLE_PORT": str(db.port),
        "ORACLE_DB": db.db,
    }
    if db.pdb_name is not None:
        env["ORACLE_PDB"] = db.pdb_name
    return env


class ConnectService(Construct):
    """Cluster + task definition + Fargate service of the Connect workers.

    The connect-agent's container is added to ``self.task_definition`` by
    ``agent_sidecar.AgentSidecar`` (same ``self.image``, ``self.db_secret`` for the Oracle user);
    the Connect container leaves its budget free (``connect_cpu = task_cpu - agent_cpu``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        secrets: ConnectSecrets,
        image_context: Path,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        iam_path: str | None,
    ) -> None:
        super().__init__(scope, id_)
        self.logs_key = logs_key
        # Exec sessions are logged to their own encrypted group; without this CDK would grant the task
        # role log writes on every log group ("*").
        self.exec_log_group = log_group(
            self,
            "ExecLogs",
            name=names.exec_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=names.cluster,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                kms_key=logs_key,
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=self.exec_log_group, cloud_watch_encryption_enabled=True
                ),
            ),
        )
        self.execution_role = service_role(
            self,
            "ExecutionRole",
            role_name=names.execution_role,
            service="ecs-tasks.amazonaws.com",
            path=iam_path,
            description=f"{names.service}: pull the image, write logs, inject secrets",
        )
        self.task_role = service_role(
            self,
            "TaskRole",
            role_name=names.task_role,
            service="ecs-tasks.amazonaws.com",
            path=iam_path,
            description=f"{names.service}: what the workers (and agent) may call",
        )
        self.task_definition = fargate_task_definition(
            self,
            family=names.task_family,
            cpu=settings.task_cpu,
            memory_mib=settings.task_memory_mib,
            execution_role=self.execution_role,
            task_role=self.task_role,
        )
        self.connect_log_group = log_group(
            self,
            "ConnectLogs",
            name=names.connect_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        # One image for the worker and (agent issue) the connect-agent: it also holds our package.
        self.image = ecs.ContainerImage.from_asset(
            str(image_context),
            file=DOCKERFILE,
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=list(IMAGE_CONTEXT_FILES),
            ignore_mode=IgnoreMode.DOCKER,
        )
        db_secret = secretsmanager.Secret.from_secret_name_v2(self, "DbInfoSecret", secrets.db_info.path)
        self.db_secret = db_secret  # the connect-agent's container reads the Oracle user from it
        # The password: the whole dbPassword secret (write-secrets unwraps {"password": ...}), or the
        # legacy dbInfo's key. By name, like dbInfo: the template holds a reference, never the value.
        source = secrets.password
        self.password_secret = (
            db_secret
            if source.legacy
            else secretsmanager.Secret.from_secret_name_v2(self, "DbPasswordSecret", source.path)
        )
        self.password_key = source.key
        # The REST API's one credential, generated here (never typed by a person): the agent and the
        # operators' commands inside the agent container use it; the worker's file is written from it.
        self.rest_secret = secretsmanager.Secret(
            self,
            "RestCredential",
            secret_name=names.rest_credential_secret,
            description=f"{names.service}: the credential Connect's REST API accepts (agent, operators)",
            # The stage's key (checkov CKV_AWS_149): whoever reads it needs the key too, through
            # Secrets Manager only (the execution role via ECS secrets, operators via their policy).
            encryption_key=logs_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": REST_USER}),
                generate_string_key="password",
                exclude_punctuation=True,
                include_space=False,
                password_length=40,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.rest_secret,
            "AwsSolutions-SMG4",
            "a credential between two containers of one task, never typed by a person: to rotate it, "
            "put a new value and redeploy (docs/operations.md)",
        )
        self.rest_env_secrets = {
            REST_USER_ENV: ecs.Secret.from_secrets_manager(self.rest_secret, "username"),
            REST_PASSWORD_ENV: ecs.Secret.from_secrets_manager(self.rest_secret, "password"),
        }
        self.task_definition.add_volume(name=SECRETS_VOLUME)
        # Runs once per task before the worker, then exits: nobody can Exec into a stopped container.
        self.secrets_container = self.task_definition.add_container(
            "Secrets",
            container_name=names.secrets_container,
            image=self.image,
            command=["write-secrets"],
            essential=False,
            secrets={
                PASSWORD_ENV: ecs.Secret.from_secrets_manager(self.password_secret, source.key),
                **self.rest_env_secrets,
            },
            logging=ecs.LogDriver.aws_logs(stream_prefix="secrets", log_group=self.connect_log_group),
        )
        self.secrets_container.add_mount_points(
            ecs.MountPoint(container_path=SECRETS_DIR, source_volume=SECRETS_VOLUME, read_only=False)
        )
        self.connect_container = self.task_definition.add_container(
            "Connect",
            container_name=names.connect_container,
            image=self.image,
            cpu=settings.connect_cpu,
            memory_limit_mib=settings.connect_memory_mib,
            essential=True,
            environment=connect_environment(
                stage=names.stage.name, db=secrets.db_info.value, brokers=secrets.broker_string.value
            ),
            port_mappings=[ecs.PortMapping(container_port=CONNECT_REST_PORT, name="connect-rest")],
            logging=ecs.LogDriver.aws_logs(stream_prefix="connect", log_group=self.connect_log_group),
            stop_timeout=Duration.seconds(STOP_TIMEOUT_S),
            health_check=ecs.HealthCheck(
                # The worker's root resource answers once it has joined the group; connector state is
                # the agent's business, never a reason for ECS to kill a worker.
                command=health_check_command(),
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(HEALTH_START_PERIOD_S),
            ),
            system_controls=[
                ecs.SystemControl(namespace="net.ipv4.tcp_keepalive_time", value=TCP_KEEPALIVE_S)
            ],
        )
        self.connect_container.add_mount_points(
            ecs.MountPoint(container_path=SECRETS_DIR, source_volume=SECRETS_VOLUME, read_only=True)
        )
        self.connect_container.add_container_dependencies(
            ecs.ContainerDependency(
                container=self.secrets_container, condition=ecs.ContainerDependencyCondition.SUCCESS
            )
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=names.service,
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=settings.worker_count,
            # Subnets in several AZs: ECS spreads Fargate tasks across them and rebalances after an AZ loss.
            vpc_subnets=ec2.SubnetSelection(subnets=vpc.private_subnets),
            availability_zone_rebalancing=ecs.AvailabilityZoneRebalancing.ENABLED,
            security_groups=[security_group],
            assign_public_ip=False,
            platform_version=ecs.FargatePlatformVersion.LATEST,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=True,
            # A replacement joins the group before the old worker leaves (reference §7.2).
            min_healthy_percent=100,
            max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        self.exec_policy = exec_into_agent_policy(
            self,
            names=names,
            cluster=self.cluster,
            rest_secret=self.rest_secret,
            key=logs_key,
            path=iam_path,
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "the environment holds only non-secret values (broker list, topic and group names, Oracle host, "
            "port and db name, heap); the password reaches only the short-lived secrets container, as an ECS "
            "secret",
        )
        acknowledge(
            self.execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource scope in IAM; image pulls themselves are limited to "
            "the asset repository",
        )
        acknowledge(
            self.task_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ECS Exec's ssmmessages channel actions and logs:DescribeLogGroups have no resource scope in "
            "IAM; Exec is how operators reach a worker's REST API, closed to all outside the service",
        )
        acknowledge(
            self.task_role,
            "AwsSolutions-IAM5[Resource::" + log_streams_pattern(self.exec_log_group) + "]",
            "log streams of the one Exec audit log group: stream names are chosen per session by ECS",
        )
