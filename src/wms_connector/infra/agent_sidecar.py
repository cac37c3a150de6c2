"""The connect-agent container in every Connect task (``wms-connector agent``, same image).

* ``essential=false`` with an ECS container restart policy: an agent crash restarts the agent and
  never stops the worker; the Connect container keeps its own health check (the task's health).
  ECS restarts the agent only if it ran at least ``restart_attempt_period`` (60 s, the minimum):
  so the agent itself retries transient start-up failures (metadata endpoint, worker not up) with
  back-off and exits at start-up only for a misconfiguration (``agent/startup.py``).
* Sized from the stage (``settings.agent_cpu`` / ``agent_memory_mib``: the budget the Connect
  container leaves free), logs in its own group ``names.agent_log_group`` (its stdout carries the
  EMF lines the alarms watch).
* Environment: the Connect container's non-secret environment (``connect_environment``), the
  Oracle user from the ``dbInfo`` secret and the REST credential: **never the Oracle password**.
  The agent writes the ``${dir:...:oracle-password}`` placeholder, which the worker resolves.
* The restart record lives on a task volume mounted at :data:`STATE_DIR`: it survives the agent's
  own restarts and ends with the task.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from wms_connector.infra.connect_service import USER_ENV, connect_environment
from wms_connector.infra.logging import log_group
from wms_connector.infra.network import CONNECT_REST_PORT
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import BrokerString, DbInfo
from wms_connector.stages import StageSettings

HEALTHZ_PORT = 8084
STATE_VOLUME = "agent-state"
#: Declared a VOLUME in runtime/Dockerfile, owned by the image's user: Fargate copies it into the
#: bind mount at the same path, so the volume starts writable by uid 10001.
STATE_DIR = "/var/lib/wms-agent"
STATE_FILE = f"{STATE_DIR}/restarts.json"
#: ECS retries a crashed agent after it ran at least this long (the minimum ECS accepts is 60 s).
RESTART_ATTEMPT_PERIOD_S = 60


def agent_command(stage: str) -> list[str]:
    return [
        "agent",
        "--stage",
        stage,
        "--connect-url",
        f"http://localhost:{CONNECT_REST_PORT}",
        "--state-file",
        STATE_FILE,
        "--healthz-port",
        str(HEALTHZ_PORT),
    ]


def agent_health_check_command() -> list[str]:
    probe = (
        f"import urllib.request; urllib.request.urlopen('http://localhost:{HEALTHZ_PORT}/healthz', timeout=4)"
    )
    return ["CMD", "python3", "-c", probe]


class AgentSidecar(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        task_definition: ecs.TaskDefinition,
        image: ecs.ContainerImage,
        connect_container: ecs.ContainerDefinition,
        db_secret: secretsmanager.ISecret,
        rest_secrets: dict[str, ecs.Secret],
        db: DbInfo,
        brokers: BrokerString,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = log_group(
            self,
            "Logs",
            name=names.agent_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        task_definition.add_volume(name=STATE_VOLUME)
        self.container = task_definition.add_container(
            "Agent",
            container_name=names.agent_container,
            image=image,
            entry_point=["wms-connector"],
            command=agent_command(names.stage.name),
            cpu=settings.agent_cpu,
            memory_limit_mib=settings.agent_memory_mib,
            essential=False,
            enable_restart_policy=True,
            restart_attempt_period=Duration.seconds(RESTART_ATTEMPT_PERIOD_S),
            environment=connect_environment(stage=names.stage.name, db=db, brokers=brokers),
            # The Oracle user, and the REST credential the agent (and an operator's command) uses.
            secrets={USER_ENV: ecs.Secret.from_secrets_manager(db_secret, "user"), **rest_secrets},
            logging=ecs.LogDriver.aws_logs(stream_prefix="agent", log_group=self.log_group),
            health_check=ecs.HealthCheck(
                command=agent_health_check_command(),
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),
            ),
        )
        self.container.add_mount_points(
            ecs.MountPoint(container_path=STATE_DIR, source_volume=STATE_VOLUME, read_only=False)
        )
        self.container.add_container_dependencies(
            ecs.ContainerDependency(
                container=connect_container, condition=ecs.ContainerDependencyCondition.START
            )
        )
