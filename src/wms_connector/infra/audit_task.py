"""The scheduled audit (issue 21): an ECS task from the Connect image, run by EventBridge Scheduler.

* **Schedule**: ``settings.audit_schedule`` (daily by default; per stage), schedule
  ``names.audit_schedule``, which assumes ``names.audit_scheduler_role`` (``ecs:RunTask`` on this
  task definition, ``iam:PassRole`` for its two roles) and runs one Fargate task in the Connect
  service's cluster, subnets and security group (it reaches Oracle and MSK as the workers do).
* **Task**: ``wms-connector audit --stage S --emf --db-secret PATH --bootstrap B``. The Oracle
  password is **never** in the template or the task's environment: the task role may read the one
  ``dbInfo`` secret the deploy resolved, and the audit reads it at run time in its own process.
* **Metrics and alarm**: the task prints per-table EMF lines (``audit/emf.py``) to its log group;
  the alarm ``names.alarm_for(AlarmKind.AUDIT_DIFFERS)`` fires when the stage roll-up of
  ``AuditMissing``, ``AuditExtra`` or ``AuditMismatched`` is above 0, and keeps its state until the
  next audit (missing data is ignored: the audit reports once a day). A task that fails outright
  (exit 1 or 2) also shows through the cluster's task-stopped rule (``events.py``).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from wms_connector.connect.secret_refs import CLIENT_CERT_SECRET_ENV
from wms_connector.infra.iam import service_role
from wms_connector.infra.logging import log_group
from wms_connector.infra.nag import acknowledge
from wms_connector.infra.task_definition import fargate_task_definition
from wms_connector.naming import METRIC_DIMENSIONS, AlarmKind, AuditMetric, StageNames, runbook_anchor
from wms_connector.secrets.shapes import BrokerString
from wms_connector.stages import StageSettings

#: The alarm's period: one audit a day lands in one of these; state holds in between.
ALARM_PERIOD = Duration.hours(1)


def audit_command(
    stage: str, *, db_secret: str, brokers: BrokerString, password_secret: str | None = None
) -> list[str]:
    """The task's arguments to ``wms-connector`` (no secret in them: a secret's *name* only).

    ``password_secret``: the resolved ``dbPassword`` (``None``: a legacy ``dbInfo`` holds it)."""
    extra = ["--password-secret", password_secret] if password_secret else []
    return ["audit", "--stage", stage, "--emf", "--db-secret", db_secret, *extra, "--bootstrap", str(brokers)]


class ScheduledAudit(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        cluster: ecs.ICluster,
        image: ecs.ContainerImage,
        execution_role: iam.IRole,
        db_secret: secretsmanager.ISecret,
        db_secret_path: str,
        password_secret: secretsmanager.ISecret | None,
        password_secret_path: str | None,
        kafka_client_cert: str | None = None,
        brokers: BrokerString,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        alerts_topic: sns.ITopic,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        iam_path: str | None,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = log_group(
            self,
            "Logs",
            name=names.audit_log_group,
            retention_days=settings.log_retention_days,
            key=logs_key,
            removal_policy=removal_policy,
        )
        self.task_role = service_role(
            self,
            "TaskRole",
            role_name=names.audit_task_role,
            service="ecs-tasks.amazonaws.com",
            path=iam_path,
            description=f"{names.audit_task_family}: read dbInfo and dbPassword when run (read-only)",
        )
        db_secret.grant_read(self.task_role)
        if password_secret is not None:
            password_secret.grant_read(self.task_role)  # the audit connects to Oracle itself
        environment = {"WMS_STAGE": names.stage.name}
        if kafka_client_cert is not None:
            # mtls: no certificate volume in this task; the audit reads the certificate itself
            # when it runs and writes its files into a private temporary directory.
            secretsmanager.Secret.from_secret_name_v2(self, "KafkaClientCert", kafka_client_cert).grant_read(
                self.task_role
            )
            environment[CLIENT_CERT_SECRET_ENV] = kafka_client_cert
        self.task_definition = fargate_task_definition(
            self,
            family=names.audit_task_family,
            cpu=settings.audit_cpu,
            memory_mib=settings.audit_memory_mib,
            execution_role=execution_role,
            task_role=self.task_role,
        )
        self.container = self.task_definition.add_container(
            "Audit",
            container_name=names.audit_container,
            image=image,
            entry_point=["wms-connector"],
            command=audit_command(
                names.stage.name,
                db_secret=db_secret_path,
                password_secret=password_secret_path,
                brokers=brokers,
            ),
            essential=True,
            environment=environment,
            logging=ecs.LogDriver.aws_logs(stream_prefix="audit", log_group=self.log_group),
        )
        self.scheduler_role = service_role(
            self,
            "SchedulerRole",
            role_name=names.audit_scheduler_role,
            service="scheduler.amazonaws.com",
            path=iam_path,
            description=f"{names.audit_schedule}: run the audit task",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=names.audit_schedule,
            description=f"{names.service}: audit the topics against the source ({settings.audit_schedule})",
            schedule=scheduler.ScheduleExpression.expression(settings.audit_schedule),
            target=targets.EcsRunFargateTask(
                cluster,
                task_definition=self.task_definition,
                role=self.scheduler_role,
                security_groups=[security_group],
                vpc_subnets=ec2.SubnetSelection(subnets=vpc.private_subnets),
                assign_public_ip=False,
                platform_version=ecs.FargatePlatformVersion.LATEST,
                retry_attempts=2,
                max_event_age=Duration.hours(1),
            ),
        )
        dimensions = dict(
            zip(METRIC_DIMENSIONS, names.metric_dimensions(names.connector).values(), strict=True)
        )
        self.metrics = {
            metric: cloudwatch.Metric(
                namespace=names.metric_namespace,
                metric_name=metric.value,
                dimensions_map=dimensions,
                statistic="Maximum",
                period=ALARM_PERIOD,
            )
            for metric in AuditMetric
        }
        self.alarm = cloudwatch.Alarm(
            self,
            "Differs",
            alarm_name=names.alarm_for(AlarmKind.AUDIT_DIFFERS),
            alarm_description=(
                f"{names.service}: the audit found rows missing from, extra in or different in the topics. "
                f"Runbook: {runbook_anchor(AlarmKind.AUDIT_DIFFERS)}"
            ),
            metric=cloudwatch.MathExpression(
                expression="MAX([missing, extra, mismatched])",
                using_metrics={
                    "missing": self.metrics[AuditMetric.MISSING],
                    "extra": self.metrics[AuditMetric.EXTRA],
                    "mismatched": self.metrics[AuditMetric.MISMATCHED],
                },
                period=ALARM_PERIOD,
                label="rows that differ (any table)",
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        action = cw_actions.SnsAction(alerts_topic)
        self.alarm.add_alarm_action(action)
        self.alarm.add_ok_action(action)
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "the environment holds only the stage name; the task reads the Oracle password itself from "
            "Secrets Manager at run time (never in the template or the environment)",
        )

    def widget(self) -> cloudwatch.GraphWidget:
        """The dashboard's audit graph: the stage roll-up of each audit metric."""
        return cloudwatch.GraphWidget(
            title="Audit: rows missing / extra / mismatched (any table; 0 = equal)",
            left=[self.metrics[m].with_(period=Duration.days(1)) for m in AuditMetric],
            left_annotations=[cloudwatch.HorizontalAnnotation(value=0, label="alarm above")],
            width=24,
            height=6,
        )
