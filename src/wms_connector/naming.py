"""Every name derived from a stage: the one place names are built (**contract**, see README).

Each name is composed from the others, so a reader finds where any topic, stack or alarm name
comes from in one hop. Nothing else in the repository may build a name by hand: the CDK code, the
agent, the lambdas, the CLI and the tests all read :func:`names_for`.

Topic namespace: named stages (``main``, ``val``, ``production``) have none; an ephemeral stage
``S`` prefixes *every* topic it owns with ``--wms--S--`` (the BigMAC convention for branch
topics). Because a stage never contains ``--`` and never ends in ``-``, the namespace of one stage
can never be a prefix of another stage's namespace; topic deletion relies on that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from wms_connector.stages import Stage

#: Debezium ``topic.prefix`` of every stage, before the namespace.
TOPIC_PREFIX_BASE: Final = "wms"
SCHEMAS: Final = ("MMDL", "WMS")
TABLES: Final = ("PLAN_BASE_WVR_TBL", "PLAN_WVR_RVSN_TBL")
#: Optional heartbeat and signal tables, created by the DBA in the CDC user's own schema (in the PDB
#: for a CDB) by docs/sql/*/07_heartbeat_signal_tables.sql; the owner is ``dbInfo.user``.
HEARTBEAT_TABLE: Final = "WMS_CDC_HEARTBEAT"
SIGNAL_TABLE: Final = "WMS_CDC_SIGNAL"
NAMESPACE_MARK: Final = "--wms--"
SECRET_ROOT: Final = "wms"
DEFAULT_SECRET_SCOPE: Final = "default"


class AgentMetric(StrEnum):
    """The CloudWatch metrics the connect-agent emits as EMF lines, and the alarms watch."""

    HEARTBEAT = "AgentHeartbeat"
    WORKER_REACHABLE = "WorkerReachable"
    CONNECTOR_UP = "ConnectorUp"
    CONNECTOR_FAILED = "ConnectorFailed"
    HEALTHY = "Healthy"
    CONNECTED = "Connected"
    LAG_MS = "MilliSecondsBehindSource"
    SINCE_LAST_EVENT_MS = "MilliSecondsSinceLastEvent"
    QUEUE_REMAINING = "QueueRemainingCapacity"
    SCN_GAP = "ScnGap"
    OLDEST_SCN_AGE_MS = "OldestScnAgeInMilliseconds"
    ACTIVE_TRANSACTIONS = "NumberOfActiveTransactions"
    SCN_FREEZE_COUNT = "ScnFreezeCount"
    ARCHIVE_HEADROOM_MS = "ArchiveLogHeadroomMs"
    RESTARTS = "Restarts"
    RESTART_COUNT = "RestartCount"
    BUDGET_EXHAUSTED = "RestartBudgetExhausted"
    UNRECOVERABLE = "UnrecoverableFailure"
    #: Age of the open transaction that holds ``OffsetScn`` (only under the LONG_TRANSACTION verdict).
    LONG_TRANSACTION_AGE_MS = "LongTransactionAgeMs"
    STALL_ESCALATED = "StallEscalated"
    #: 1 while the restart record cannot be written to the agent's state volume.
    RECORD_UNWRITABLE = "RestartRecordUnwritable"
    #: 1 while the agent keeps its hands off the connector (an operator hold, or a hold topic it
    #: cannot read), 0 otherwise.
    HOLD = "AgentHold"


class AuditMetric(StrEnum):
    """The metrics a scheduled audit emits per table (``audit/emf.py``); any above 0 alarms."""

    MISSING = "AuditMissing"
    EXTRA = "AuditExtra"
    MISMATCHED = "AuditMismatched"


#: The extra EMF dimension of the audit's per-table metrics.
AUDIT_TABLE_DIMENSION: Final = "Table"


class AlarmKind(StrEnum):
    """What each alarm of a stage watches; the value is the alarm name's suffix and the anchor of
    its section in ``docs/operations.md``."""

    CONNECTOR_FAILED = "connector-failed"
    DISCONNECTED = "disconnected"
    LAG = "lag-high"
    NO_EVENTS = "no-events"
    AGENT_HEARTBEAT_MISSING = "agent-heartbeat-missing"
    RESTART_BUDGET_EXHAUSTED = "restart-budget-exhausted"
    UNRECOVERABLE = "unrecoverable-failure"
    LONG_TRANSACTION = "long-transaction"
    STALL_ESCALATED = "stall-escalated"
    RESTART_RECORD_UNWRITABLE = "restart-record-unwritable"
    RUNNING_TASKS_BELOW_DESIRED = "running-tasks-below-desired"
    AUDIT_DIFFERS = "audit-differs"


#: The EMF dimension set of every agent metric, in this order.
METRIC_DIMENSIONS: Final = ("Stage", "Connector")
RUNBOOK: Final = "docs/operations.md"


def runbook_anchor(kind: AlarmKind) -> str:
    """Where a person reads what an alarm means and what to do (its section in the runbook)."""
    return f"{RUNBOOK}#{kind.value}"


@dataclass(frozen=True, order=True)
class TableId:
    """A captured table, ``SCHEMA.TABLE`` as Oracle spells it (uppercase)."""

    schema: str
    table: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


#: The four captured tables, in a stable order (schema, then table).
CAPTURED_TABLES: Final = tuple(TableId(s, t) for s in SCHEMAS for t in TABLES)


def topic_namespace(stage: Stage) -> str:
    """``""`` for a named stage, ``--wms--S--`` for an ephemeral one."""
    return f"{NAMESPACE_MARK}{stage.name}--" if stage.is_ephemeral else ""


def secret_path(scope: str, name: str) -> str:
    return f"{SECRET_ROOT}/{scope}/{name}"


@dataclass(frozen=True)
class StageNames:
    """All names of one stage. Build with :func:`names_for`."""

    stage: Stage

    # -- services and stacks ---------------------------------------------------------------
    @property
    def service_prefix(self) -> str:
        return f"wms-connector-{self.stage.name}"

    @property
    def alerts_stack(self) -> str:
        return f"wms-alerts-{self.stage.name}"

    @property
    def connector_stack(self) -> str:
        return self.service_prefix

    @property
    def cluster(self) -> str:
        return self.service_prefix

    @property
    def service(self) -> str:
        return f"{self.service_prefix}-connect"

    @property
    def task_family(self) -> str:
        return f"{self.service_prefix}-connect"

    @property
    def connect_container(self) -> str:
        return "connect"

    @property
    def agent_container(self) -> str:
        return "connect-agent"

    @property
    def secrets_container(self) -> str:
        """Writes the worker's secret files into the task's secrets volume, then exits."""
        return "connect-secrets"

    @property
    def rest_credential_secret(self) -> str:
        """Generated by the stack: the only credential Connect's REST API accepts (agent, operators)."""
        return f"{self.service_prefix}/rest-credential"

    @property
    def exec_policy(self) -> str:
        """The managed policy operators attach for ECS Exec: into the agent container only."""
        return f"{self.service_prefix}-exec-agent"

    @property
    def task_role(self) -> str:
        return f"{self.service_prefix}-task"

    @property
    def execution_role(self) -> str:
        return f"{self.service_prefix}-exec"

    @property
    def security_group(self) -> str:
        return f"{self.service_prefix}-connect"

    @property
    def topics_function(self) -> str:
        """The topics custom resource's Lambda: creates/fixes at deploy, deletes (ephemeral) on destroy."""
        return f"{self.service_prefix}-topics"

    @property
    def topics_role(self) -> str:
        return f"{self.service_prefix}-topics"

    @property
    def redeploy_function(self) -> str:
        """Forces a new deployment of the Connect service when the stage's dbInfo secret changes."""
        return f"{self.service_prefix}-redeploy"

    @property
    def redeploy_role(self) -> str:
        return f"{self.service_prefix}-redeploy"

    @property
    def secret_change_rule(self) -> str:
        """EventBridge rule on the CloudTrail events that change the stage's resolved dbInfo secret."""
        return f"{self.service_prefix}-secret-change"

    @property
    def task_stopped_rule(self) -> str:
        return f"{self.service_prefix}-task-stopped"

    @property
    def service_errors_rule(self) -> str:
        return f"{self.service_prefix}-ecs-errors"

    @property
    def alerts_topic(self) -> str:
        """The SNS topic every alarm of the stage notifies."""
        return self.alerts_stack

    @property
    def alerts_topic_export(self) -> str:
        """CloudFormation export of the alerts topic ARN (alerts stack -> connector stack)."""
        return f"{self.alerts_stack}-topic-arn"

    @property
    def alerts_key_export(self) -> str:
        """CloudFormation export of the alerts topic's KMS key ARN (publishers need kms:GenerateDataKey)."""
        return f"{self.alerts_stack}-key-arn"

    @property
    def topics_security_group(self) -> str:
        return f"{self.service_prefix}-topics"

    @property
    def agent_state_table(self) -> str:
        """DynamoDB table where the agent keeps its restart record across agent restarts."""
        return f"{self.service_prefix}-agent-state"

    @property
    def dashboard(self) -> str:
        return self.service_prefix

    @property
    def metric_namespace(self) -> str:
        return self.service_prefix

    @property
    def alarm_prefix(self) -> str:
        return self.service_prefix

    def alarm(self, what: str) -> str:
        return f"{self.alarm_prefix}-{what}"

    def alarm_for(self, kind: AlarmKind) -> str:
        return self.alarm(kind.value)

    def metric_dimensions(self, connector: str) -> dict[str, str]:
        """The values of :data:`METRIC_DIMENSIONS` for one connector of the stage."""
        return dict(zip(METRIC_DIMENSIONS, (self.stage.name, connector), strict=True))

    @property
    def log_group_root(self) -> str:
        return f"/wms-connector/{self.stage.name}"

    @property
    def connect_log_group(self) -> str:
        return f"{self.log_group_root}/connect"

    @property
    def agent_log_group(self) -> str:
        return f"{self.log_group_root}/agent"

    @property
    def audit_log_group(self) -> str:
        """The scheduled audit's output (its verdict and the EMF lines of AuditMissing/Extra/Mismatched)."""
        return f"{self.log_group_root}/audit"

    @property
    def audit_task_family(self) -> str:
        return f"{self.service_prefix}-audit"

    @property
    def audit_container(self) -> str:
        return "audit"

    @property
    def audit_task_role(self) -> str:
        return f"{self.service_prefix}-audit"

    @property
    def audit_schedule(self) -> str:
        """The EventBridge Scheduler schedule that runs the audit task."""
        return f"{self.service_prefix}-audit"

    @property
    def audit_consumer_group_prefix(self) -> str:
        """The audit's consumers (never committed; one per run) take a group id with this prefix."""
        return f"{self.topic_namespace}wms-audit-{self.stage.name}-"

    @property
    def audit_scheduler_role(self) -> str:
        """The role EventBridge Scheduler assumes to run the audit task (ecs:RunTask, iam:PassRole)."""
        return f"{self.service_prefix}-audit-run"

    @property
    def exec_log_group(self) -> str:
        """Audit log of ECS Exec sessions into the workers."""
        return f"{self.log_group_root}/exec"

    @property
    def topics_log_group(self) -> str:
        return f"{self.log_group_root}/topics"

    @property
    def redeploy_log_group(self) -> str:
        return f"{self.log_group_root}/redeploy"

    # -- Kafka Connect ----------------------------------------------------------------------
    @property
    def connector(self) -> str:
        """The Debezium Oracle connector's name in Kafka Connect."""
        return f"{self.service_prefix}-oracle"

    @property
    def standin_connector(self) -> str:
        """The local stand-in (PostgreSQL) connector's name: never deployed to AWS."""
        return f"{self.service_prefix}-standin-postgres"

    @property
    def test_sink_connector(self) -> str:
        """The tests' JDBC sink connector (replays the stand-in topics into a second database):
        test suite only, never deployed."""
        return f"{self.service_prefix}-test-jdbc-sink"

    @property
    def topic_namespace(self) -> str:
        return topic_namespace(self.stage)

    @property
    def group_id(self) -> str:
        return f"{self.topic_namespace}mgmt.connect.{self.service_prefix}"

    @property
    def leader_transactional_id(self) -> str:
        """The transactional id of the Connect leader's config-topic writes under exactly-once
        (Kafka's ``DistributedConfig.transactionalProducerId``: ``connect-cluster-<group.id>``).
        The tasks' ids are ``<group.id>-<connector>-<task>``."""
        return f"connect-cluster-{self.group_id}"

    @property
    def config_topic(self) -> str:
        return f"{self.group_id}.config"

    @property
    def offsets_topic(self) -> str:
        return f"{self.group_id}.offsets"

    @property
    def status_topic(self) -> str:
        return f"{self.group_id}.status"

    # -- Debezium topics ----------------------------------------------------------------------
    @property
    def topic_prefix(self) -> str:
        """Debezium ``topic.prefix``: data topics are ``<topic_prefix>.<SCHEMA>.<TABLE>``."""
        return f"{self.topic_namespace}{TOPIC_PREFIX_BASE}"

    def data_topic(self, table: TableId) -> str:
        return f"{self.topic_prefix}.{table.schema}.{table.table}"

    @property
    def data_topics(self) -> dict[TableId, str]:
        return {t: self.data_topic(t) for t in CAPTURED_TABLES}

    @property
    def schema_history_topic(self) -> str:
        return f"{self.topic_prefix}.schema-history"

    @property
    def schema_change_topic(self) -> str:
        """Debezium writes DDL events for consumers to a topic named exactly ``topic.prefix``."""
        return self.topic_prefix

    @property
    def heartbeat_topic_prefix(self) -> str:
        """Debezium ``topic.heartbeat.prefix``; named stages keep Debezium's well-known default."""
        return f"{self.topic_namespace}__debezium-heartbeat"

    @property
    def heartbeat_topic(self) -> str:
        # Debezium's DefaultTopicNamingStrategy joins heartbeat prefix and topic prefix with '.'.
        return f"{self.heartbeat_topic_prefix}.{self.topic_prefix}"

    @property
    def signal_topic(self) -> str:
        return f"{self.topic_prefix}.signal"

    @property
    def schema_history_consumer_group(self) -> str:
        """Debezium's schema-history consumer group: its default, ``<schema.history.internal.name>``,
        which Debezium sets to ``<topic.prefix>-schemahistory``."""
        return f"{self.topic_prefix}-schemahistory"

    @property
    def signal_consumer_group(self) -> str:
        """Consumer group of Debezium's Kafka signal channel (namespaced like the Connect group)."""
        return f"{self.group_id}.signal"

    @property
    def hold_topic(self) -> str:
        """The operator hold of the stage's connector: a compacted topic every agent of the stage
        reads each cycle, and ``wms-connector hold``/``release`` (and the operations commands)
        write. Key = connector name; a tombstone releases."""
        return f"{self.topic_prefix}.agent-hold"

    @property
    def hold_reader_group(self) -> str:
        """The ``group.id`` of hold-topic readers. Required by the Kafka client, but never joined
        (readers assign the partition) and never committed, so it needs no group rights."""
        return f"{self.group_id}.hold-reader"

    # -- the local stand-in source (PostgreSQL) ------------------------------------------------
    @property
    def standin_slot(self) -> str:
        """Logical replication slot of the stand-in connector. PostgreSQL allows ``[a-z0-9_]``
        (max 63); a stage holds no ``_``, so mapping ``-`` to ``_`` stays one-to-one."""
        return f"wms_standin_{self.stage.name.replace('-', '_')}"

    @property
    def standin_publication(self) -> str:
        return f"wms_standin_{self.stage.name.replace('-', '_')}_pub"

    @property
    def all_topics(self) -> tuple[str, ...]:
        """Every topic the stage owns, data topics first."""
        return (
            *self.data_topics.values(),
            self.schema_change_topic,
            self.schema_history_topic,
            self.heartbeat_topic,
            self.signal_topic,
            self.hold_topic,
            self.config_topic,
            self.offsets_topic,
            self.status_topic,
        )

    # -- secrets ----------------------------------------------------------------------------
    def secret_paths(self, name: str) -> tuple[str, str]:
        """Where secret ``name`` is looked up: the stage's path first, then the default."""
        return secret_path(self.stage.name, name), secret_path(DEFAULT_SECRET_SCOPE, name)

    def secret_arn_patterns(self, region: str, account: str) -> tuple[str, str]:
        """IAM resource patterns for reading this stage's secrets (stage scope and default scope)."""
        base = f"arn:aws:secretsmanager:{region}:{account}:secret:{SECRET_ROOT}"
        return f"{base}/{self.stage.name}/*", f"{base}/{DEFAULT_SECRET_SCOPE}/*"


