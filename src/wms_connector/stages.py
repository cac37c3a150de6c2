"""The stage model: what a stage name may be, what kind it is, and how big it runs.

A :class:`Stage` can only be built valid, so every function that takes one can trust it. Named
stages (``main`` = dev, ``val``, ``production``) are long-lived and own un-namespaced topics;
every other valid name is an ephemeral stage (one per git branch) whose topics all carry the
namespace ``--wms--<stage>--``.

Length bound
------------
The longest stage is fixed by the tightest limit among the names derived from it (see
``naming.BOUNDED_NAMES``). The binding limits are the 64-character ones (IAM role names, Lambda
function names, EventBridge rule names). The longest such name is the EventBridge rule
``wms-connector-<S>-secret-change``: 14 + len(S) + 14 <= 64, so len(S) <= 36. (Until the delivery
change it was ``wms-connector-<S>-topic-cleanup``, of the same length; a new 64-character name
must stay within 14 characters after the stage, or the bound and every long branch's stage change.)
Kafka topic names (249) carry the stage twice at most (``--wms--S--mgmt.connect.wms-connector-S.offsets`` is
44 + 2 * len(S)), CloudFormation stack names (128), ECS names (255), SNS topics (256) and log
groups (512) are all looser. ``tests/unit/test_naming.py`` checks that this constant equals the
bound computed from the real name list, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wms_connector.errors import InputError

NAMED_STAGES: Final = ("main", "val", "production")
MAX_STAGE_LENGTH: Final = 36
STAGE_PATTERN: Final = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
#: Names the grammar accepts but that collide with a path or topic we derive, with the reason.
RESERVED_STAGES: Final = {
    "default": "it is the shared fallback of every stage's secrets (wms/default/<name>), so its own "
    "secret paths would be the fallback paths",
}
#: Characters of the stable hash appended when a branch name must be shortened or disambiguated.
BRANCH_HASH_LENGTH: Final = 6


class StageError(InputError):
    """A stage name that breaks the grammar. The message names the rule and the value."""


class KafkaAuth(StrEnum):
    """How Kafka clients authenticate (issue 23: authenticated clients only).

    * ``iam`` (the default of every stage): MSK IAM, SASL_SSL; the principal is the task's or
      Lambda's role, scoped by ``infra/kafka_iam.py``.
    * ``mtls``: TLS with a client certificate and key (the ``kafkaClientCert`` secret); the
      principal is the certificate's subject, and the cluster's ACLs say what it may do.
    * ``tls``: encryption without client identity, an explicit opt-out for a cluster that allows
      unauthenticated clients (synth warns: anyone who reaches the brokers can read and write).
    * ``plaintext``: the local runtime on loopback only.
    """

    IAM = "iam"
    MTLS = "mtls"
    TLS = "tls"
    PLAINTEXT = "plaintext"

    @property
    def authenticated(self) -> bool:
        """The broker knows who the client is (and can hold it to ACLs or IAM policies)."""
        return self in (KafkaAuth.IAM, KafkaAuth.MTLS)


class StageKind(StrEnum):
    NAMED = "named"
    EPHEMERAL = "ephemeral"


def stage_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid stage, or ``None`` when it is valid."""
    if name == "":
        return "a stage must not be empty"
    if not name.isascii():
        return "a stage may hold only ASCII lowercase letters, digits and '-'"
    if len(name) > MAX_STAGE_LENGTH:
        return (
            f"a stage is at most {MAX_STAGE_LENGTH} characters (it is {len(name)}); the bound comes from "
            "the 64-character IAM role and Lambda names derived from it"
        )
    if name != name.lower():
        return "a stage must be lowercase"
    bad = sorted({c for c in name if not (c.islower() or c.isdigit() or c == "-")})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"a stage may hold only lowercase letters, digits and '-' (found {shown})"
    if not name[0].isalpha():
        return "a stage must start with a letter"
    if name.endswith("-"):
        return "a stage must not end with '-'"
    if "--" in name:
        return "a stage must not contain '--' (it delimits the topic namespace --wms--<stage>--)"
    if name in RESERVED_STAGES:
        return f"the stage name {name!r} is reserved: {RESERVED_STAGES[name]}"
    if not STAGE_PATTERN.match(name):  # pragma: no cover - the rules above are exhaustive
        return f"a stage must match {STAGE_PATTERN.pattern}"
    return None


