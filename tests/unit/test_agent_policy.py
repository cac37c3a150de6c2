"""``agent.policy``: every verdict, the restart gate with a fake clock, two agents, unrecoverable classes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wms_connector.agent.policy import (
    ConnectorStatus,
    Gate,
    Memory,
    Observation,
    Policy,
    RestartConnector,
    RestartRecord,
    RestartTask,
    Streaming,
    TaskStatus,
    Unrecoverable,
    Verdict,
    assess,
    classify,
    decide,
    next_backoff_ms,
    should_reset,
    should_restart,
)
from wms_connector.stages import Stage, settings_for

ME = "10.0.1.5:8083"
OTHER = "10.0.2.7:8083"
POLICY = Policy(
    restart_after_unhealthy_ms=30_000,
    scn_stall_ms=60_000,
    backoff_base_ms=10_000,
    backoff_max_ms=300_000,
    budget=3,
    budget_window_ms=3_600_000,
    reset_after_ms=600_000,
    stale_event_ms=600_000,
)
CONNECTED = Streaming(connected=True, ms_behind_source=40.0, ms_since_last_event=900.0)


def status(
    task_state: str = "RUNNING", worker: str = ME, trace: str = "", connector: str = "RUNNING"
) -> ConnectorStatus:
    return ConnectorStatus(connector, worker, (TaskStatus(0, task_state, worker, trace),))


def obs(
    st: ConnectorStatus | None = None,
    streaming: Streaming | None = CONNECTED,
    *,
    reachable: bool = True,
    read: bool = True,
    snapshot: bool = False,
) -> Observation:
    return Observation(reachable, st, read, streaming, snapshot)


OFFSET_TRACE = (
    "io.debezium.DebeziumException: Online REDO LOG files or archive log files do not contain the offset "
    "scn 123456. Please perform a new snapshot."
)

VERDICT_CASES = [
    ("worker down", obs(status(), reachable=False), Verdict.WORKER_UNREACHABLE, False),
    ("connector missing", obs(None), Verdict.MISSING, False),
    ("offset lost", obs(status("FAILED", trace=OFFSET_TRACE)), Verdict.UNRECOVERABLE, True),
    ("paused", obs(status("PAUSED", connector="PAUSED")), Verdict.PAUSED, False),
    ("stopped", obs(ConnectorStatus("STOPPED", ME, ())), Verdict.PAUSED, False),
    ("task failed here", obs(status("FAILED", trace="boom")), Verdict.FAILED, True),
    ("task failed there", obs(status("FAILED", worker=OTHER, trace="boom")), Verdict.FAILED, False),
    ("unassigned", obs(status("UNASSIGNED")), Verdict.STARTING, False),
    ("no task yet", obs(ConnectorStatus("RUNNING", ME, ())), Verdict.STARTING, False),
    ("running elsewhere", obs(status(worker=OTHER), streaming=None), Verdict.ELSEWHERE, False),
    ("exporter unreadable", obs(status(), streaming=None, read=False), Verdict.HEALTHY, True),
    ("snapshot", obs(status(), streaming=None, snapshot=True), Verdict.SNAPSHOT, True),
    ("no streaming mbean", obs(status(), streaming=None), Verdict.DISCONNECTED, True),
    ("connected=0", obs(status(), streaming=Streaming(connected=False)), Verdict.DISCONNECTED, True),
    ("healthy", obs(status()), Verdict.HEALTHY, True),
]


@pytest.mark.parametrize(
    ("case", "observation", "verdict", "owner"), VERDICT_CASES, ids=[c[0] for c in VERDICT_CASES]
)
def test_every_verdict_of_the_table(
    case: str, observation: Observation, verdict: Verdict, owner: bool
) -> None:
    result = assess(observation, Memory(), ME, 1000.0, POLICY)
    assert (result.verdict, result.owner) == (verdict, owner), result.reason


def test_connector_instance_failure_targets_the_connector_on_its_worker() -> None:
    st = ConnectorStatus("FAILED", ME, (TaskStatus(0, "RUNNING", OTHER),), trace="boom")
    decision = decide(obs(st), Memory(), ME, 0.0, POLICY)
    assert decision.actions == (RestartConnector(),)


def run(observations: list[tuple[float, Observation]], memory: Memory | None = None, me: str = ME) -> list:
    """Feed observations one at a time, like h11 feeds bytes; returns each decision."""
    memory = memory or Memory()
    out = []
    for now, observation in observations:
        decision = decide(observation, memory, me, now, POLICY)
        memory = decision.memory
        out.append(decision)
    return out


def test_disconnected_becomes_stalled_after_the_threshold_and_is_restarted_once() -> None:
    down = obs(status(), streaming=None)
    decisions = run([(t, down) for t in (0.0, 5.0, 29.0, 30.0, 35.0)])
    assert [d.assessment.verdict for d in decisions] == [
        Verdict.DISCONNECTED,
        Verdict.DISCONNECTED,
        Verdict.DISCONNECTED,
        Verdict.STALLED,
        Verdict.DISCONNECTED,  # a restart starts a new streak
    ]
    assert [d.actions for d in decisions] == [(), (), (), (RestartTask(0),), ()]
    assert decisions[3].memory.restarts == RestartRecord(1, 30.0, (30.0,))


def test_a_healthy_cycle_ends_the_disconnected_streak() -> None:
    down, up = obs(status(), streaming=None), obs(status())
    decisions = run([(0.0, down), (20.0, up), (25.0, down), (50.0, down), (55.0, down)])
    assert [d.assessment.verdict for d in decisions] == [
        Verdict.DISCONNECTED,
        Verdict.HEALTHY,
        Verdict.DISCONNECTED,
        Verdict.DISCONNECTED,
        Verdict.STALLED,
    ]


def test_failed_task_first_restart_immediate_then_exponential_backoff_then_budget() -> None:
    failed = obs(status("FAILED", trace="boom"))
    times = [0.0, 1.0, 10.0, 15.0, 30.0, 31.0, 70.0]
    decisions = run([(t, failed) for t in times])
    restarted_at = [t for t, d in zip(times, decisions, strict=True) if d.actions]
    # immediate, then +10 s, then +20 s; budget 3 per hour: the fourth is refused.
    assert restarted_at == [0.0, 10.0, 30.0]
    assert decisions[1].gate is Gate.BACKING_OFF and decisions[1].next_restart_at == 10.0
    assert decisions[-1].gate is Gate.EXHAUSTED
    assert decisions[-1].next_restart_at == 3600.0  # when the oldest restart leaves the window


def test_budget_rolls_with_its_window() -> None:
    record = RestartRecord(3, 100.0, (0.0, 50.0, 100.0))
    assert should_restart(record, 3599.0, POLICY)[0] is Gate.EXHAUSTED
    assert should_restart(record, 3600.0, POLICY)[0] is Gate.ALLOWED


@pytest.mark.parametrize(
    ("count", "expected_ms"),
    [(0, 0), (1, 10_000), (2, 20_000), (3, 40_000), (5, 160_000), (6, 300_000), (20, 300_000)],
)
def test_backoff_schedule(count: int, expected_ms: int) -> None:
    assert next_backoff_ms(count, POLICY) == expected_ms


def test_stable_for_the_reset_interval_clears_the_backoff_count_but_not_the_budget() -> None:
    record = RestartRecord(2, 0.0, (0.0, 5.0))
    assert not should_reset(record, 100.0, 699.0, POLICY)
    assert should_reset(record, 100.0, 700.0, POLICY)
    memory = Memory(restarts=record, verdict=Verdict.HEALTHY, healthy_since=100.0)
    decision = decide(obs(status()), memory, ME, 700.0, POLICY)
    assert decision.memory.restarts == RestartRecord(0, 0.0, (0.0, 5.0))


def test_two_agents_never_both_restart_the_same_task() -> None:
    for st in (status("FAILED", trace="x"), status("FAILED", worker=OTHER, trace="x")):
        acting = [me for me in (ME, OTHER) if decide(obs(st), Memory(), me, 0.0, POLICY).actions]
        assert acting == [st.tasks[0].worker_id]
    # Disconnected: only the holder has the MBean; the other sees the task running elsewhere.
    down_for_holder = [(t, obs(status(), streaming=None)) for t in (0.0, 40.0)]
    assert run(down_for_holder, me=ME)[-1].actions == (RestartTask(0),)
    assert not any(
        d.actions for d in run([(t, obs(status(), streaming=None, read=True)) for t in (0.0, 40.0)], me=OTHER)
    )


@pytest.mark.parametrize(
    ("trace", "kind"),
    [
        (OFFSET_TRACE, Unrecoverable.OFFSET_NOT_IN_LOGS),
        (
            "The db history topic or its content is fully or partially missing. Please check",
            Unrecoverable.SCHEMA_HISTORY_LOST,
        ),
        (
            "java.sql.SQLException: ORA-01017: invalid username/password; logon denied",
            Unrecoverable.CREDENTIALS_REJECTED,
        ),
        ('FATAL: password authentication failed for user "wms"', Unrecoverable.CREDENTIALS_REJECTED),
        ('ERROR: replication slot "wms_standin_x" does not exist', Unrecoverable.REPLICATION_SLOT_LOST),
        ("org.apache.kafka.connect.errors.ConnectException: ORA-03135 connection lost contact", None),
    ],
)
def test_unrecoverable_classes(trace: str, kind: Unrecoverable | None) -> None:
    assert classify(trace) is kind


def test_unrecoverable_failure_is_never_restarted() -> None:
    failed = obs(status("FAILED", trace=OFFSET_TRACE))
    decisions = run([(t, failed) for t in (0.0, 100.0, 1000.0)])
    assert all(d.actions == () for d in decisions)
    assert decisions[0].assessment.unrecoverable is Unrecoverable.OFFSET_NOT_IN_LOGS


def test_oracle_offset_scn_flat_while_current_scn_advances_is_stalled() -> None:
    def scn(offset: float, current: float) -> Observation:
        return obs(status(), streaming=Streaming(connected=True, offset_scn=offset, current_scn=current))

    decisions = run([(0.0, scn(100, 100)), (30.0, scn(100, 150)), (61.0, scn(100, 180))])
    assert [d.assessment.verdict for d in decisions] == [Verdict.HEALTHY, Verdict.HEALTHY, Verdict.STALLED]
    assert decisions[-1].actions == (RestartTask(0),)
    # A quiet database (CurrentScn flat too) is not stalled.
    quiet = run([(0.0, scn(100, 100)), (100.0, scn(100, 100))])
    assert quiet[-1].assessment.verdict is Verdict.HEALTHY


def test_streaming_ignores_debezium_minus_one_for_never() -> None:
    s = Streaming.from_attributes(
        {"connected": 1.0, "millisecondsbehindsource": -1.0, "millisecondssincelastevent": -1.0}
    )
    assert s == Streaming(connected=True)
    assert Streaming.from_attributes({}) is None


def test_status_from_rest_answer() -> None:
    body = {
        "name": "c",
        "connector": {"state": "RUNNING", "worker_id": ME},
        "tasks": [{"id": 0, "state": "FAILED", "worker_id": OTHER, "trace": "t"}],
        "type": "source",
    }
    assert ConnectorStatus.from_rest(body) == ConnectorStatus(
        "RUNNING", ME, (TaskStatus(0, "FAILED", OTHER, "t"),)
    )


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_policy_comes_from_the_stage_settings(stage: str) -> None:
    settings = settings_for(Stage(stage))
    policy = Policy.from_settings(settings)
    assert policy.budget == settings.restart_budget
    assert policy.restart_after_unhealthy_ms == settings.restart_after_unhealthy_ms
    assert replace(policy, budget=1).budget == 1


@pytest.mark.parametrize(
    ("active", "age_ms", "expected"),
    [
        (1.0, 61_000.0, Verdict.LONG_TRANSACTION),  # open as long as the offset is flat: explains it
        (3.0, 900_000.0, Verdict.LONG_TRANSACTION),
        (1.0, 20_000.0, Verdict.STALLED),  # younger than the flat period: something else holds it
        (0.0, 0.0, Verdict.STALLED),  # nothing open (OldestScnAge is 0 with an empty buffer)
        (None, None, Verdict.STALLED),  # attributes not served
    ],
)
def test_a_flat_offset_is_a_long_transaction_only_when_an_open_transaction_explains_it(
    active: float | None, age_ms: float | None, expected: Verdict
) -> None:
    def scn(current: float) -> Observation:
        return obs(
            status(),
            streaming=Streaming(
                connected=True,
                offset_scn=100,
                current_scn=current,
                active_transactions=active,
                oldest_scn_age_ms=age_ms,
            ),
        )

    decisions = run([(0.0, scn(100)), (30.0, scn(150)), (61.0, scn(180))])
    assert decisions[-1].assessment.verdict is expected
    assert bool(decisions[-1].actions) is (expected is Verdict.STALLED)
