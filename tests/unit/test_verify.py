"""``verify``'s pure verdict: observations in, one check per promise out (the shell is proven
against the real local pipeline in tests/integration/test_verify.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from wms_connector.connect.connector_config import OracleSource, build_config
from wms_connector.connect.exposition import parse
from wms_connector.kafka.reconcile import TopicState
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage, settings_for
from wms_connector.verify import (
    CHECKS,
    DBINFO_CHECK,
    Expectation,
    MetricsPage,
    Observation,
    checks,
    dbinfo_drift,
    default_timeout_s,
    expectation_for,
    problems,
    snapshot_progress,
)

STAGE = Stage("feature-x")
NAMES = names_for(STAGE)
EXPECT = expectation_for(STAGE, NAMES.connector)
RUNNING = {
    "connector": {"state": "RUNNING", "worker_id": "10.0.0.1:8083"},
    "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "10.0.0.1:8083"}],
}


def _page(connected: float) -> MetricsPage:
    server = NAMES.topic_prefix
    text = (
        "# TYPE debezium_metrics_connected gauge\n"
        f'debezium_metrics_connected{{plugin="oracle",context="streaming",server="{server}"}} {connected}\n'
    )
    return MetricsPage("http://10.0.0.1:9404/metrics", parse(text))


def _topics() -> dict[str, TopicState]:
    return {s.name: TopicState(s.partitions, s.replication_factor, dict(s.config)) for s in EXPECT.specs}


HEALTHY = Observation(
    status=RUNNING, metrics=(_page(1),), topics=_topics(), end_offsets={NAMES.heartbeat_topic: 7}
)
BASELINE = {NAMES.heartbeat_topic: 5}


def _failed(seen: Observation, baseline: dict[str, int] = BASELINE) -> dict[str, str]:
    return {c.name: c.detail for c in checks(EXPECT, seen, baseline) if not c.ok}


def test_healthy_passes_every_check_in_order() -> None:
    results = checks(EXPECT, HEALTHY, BASELINE)
    assert tuple(c.name for c in results) == CHECKS
    assert problems(results) == []
    assert "gained 2 record(s)" in results[-1].detail


def _with(**changes: Any) -> Observation:
    fields = {**HEALTHY.__dict__, **changes}
    return Observation(**fields)


FAILED_TASK = {
    "connector": {"state": "RUNNING"},
    "tasks": [{"id": 0, "state": "FAILED", "worker_id": "w1", "trace": "ORA-01291: missing logfile\n at x"}],
}
HISTORY = NAMES.schema_history_topic


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (_with(status=None), {"connector": "is not registered", "task": "has no task"}),
        (_with(connect_error="refused"), {"connector": "unreachable: refused", "task": "unknown"}),
        (_with(status=FAILED_TASK), {"task": "is FAILED on w1: ORA-01291: missing logfile"}),
        (
            _with(status={"connector": {"state": "PAUSED"}, "tasks": []}),
            {"connector": "is PAUSED", "task": "no task"},
        ),
        (_with(metrics=(_page(0),)), {"connected": "Connected=0"}),
        (_with(metrics=(MetricsPage("u", error="timeout"),)), {"connected": "unreadable: u: timeout"}),
        (_with(metrics=()), {"connected": "no metrics URL"}),
        (
            _with(topics={k: v for k, v in _topics().items() if k != HISTORY}),
            {"topics": f"topic {HISTORY} is missing"},
        ),
        (
            _with(
                topics={
                    **_topics(),
                    HISTORY: TopicState(1, 3, {"cleanup.policy": "delete", "retention.ms": "5"}),
                }
            ),
            {"topics": f"topic {HISTORY}: retention.bytes is unset, specified -1"},
        ),
        (_with(topics=None, kafka_error="no broker"), {"topics": "no broker"}),
        (_with(end_offsets=dict(BASELINE)), {"progress": "heartbeats stalled"}),
    ],
)
def test_each_problem_fails_its_own_check_with_a_reason(seen: Observation, expected: dict[str, str]) -> None:
    failed = _failed(seen)
    assert set(failed) == set(expected)
    for name, needle in expected.items():
        assert needle in failed[name]


def test_a_data_topic_counts_as_progress_when_heartbeats_are_flat() -> None:
    data = EXPECT.data_topics[0]
    seen = _with(end_offsets={NAMES.heartbeat_topic: 5, data: 3})
    assert _failed(seen) == {}


def test_default_timeout_covers_three_heartbeats_and_at_least_a_minute() -> None:
    assert default_timeout_s(settings_for(Stage("production"))) == 60
    assert default_timeout_s(settings_for(Stage("main"))) == 90


def _snapshot_page(remaining: int, events: int) -> MetricsPage:
    """The worker's page during Debezium's initial snapshot: streaming not registered yet."""
    server = NAMES.topic_prefix
    labels = f'plugin="oracle",context="snapshot",server="{server}"'
    text = "".join(
        f"# TYPE debezium_metrics_{name} gauge\ndebezium_metrics_{name}{{{labels}}} {value}\n"
        for name, value in (
            ("snapshotrunning", 1.0),
            ("totaltablecount", 4.0),
            ("remainingtablecount", float(remaining)),
            ("totalnumberofeventsseen", float(events)),
        )
    )
    return MetricsPage("http://10.0.0.1:9404/metrics", parse(text))


def test_a_running_snapshot_is_shown_as_progress_not_a_lost_connection() -> None:
    seen = Observation(
        status=RUNNING, metrics=(_snapshot_page(3, 120_000),), topics=_topics(), end_offsets={}
    )
    assert snapshot_progress(EXPECT, seen) == "1 of 4 tables done, 120000 rows read"
    assert _failed(seen)["connected"] == (
        "initial snapshot in progress (1 of 4 tables done, 120000 rows read); "
        "streaming (Connected=1) starts when it ends"
    )
    assert snapshot_progress(EXPECT, HEALTHY) is None


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _run(timeline: list[tuple[float, Observation]], timeout_s: float, snapshot_timeout_s: float) -> Any:
    """``run_verify`` over a scripted timeline: each observation holds from its time on."""
    from wms_connector.commands.verify import run_verify

    clock = _Clock()
    said: list[tuple[float, str]] = []

    def look() -> Observation:
        return [seen for at, seen in timeline if at <= clock.now][-1]

    results, elapsed = run_verify(
        EXPECT,
        None,  # type: ignore[arg-type]
        (),
        None,
        timeout_s,
        snapshot_timeout_s=snapshot_timeout_s,
        clock=clock,
        sleep=clock.sleep,
        say=lambda line: said.append((clock.now, line)),
        look=look,
    )
    return results, elapsed, said


def _snapshotting(remaining: int, events: int) -> Observation:
    return Observation(
        status=RUNNING, metrics=(_snapshot_page(remaining, events),), topics=_topics(), end_offsets={}
    )


def test_verify_waits_for_a_40_minute_snapshot_then_for_streaming() -> None:
    streaming = Observation(
        status=RUNNING, metrics=(_page(1),), topics=_topics(), end_offsets={NAMES.heartbeat_topic: 3}
    )
    timeline = [
        (0.0, _snapshotting(4, 0)),
        (600.0, _snapshotting(3, 400_000)),
        (2400.0, _snapshotting(0, 1_600_000)),
        (2410.0, streaming),
    ]
    results, elapsed, said = _run(timeline, timeout_s=60.0, snapshot_timeout_s=7200.0)
    assert problems(results) == []
    assert elapsed == 2410.0
    assert [line for _, line in said] == [
        "initial snapshot: 0 of 4 tables done, 0 rows read",
        "initial snapshot: 1 of 4 tables done, 400000 rows read",
        "initial snapshot: 4 of 4 tables done, 1600000 rows read",
    ]


def test_verify_fails_a_snapshot_that_outlasts_its_own_bound_and_says_how_far_it_got() -> None:
    results, elapsed, _ = _run([(0.0, _snapshotting(2, 10))], timeout_s=60.0, snapshot_timeout_s=600.0)
    assert elapsed == 600.0
    assert (
        "initial snapshot in progress (2 of 4 tables done"
        in dict((c.name, c.detail) for c in results)["connected"]
    )


def test_verify_counts_its_ordinary_timeout_from_the_snapshot_end() -> None:
    stuck = Observation(status=RUNNING, metrics=(_page(0),), topics=_topics(), end_offsets={})
    timeline = [(0.0, _snapshotting(1, 10)), (300.0, stuck)]
    _results, elapsed, _ = _run(timeline, timeout_s=60.0, snapshot_timeout_s=7200.0)
    assert 300.0 + 60.0 - 2.0 <= elapsed <= 300.0 + 60.0


# -- dbinfo: the running connector against the current dbInfo ------------------------------------

DB = DbInfo(host="db-a.example.invalid", port=1521, db="ORCLCDB", pdb_name="ORCLPDB1", user="c##dbz")


def _running_config(db: DbInfo) -> dict[str, str]:
    """What the agent PUT from the task's environment: the real config builder, so the keys agree."""
    return build_config(STAGE, OracleSource(db), "b-1.example.invalid:9094", KafkaAuth.IAM)