@dataclass(frozen=True, order=True)
class Stage:
    """A validated stage name. Build it with ``Stage(name)`` or :meth:`parse`; both validate."""

    name: str

    def __post_init__(self) -> None:
        problem = stage_problem(self.name)
        if problem is not None:
            raise StageError(
                f"invalid stage {self.name!r}: {problem}. A stage matches {STAGE_PATTERN.pattern}, "
                f"has no '--' and is at most {MAX_STAGE_LENGTH} characters; "
                "for a git branch use `wms-connector stage-for-branch BRANCH`."
            )

    @classmethod
    def parse(cls, name: str) -> Stage:
        return cls(name)

    @property
    def kind(self) -> StageKind:
        return StageKind.NAMED if self.name in NAMED_STAGES else StageKind.EPHEMERAL

    @property
    def is_ephemeral(self) -> bool:
        return self.kind is StageKind.EPHEMERAL

    @property
    def is_named(self) -> bool:
        return self.kind is StageKind.NAMED

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# Branch -> stage
# ---------------------------------------------------------------------------------------------


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:BRANCH_HASH_LENGTH]


def stage_for_branch(branch: str) -> Stage:
    """The stage CI deploys for a git branch.

    A branch that already is a valid stage is its own stage (``main`` -> ``main``,
    ``feature-x`` -> ``feature-x``). Any other branch is lowercased, every run of characters
    outside ``[a-z0-9]`` becomes one ``-``, leading non-letters and trailing ``-`` are trimmed,
    the result is cut to fit, and ``-<6 hex of sha256(branch)>`` is appended. The hash keeps
    branches that slug alike apart (``feature/x`` and ``Feature_X`` get different stages), and
    it means a branch can never map onto a named stage unless it *is* that name
    (``Main`` -> ``main-<hash>``). Idempotent: every stage it returns maps to itself.
    """
    if stage_problem(branch) is None:
        return Stage(branch)
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower())
    slug = re.sub(r"^[^a-z]+", "", slug).rstrip("-")
    if not slug:
        raise StageError(
            f"branch {branch!r} has no ASCII letter to start a stage from; rename the branch "
            "or choose a stage name yourself (`wms-connector plan --stage NAME` checks one)"
        )
    head = slug[: MAX_STAGE_LENGTH - BRANCH_HASH_LENGTH - 1].rstrip("-")
    return Stage(f"{head}-{_short_hash(branch)}")


# ---------------------------------------------------------------------------------------------
# Per-stage settings
# ---------------------------------------------------------------------------------------------

#: Fargate reserves nothing inside a task, so the agent's share comes out of the task's budget.
AGENT_CPU_UNITS: Final = 256
AGENT_MEMORY_MIB: Final = 256
#: Fraction of the Connect container's memory given to the JVM heap. The rest is metaspace for
#: the plugins (~150 MiB), direct buffers of the Kafka clients, thread stacks and the JMX agent.
HEAP_FRACTION: Final = 0.65
#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS_ALLOWED: Final = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096)
#: Fargate task sizes: CPU units -> allowed memory (MiB), inclusive range and step.
FARGATE_MEMORY: Final = {
    256: (512, 2048, 512),
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
}


