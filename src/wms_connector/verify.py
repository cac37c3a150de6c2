"""Is a stage really working? The verdict of ``wms-connector verify`` (pure).

The shell (``commands/verify.py``) observes; this module decides. An :class:`Observation` holds
what the Connect REST API, each worker's JMX exporter page, the broker's topic metadata and the
end offsets said at one moment; :func:`checks` turns it, with the end offsets seen when verify
started, into one :class:`Check` per promise:

============ ==================================================================================
check        passes when
============ ==================================================================================
connector    the connector is registered and RUNNING
task         it has a task and every task is RUNNING
connected    a worker's exporter shows Debezium's streaming ``Connected`` = 1 for the stage's
             ``topic.prefix`` (parsed by ``connect.exposition``: a RUNNING task whose source is
             unreachable keeps retrying while RUNNING, so the REST state alone is not enough)
topics       every topic of ``kafka.topics.topic_specs`` exists with its partitions, replication
             factor and configs (``kafka.reconcile.plan_topics`` plans nothing but ``ok``)
progress     the heartbeat topic (or a data topic) gained records since verify started
dbinfo       (when verify has the stage's ``dbInfo``) the running connector's ``database.hostname``,
             ``.port``, ``.dbname``, ``.pdb.name`` and ``.user`` are dbInfo's (:func:`dbinfo_check`)
============ ==================================================================================

Why ``dbinfo``: the host, port, db and PDB are resolved at synth and baked into the task
definition, so a ``dbInfo`` edit reaches the connector only with a deploy (the secret-change
redeploy starts new tasks from the *same* task definition); the user is read when a task starts,
so a redeploy (which the change itself triggers) is enough for it. The drift names the field and
both values (none of them is secret) and the fix.

A stage is verified when every check passes; each failed check is one line that says what is
wrong. ``progress`` can only pass after a heartbeat interval, so the shell keeps observing until
everything passes or its timeout (:func:`default_timeout_s`) runs out.

A first deploy runs Debezium's initial snapshot before it streams, and ``Connected`` stays 0 until
streaming starts. A running snapshot (Debezium's snapshot MBean ``SnapshotRunning=1``) is progress,
not a failure: ``connected`` then says how far it is (:func:`snapshot_progress`), and the shell
waits for it within its own bound (:data:`DEFAULT_SNAPSHOT_TIMEOUT_S`, ``--snapshot-timeout``);
the ordinary timeout counts again from the snapshot's end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from wms_connector.connect.exposition import SNAPSHOT, Sample, debezium
from wms_connector.kafka.reconcile import ActionKind, TopicState, plan_topics
from wms_connector.kafka.topics import TopicRole, TopicSpec, topic_specs
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import DbTarget
from wms_connector.stages import Stage, StageSettings

CHECKS: Final = ("connector", "task", "connected", "topics", "progress")
#: The check that compares the running connector with ``dbInfo`` (after :data:`CHECKS`, when asked).
DBINFO_CHECK: Final = "dbinfo"
#: dbInfo field -> the connector config key it becomes (connect.connector_config), and whether a
#: redeploy alone fixes a difference (read at task start) or it needs a deploy (baked at synth).
DB_FIELDS: Final = (
    ("host", "database.hostname", False),
    ("port", "database.port", False),
    ("db", "database.dbname", False),
    ("pdb_name", "database.pdb.name", False),
    ("user", "database.user", True),
)
RUNNING: Final = "RUNNING"
#: At least this long, and at least three heartbeat intervals: a beat must have time to land.
MIN_TIMEOUT_S: Final = 60.0


#: How long verify waits for a running initial snapshot (the WMS tables take about 40 minutes).
DEFAULT_SNAPSHOT_TIMEOUT_S: Final = 2 * 3600.0


def default_timeout_s(settings: StageSettings) -> float:
    return max(MIN_TIMEOUT_S, 3 * settings.heartbeat_interval_ms / 1000)


@dataclass(frozen=True)
class Expectation:
    """What a working stage looks like (all from ``naming``/``topics``)."""

    connector: str
    #: Debezium's ``topic.prefix``: the ``server`` label of its metrics.
    server: str
    specs: tuple[TopicSpec, ...]
    heartbeat_topic: str
    data_topics: tuple[str, ...]
    #: The current ``dbInfo``'s non-secret fields; ``None``: not compared (no ``dbinfo`` check).
    db: DbTarget | None = None


def expectation_for(
    stage: Stage,
    connector: str,
    *,
    replication_factor: int | None = None,
    partitions: Mapping[TopicRole, int] | None = None,
) -> Expectation:
    """``connector``: ``names.connector`` (Oracle) or ``names.standin_connector`` (local stand-in).

    ``replication_factor`` and ``partitions`` (per role) override the stage's, for the local
    runtime, whose single broker and workers use smaller internal topics.
    """
    names = names_for(stage)
    sizes = partitions or {}
    specs = tuple(
        replace(spec, partitions=sizes.get(spec.role, spec.partitions))
        for spec in topic_specs(stage, replication_factor=replication_factor)
    )
    return Expectation(
        connector=connector,
        server=names.topic_prefix,
        specs=specs,
        heartbeat_topic=names.heartbeat_topic,
        data_topics=tuple(names.data_topics.values()),
    )


@dataclass(frozen=True)
class MetricsPage:
    url: str
    samples: tuple[Sample, ...] = ()
    #: Why the page could not be read (``samples`` is then empty).
    error: str | None = None


@dataclass(frozen=True)
class Observation:
    """One look at the stage. ``None`` values mean "could not be observed", with the reason."""

    #: ``GET /connectors/{name}/status``; ``None`` with no ``connect_error``: not registered (404).
    status: Mapping[str, Any] | None = None
    connect_error: str | None = None
    metrics: tuple[MetricsPage, ...] = ()
    #: The broker's view of the specified topics that exist (name -> state).
    topics: Mapping[str, TopicState] | None = None
    #: Topic -> sum of its partitions' end offsets, for the heartbeat and data topics that exist.
    end_offsets: Mapping[str, int] = field(default_factory=dict)
    kafka_error: str | None = None
    #: ``GET /connectors/{name}/config`` (read only when ``dbInfo`` is compared); ``None``: not read.
    config: Mapping[str, str] | None = None
    config_error: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def _first_line(trace: object) -> str:
    lines = str(trace or "").strip().splitlines()
    return lines[0][:300] if lines else "no trace"


def _connector_checks(expect: Expectation, seen: Observation) -> list[Check]:
    name = expect.connector
    if seen.connect_error is not None:
        reason = f"Kafka Connect REST is unreachable: {seen.connect_error}"
        return [Check("connector", False, reason), Check("task", False, "unknown: " + reason)]
    if seen.status is None:
        return [
            Check("connector", False, f"connector {name} is not registered"),
            Check("task", False, f"connector {name} is not registered, so it has no task"),
        ]
    state = seen.status.get("connector", {}).get("state", "UNKNOWN")
    if state == RUNNING:
        connector = Check("connector", True, f"connector {name} is RUNNING")
    else:
        trace = seen.status.get("connector", {}).get("trace")
        detail = f"connector {name} is {state}" + (f": {_first_line(trace)}" if trace else "")
        connector = Check("connector", False, detail)
    tasks = seen.status.get("tasks") or []
    if not tasks:
        return [connector, Check("task", False, f"connector {name} has no task")]
    bad = [t for t in tasks if t.get("state") != RUNNING]
    if not bad:
        workers = ", ".join(str(t.get("worker_id")) for t in tasks)
        return [connector, Check("task", True, f"{len(tasks)} task(s) RUNNING (on {workers})")]
    details = [
        f"task {name}-{t.get('id')} is {t.get('state')} on {t.get('worker_id')}"
        + (f": {_first_line(t.get('trace'))}" if t.get("state") == "FAILED" else "")
        for t in bad
    ]
    return [connector, Check("task", False, "; ".join(details))]


def snapshot_progress(expect: Expectation, seen: Observation) -> str | None:
    """How far a running snapshot is (``None``: no worker reports one running)."""
    for page in seen.metrics:
        attrs = debezium(page.samples, server=expect.server, context=SNAPSHOT)
        if attrs.get("snapshotrunning", 0.0) >= 1.0:
            total = attrs.get("totaltablecount")
            remaining = attrs.get("remainingtablecount")
            parts = []
            if total is not None and remaining is not None:
                parts.append(f"{total - remaining:g} of {total:g} tables done")
            events = attrs.get("totalnumberofeventsseen")
            if events is not None:
                parts.append(f"{events:.0f} rows read")
            seconds = attrs.get("snapshotdurationinseconds")
            if seconds is not None:
                parts.append(f"running for {seconds:.0f} s")
            return ", ".join(parts) or "running"
    return None


def _connected_check(expect: Expectation, seen: Observation) -> Check:
    found = [(page.url, debezium(page.samples, server=expect.server)) for page in seen.metrics]
    reporting = [(url, attrs) for url, attrs in found if attrs]
    if any(attrs.get("connected") == 1.0 for _, attrs in reporting):
        url = next(url for url, attrs in reporting if attrs.get("connected") == 1.0)
        return Check("connected", True, f"Debezium reports Connected=1 for {expect.server} ({url})")
    snapshot = snapshot_progress(expect, seen)
    if snapshot is not None:
        return Check(
            "connected",
            False,
            f"initial snapshot in progress ({snapshot}); streaming (Connected=1) starts when it ends",
        )
    if reporting:
        url, attrs = reporting[0]
        value = attrs.get("connected")
        shown = "no Connected attribute" if value is None else f"Connected={value:g}"
        return Check(
            "connected",
            False,
            f"Debezium reports {shown} for {expect.server} ({url}): the source database is not connected",
        )
    errors = [f"{page.url}: {page.error}" for page in seen.metrics if page.error]
    if not seen.metrics:
        return Check("connected", False, "no metrics URL to read Debezium's Connected attribute from")
    detail = (
        f"no worker reports Debezium streaming metrics for {expect.server} (the task is not streaming, "
        "or no metrics URL is the worker that runs it)"
    )
    return Check("connected", False, detail + (f"; unreadable: {'; '.join(errors)}" if errors else ""))


def _topic_checks(expect: Expectation, seen: Observation) -> Check:
    if seen.topics is None:
        return Check("topics", False, f"the broker could not be read: {seen.kafka_error or 'unknown error'}")
    problems: list[str] = []
    for action in plan_topics(expect.specs, seen.topics):
        name = action.spec.name
        if action.kind is ActionKind.CREATE:
            problems.append(f"topic {name} is missing")
        elif action.kind is ActionKind.ALTER_CONFIG:
            actual = seen.topics[name].config
            problems += [
                f"topic {name}: {key} is {actual.get(key, 'unset')}, specified {value}"
                for key, value in sorted(action.changes.items())
            ]
        elif action.kind is ActionKind.REPORT:
            problems += [f"topic {name} {problem}" for problem in action.problems]
    if problems:
        return Check("topics", False, "; ".join(problems))
    return Check("topics", True, f"all {len(expect.specs)} topics exist with the specified configs")


def _progress_check(expect: Expectation, seen: Observation, baseline: Mapping[str, int]) -> Check:
    if seen.kafka_error is not None and not seen.end_offsets:
        return Check("progress", False, f"end offsets could not be read: {seen.kafka_error}")
    for topic in (expect.heartbeat_topic, *expect.data_topics):
        gained = seen.end_offsets.get(topic, 0) - baseline.get(topic, 0)
        if topic in seen.end_offsets and gained > 0:
            kind = "heartbeat" if topic == expect.heartbeat_topic else "data"
            return Check("progress", True, f"{kind} topic {topic} gained {gained} record(s)")
    return Check(
        "progress",
        False,
        f"no new record in the heartbeat topic {expect.heartbeat_topic} nor in any data topic since verify "
        "started (heartbeats stalled)",
    )


def dbinfo_drift(db: DbTarget, config: Mapping[str, str]) -> list[tuple[str, str, str | None, str | None]]:
    """``(field, config key, running value, dbInfo's value)`` for each field that differs (pure).

    ``None`` is "not set" (a non-CDB has no ``database.pdb.name``). Ports compare as numbers."""
    found = []
    for name, key, _ in DB_FIELDS:
        wanted = getattr(db, name)
        expected = None if wanted is None else str(wanted)
        actual = config.get(key)
        if name == "port" and actual is not None and actual.strip().isdigit():
            actual = str(int(actual))
        if actual != expected:
            found.append((name, key, actual, expected))
    return found


def _shown(value: str | None) -> str:
    return "not set" if value is None else repr(value)


def dbinfo_check(db: DbTarget, seen: Observation, connector: str) -> Check:
    """Does the running connector connect where (and as whom) the current ``dbInfo`` says? (pure)"""
    if seen.config_error is not None:
        return Check(DBINFO_CHECK, False, f"the connector's config could not be read: {seen.config_error}")
    if seen.config is None:
        return Check(
            DBINFO_CHECK, False, f"connector {connector} is not registered: nothing to compare with dbInfo"
        )
    drift = dbinfo_drift(db, seen.config)
    if not drift:
        return Check(DBINFO_CHECK, True, "the connector's database.* settings are the current dbInfo's")
    parts = [
        f"dbInfo.{name} is {_shown(expected)} but the running connector has {key} = {_shown(actual)}"
        for name, key, actual, expected in drift
    ]
    redeploy_only = all(
        fixed_by_redeploy for name, _, fixed_by_redeploy in DB_FIELDS if name in {d[0] for d in drift}
    )
    fix = (
        "fix: redeploy the service (new tasks read the Oracle user when they start; a dbInfo change "
        "triggers it, so a failed redeploy alarmed)"
        if redeploy_only
        else "fix: run the deploy (the host, port, db and PDB are baked into the task definition at "
        "synth; the secret-change redeploy does not change them)"
    )
    return Check(DBINFO_CHECK, False, "; ".join(parts) + f"; {fix}")


def checks(expect: Expectation, seen: Observation, baseline: Mapping[str, int]) -> list[Check]:
    """One check per promise, in :data:`CHECKS` order (then ``dbinfo`` when ``expect.db`` is set);
    ``baseline`` = end offsets at the start."""
    found = [
        *_connector_checks(expect, seen),
        _connected_check(expect, seen),
        _topic_checks(expect, seen),
        _progress_check(expect, seen, baseline),
    ]
    if expect.db is not None:
        found.append(dbinfo_check(expect.db, seen, expect.connector))
    return found


def problems(results: Sequence[Check]) -> list[str]:
    """One line per failed check."""
    return [f"{check.name}: {check.detail}" for check in results if not check.ok]