def _with_db(db: DbInfo | None) -> Expectation:
    return replace(EXPECT, db=None if db is None else db.target)


def test_no_drift_when_the_connector_runs_what_dbinfo_says() -> None:
    seen = replace(HEALTHY, config=_running_config(DB))
    results = checks(_with_db(DB), seen, BASELINE)
    assert tuple(c.name for c in results) == (*CHECKS, DBINFO_CHECK)
    assert problems(results) == []
    # Without a dbInfo to compare (a local stand-in), there is no such check at all.
    assert tuple(c.name for c in checks(EXPECT, seen, BASELINE)) == CHECKS


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"host": "db-b.example.invalid"},
            "dbInfo.host is 'db-b.example.invalid' but the running connector has database.hostname = "
            "'db-a.example.invalid'",
        ),
        ({"port": 1522}, "dbInfo.port is '1522' but the running connector has database.port = '1521'"),
        ({"db": "NEWCDB"}, "dbInfo.db is 'NEWCDB' but the running connector has database.dbname = 'ORCLCDB'"),
        (
            {"pdb_name": None},
            "dbInfo.pdb_name is not set but the running connector has database.pdb.name = 'ORCLPDB1'",
        ),
    ],
)
def test_a_baked_field_that_changed_is_drift_fixed_by_a_deploy(change: dict[str, Any], expected: str) -> None:
    current = DB.model_copy(update=change)
    failed = {
        c.name: c.detail
        for c in checks(_with_db(current), replace(HEALTHY, config=_running_config(DB)), BASELINE)
        if not c.ok
    }
    assert set(failed) == {DBINFO_CHECK}
    assert failed[DBINFO_CHECK].startswith(expected)
    assert "fix: run the deploy" in failed[DBINFO_CHECK]
    # verify exits 1 (the shell raises WmsError when any check fails) with this one line.
    assert problems(checks(_with_db(current), replace(HEALTHY, config=_running_config(DB)), BASELINE)) == [
        f"{DBINFO_CHECK}: {failed[DBINFO_CHECK]}"
    ]