class StageSettings(BaseModel):
    """How big a stage runs and when it alarms. Derived only from the stage; see :func:`settings_for`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_cpu: int = Field(description="Fargate task CPU units (1024 = 1 vCPU)")
    task_memory_mib: int = Field(description="Fargate task memory (MiB)")
    worker_count: int = Field(ge=1, description="Kafka Connect workers (Fargate tasks)")
    lag_alarm_ms: int = Field(gt=0, description="alarm when MilliSecondsBehindSource exceeds this")
    stale_event_alarm_ms: int = Field(gt=0, description="alarm when no event/heartbeat for this long")
    heartbeat_interval_ms: int = Field(gt=0, description="Debezium heartbeat.interval.ms")
    log_retention_days: int
    replication_factor: int = Field(ge=1, description="replication factor of every topic the stage owns")
    data_topic_partitions: int = Field(ge=1)
    offsets_topic_partitions: int = Field(ge=1)
    data_retention_ms: int = Field(
        description="the data topics' history window: min.compaction.lag.ms and delete.retention.ms "
        "(they are compacted, the tables' replicas; kafka/topics.py)"
    )
    retain_on_destroy: bool = Field(description="keep data-bearing resources when the stack is destroyed")
    restart_budget: int = Field(ge=1, description="agent restarts allowed per budget window")
    kafka_auth: KafkaAuth = Field(
        default=KafkaAuth.IAM,
        description="client auth to MSK: iam (default) or mtls; tls (no client identity) only as a "
        "warned-about opt-out (docs/infrastructure.md#kafka-client-auth)",
    )
    exactly_once: bool = Field(
        default=True,
        description="KIP-618 exactly-once source delivery (worker exactly.once.source.support=enabled, "
        "connector exactly.once.support=required); the per-stage switch if the engine shows a defect",
    )
    # -- the connect-agent (defaults documented in docs/operations.md#alarms) ---------------------
    # 2 s: detection is Debezium dropping its streaming MBean (6 to 9 s measured) plus one cycle, and
    # the goal is 10 s; a cycle is two REST GETs and one scrape of its own worker, and 30 EMF lines a
    # minute per agent cost about $1 a month in log ingestion.
    agent_poll_interval_ms: int = Field(default=2_000, gt=0, description="agent cycle period")
    restart_after_unhealthy_ms: int = Field(
        default=60_000,
        gt=0,
        description="a RUNNING task disconnected (or with no streaming metrics) this long counts as failed",
    )
    scn_stall_ms: int = Field(
        default=600_000,
        gt=0,
        description="Oracle: OffsetScn flat while CurrentScn advances this long = stalled",
    )
    restart_backoff_base_ms: int = Field(
        default=10_000, gt=0, description="wait before restart n+1 is base * 2**(n-1); the first is immediate"
    )
    restart_backoff_max_ms: int = Field(default=300_000, gt=0, description="cap of the restart back-off")
    restart_budget_window_ms: int = Field(
        default=3_600_000, gt=0, description="rolling window of restart_budget (restarts per window)"
    )
    restart_reset_after_ms: int = Field(
        default=600_000, gt=0, description="healthy this long clears the back-off count (not the budget)"
    )
    disconnected_alarm_ms: int = Field(
        default=300_000, gt=0, description="alarm when the connector reports Connected=0 this long"
    )
    restart_startup_grace_ms: int = Field(
        default=300_000,
        gt=0,
        description="after a restart, a task that has not connected yet counts as failed only after "
        "this long (schema-history recovery and the first LogMiner session come first)",
    )
    # -- the audit (issue 21; docs/operations.md#audit) ----------------------------------------------
    audit_schedule: str = Field(
        default="rate(1 day)",
        pattern=r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$",
        description="EventBridge Scheduler expression of the scheduled audit (rate(...) or cron(...), UTC)",
    )
    audit_cpu: int = Field(default=512, description="Fargate CPU units of the audit task")
    audit_memory_mib: int = Field(
        default=2048,
        description="audit task memory: ~150 bytes per row key of the largest table, plus ~200 MiB",
    )
    archive_log_retention_ms: int = Field(
        default=86_400_000,
        gt=0,
        description="the DBA's archive-log retention, i.e. the longest outage the stage survives: preflight "
        "requires it, the agent measures OldestScnAgeInMilliseconds against it, the dashboard shows it",
    )

    @property
    def archive_log_retention_hours(self) -> float:
        return self.archive_log_retention_ms / 3_600_000

    @property
    def connect_cpu(self) -> int:
        return self.task_cpu - AGENT_CPU_UNITS

    @property
    def connect_memory_mib(self) -> int:
        return self.task_memory_mib - AGENT_MEMORY_MIB

    @property
    def heap_mib(self) -> int:
        # Whole 64 MiB steps keep -Xmx readable and stable across small memory changes.
        return int(self.connect_memory_mib * HEAP_FRACTION) // 64 * 64

    @property
    def agent_cpu(self) -> int:
        return AGENT_CPU_UNITS

    @property
    def agent_memory_mib(self) -> int:
        return AGENT_MEMORY_MIB

    @model_validator(mode="after")
    def _fargate_shape(self) -> StageSettings:
        allowed = FARGATE_MEMORY.get(self.task_cpu)
        if allowed is None:
            raise ValueError(f"task_cpu {self.task_cpu} is not a Fargate size ({sorted(FARGATE_MEMORY)})")
        low, high, step = allowed
        if not (low <= self.task_memory_mib <= high and self.task_memory_mib % step == 0):
            raise ValueError(
                f"task_memory_mib {self.task_memory_mib} is not valid with task_cpu {self.task_cpu} "
                f"(Fargate allows {low}..{high} MiB in steps of {step})"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS_ALLOWED:
            raise ValueError(f"log_retention_days {self.log_retention_days} is not a CloudWatch value")
        return self


_MAIN = StageSettings(
    # Startup (initial snapshot + schema discovery of both schemas) is the heaviest phase, so
    # dev gets the same 1 vCPU / 3 GiB as val: a smaller box would only fail at snapshot time.
    task_cpu=1024,
    task_memory_mib=3072,
    worker_count=1,
    lag_alarm_ms=300_000,
    stale_event_alarm_ms=600_000,
    heartbeat_interval_ms=30_000,
    log_retention_days=30,
    replication_factor=3,
    data_topic_partitions=3,
    offsets_topic_partitions=25,
    data_retention_ms=7 * 24 * 3600 * 1000,
    retain_on_destroy=True,
    restart_budget=5,
)

_SETTINGS: Final[dict[str, StageSettings]] = {
    "main": _MAIN,
    "val": _MAIN.model_copy(update={"worker_count": 2}),
    "production": StageSettings(
        task_cpu=2048,
        task_memory_mib=6144,
        # Two workers in two AZs: the connector has one task, the second worker is for failover.
        worker_count=2,
        lag_alarm_ms=120_000,
        stale_event_alarm_ms=300_000,
        heartbeat_interval_ms=10_000,
        log_retention_days=90,
        replication_factor=3,
        data_topic_partitions=3,
        offsets_topic_partitions=25,
        data_retention_ms=14 * 24 * 3600 * 1000,
        retain_on_destroy=True,
        restart_budget=5,
        restart_after_unhealthy_ms=30_000,
        disconnected_alarm_ms=120_000,
        # A long weekend of archived redo: the production database's promise (preflight checks it).
        archive_log_retention_ms=72 * 3_600_000,
        # Daily at 04:30 UTC, the WMS's quietest hour: the flashback reads compete with nobody.
        audit_schedule="cron(30 4 * * ? *)",
    ),
}

#: Ephemeral (branch) stages run main's sizing with one worker, keep logs a week, and leave
#: nothing behind when destroyed.
_EPHEMERAL = _MAIN.model_copy(
    update={
        "worker_count": 1,
        "log_retention_days": 7,
        "data_retention_ms": 3 * 24 * 3600 * 1000,
        "retain_on_destroy": False,
        # Branch stages and the local runtime heal faster: nobody pages on them.
        "restart_after_unhealthy_ms": 30_000,
    }
)

#: Production must survive the loss of one worker.
PRODUCTION_MIN_WORKERS: Final = 2


def settings_for(stage: Stage) -> StageSettings:
    settings = _SETTINGS.get(stage.name, _EPHEMERAL)
    check_settings(stage, settings)
    return settings


def check_settings(stage: Stage, settings: StageSettings) -> None:
    """Refuse settings that break a stage-level promise (e.g. production with one worker)."""
    if stage.name == "production" and settings.worker_count < PRODUCTION_MIN_WORKERS:
        raise InputError(
            f"stage 'production' is configured with worker_count={settings.worker_count}; production "
            f"needs at least {PRODUCTION_MIN_WORKERS} workers in different AZs so a lost worker fails over."
        )