@cache
def names_for(stage: Stage) -> StageNames:
    return StageNames(stage)


@dataclass(frozen=True)
class BoundedName:
    """A family of derived names and the limit of the service that holds them."""

    service: str
    limit: int
    names: Callable[[StageNames], tuple[str, ...]]


#: Every name with a length limit, and the service whose limit it is. ``stages.MAX_STAGE_LENGTH``
#: is the largest stage length for which all of these fit (a test computes and compares it).
BOUNDED_NAMES: Final = (
    BoundedName("CloudFormation stack", 128, lambda n: (n.alerts_stack, n.connector_stack)),
    BoundedName(
        "ECS cluster/service/family",
        255,
        lambda n: (n.cluster, n.service, n.task_family, n.audit_task_family),
    ),
    BoundedName(
        "IAM role",
        64,
        lambda n: (
            n.task_role,
            n.execution_role,
            n.topics_role,
            n.redeploy_role,
            n.audit_task_role,
            n.audit_scheduler_role,
        ),
    ),
    BoundedName("IAM managed policy", 128, lambda n: (n.exec_policy,)),
    BoundedName("EventBridge Scheduler schedule", 64, lambda n: (n.audit_schedule,)),
    BoundedName("Lambda function", 64, lambda n: (n.topics_function, n.redeploy_function)),
    BoundedName(
        "EventBridge rule", 64, lambda n: (n.task_stopped_rule, n.service_errors_rule, n.secret_change_rule)
    ),
    BoundedName("SNS topic", 256, lambda n: (n.alerts_topic,)),
    BoundedName("DynamoDB table", 255, lambda n: (n.agent_state_table,)),
    BoundedName(
        "CloudWatch log group",
        512,
        lambda n: (
            n.connect_log_group,
            n.agent_log_group,
            n.exec_log_group,
            n.audit_log_group,
            n.topics_log_group,
            n.redeploy_log_group,
        ),
    ),
    BoundedName("CloudWatch namespace", 255, lambda n: (n.metric_namespace,)),
    BoundedName("CloudWatch alarm", 255, lambda n: tuple(n.alarm_for(k) for k in AlarmKind)),
    BoundedName("CloudWatch dashboard", 255, lambda n: (n.dashboard,)),
    BoundedName("EC2 security group", 255, lambda n: (n.security_group, n.topics_security_group)),
    BoundedName("CloudFormation export", 255, lambda n: (n.alerts_topic_export, n.alerts_key_export)),
    BoundedName("Kafka topic", 249, lambda n: n.all_topics),
    BoundedName(
        "Kafka Connect connector", 255, lambda n: (n.connector, n.standin_connector, n.test_sink_connector)
    ),
    BoundedName("PostgreSQL identifier", 63, lambda n: (n.standin_slot, n.standin_publication)),
    BoundedName(
        "Secrets Manager secret",
        512,
        lambda n: (*n.secret_paths("permissionsBoundary"), n.rest_credential_secret),
    ),
)