def test_a_user_change_alone_is_fixed_by_a_redeploy_and_every_difference_is_named() -> None:
    seen = replace(HEALTHY, config=_running_config(DB))
    [user] = [
        c for c in checks(_with_db(DB.model_copy(update={"user": "c##new"})), seen, BASELINE) if not c.ok
    ]
    assert "dbInfo.user is 'c##new' but the running connector has database.user = 'c##dbz'" in user.detail
    assert "fix: redeploy the service" in user.detail
    both = DB.model_copy(update={"user": "c##new", "host": "db-b.example.invalid"})
    [drift] = [c for c in checks(_with_db(both), seen, BASELINE) if not c.ok]
    assert (
        "dbInfo.host" in drift.detail
        and "dbInfo.user" in drift.detail
        and "fix: run the deploy" in drift.detail
    )


def test_ports_compare_as_numbers() -> None:
    assert dbinfo_drift(DB.target, {**_running_config(DB), "database.port": "01521"}) == []


def test_an_unreadable_or_missing_connector_config_is_not_a_pass() -> None:
    [unknown] = [
        c
        for c in checks(_with_db(DB), replace(HEALTHY, config=None, config_error="HTTP 500"), BASELINE)
        if c.name == DBINFO_CHECK
    ]
    assert not unknown.ok and "could not be read: HTTP 500" in unknown.detail
    [missing] = [
        c for c in checks(_with_db(DB), replace(HEALTHY, config=None), BASELINE) if c.name == DBINFO_CHECK
    ]
    assert not missing.ok and "is not registered" in missing.detail
