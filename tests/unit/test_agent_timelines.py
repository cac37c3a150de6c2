"""Production situations replayed through the real agent loop (``tests/unit/agent_sim.py``).

Each test is one situation the agent meets at night, named after it, with production's policy
(``settings_for(Stage("production"))``: poll 2 s, disconnected 30 s, SCN stall 10 min, back-off
0/10/20/40/80 s, 5 restarts an hour, 5 min start-up grace). Each asserts the exact restarts,
verdict changes and metrics the agent produces; times are simulated seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.unit.agent_sim import (
    NAMES,
    World,
    connected,
    new_agent,
    new_world,
    replay,
)
from wms_connector.naming import AgentMetric

SCN0 = 12_000_000_000.0
#: SCNs a busy WMS database advances per second.
SCN_PER_S = 100.0


def scn(now: float) -> float:
    return SCN0 + SCN_PER_S * now


def streaming_normally(world: World, now: float) -> None:
    """Connected, changes flowing, the offset close behind the current SCN."""
    world.streaming = connected(scn(now), scn(now) - 500)
    world.snapshot = {"SnapshotRunning": 0.0, "SnapshotCompleted": 1.0}


def values(run_metric: list[tuple[float, float]]) -> set[float]:
    return {value for _, value in run_metric}


def test_initial_snapshot_of_40_minutes_is_never_restarted() -> None:
    def timeline(world: World, now: float) -> None:
        if now < 2400:
            # 00-snapshot: the MBeans are registered, Connected 0, no streaming event yet (-1).
            world.streaming = {
                "Connected": 0.0,
                "MilliSecondsSinceLastEvent": -1.0,
                "QueueRemainingCapacity": 8192.0,
            }
            world.snapshot = {
                "SnapshotRunning": 1.0,
                "TotalTableCount": 4.0,
                "RemainingTableCount": 4.0 - now // 600,
                "TotalNumberOfEventsSeen": now * 700,
            }
        else:
            streaming_normally(world, now)

    run = replay(timeline, until_s=2600)
    assert run.connect.restarts() == []
    assert run.connect.writes() == []
    assert run.verdicts() == [(0.0, "snapshot"), (2400.0, "healthy")]
    assert values(run.metric(AgentMetric.HEALTHY)) == {1.0}
    # Connected is not a question during the snapshot; and its rows are no reason for no-events.
    assert run.metric(AgentMetric.CONNECTED)[0] == (2400.0, 1.0)
    assert next(t for t, _ in run.metric(AgentMetric.SINCE_LAST_EVENT_MS)) == 2400.0


def test_wms_batch_transaction_open_45_minutes_is_a_long_transaction_never_a_restart() -> None:
    opened, committed = 600.0, 600.0 + 45 * 60

    def timeline(world: World, now: float) -> None:
        if opened <= now < committed:
            # 04-transaction-open: OffsetScn held at the transaction's start while CurrentScn moves.
            world.streaming = connected(
                scn(now),
                scn(opened) - 1,
                NumberOfActiveTransactions=1.0,
                OldestScnAgeInMilliseconds=(now - opened) * 1000,
                ScnFreezeCount=float((now - opened) // 300),
            )
        else:
            streaming_normally(world, now)

    run = replay(timeline, until_s=committed + 200)
    assert run.connect.restarts() == []
    assert run.verdicts() == [(0.0, "healthy"), (1200.0, "long-transaction"), (committed, "healthy")]
    reason = next(r for r in run.reports if r.at == 1200.0).decision.assessment.reason
    assert reason == (
        "an open transaction 10 min old holds OffsetScn (1 open): not restarted, a restart would re-mine it"
    )
    ages = run.metric(AgentMetric.LONG_TRANSACTION_AGE_MS)
    assert ages[0] == (1200.0, 600_000.0)
    assert ages[-1] == (committed - 2, (committed - 2 - opened) * 1000)
    assert len(ages) == (committed - 1200) / 2
    assert values(run.metric(AgentMetric.HEALTHY)) == {1.0}
    assert values(run.metric(AgentMetric.STALL_ESCALATED)) == {0.0}


def test_logminer_stuck_with_no_open_transaction_is_restarted_twice_then_escalated() -> None:
    frozen = 600.0

    def timeline(world: World, now: float) -> None:
        last = world.connect.last_restart()
        if last is not None and now - last < 20:
            world.streaming = None  # 06-unregistered: the restarted task has not registered yet
        elif now < frozen:
            streaming_normally(world, now)
        else:
            # 03-offset-flat: CurrentScn moves on, OffsetScn does not, nothing open explains it.
            world.streaming = connected(scn(now), scn(frozen) - 500)

    run = replay(timeline, until_s=2600)
    assert run.connect.restarts() == [1200.0, 1820.0]
    assert run.verdicts() == [
        (0.0, "healthy"),
        (1200.0, "stalled"),
        (1202.0, "disconnected"),
        (1220.0, "healthy"),
        (1820.0, "stalled"),
        (1822.0, "disconnected"),
        (1840.0, "healthy"),
        (2440.0, "stalled"),
    ]
    assert run.gates()[-1] == (2440.0, "escalated")
    assert run.metric_at(AgentMetric.STALL_ESCALATED, 2438.0) == 0.0
    assert values([m for m in run.metric(AgentMetric.STALL_ESCALATED) if m[0] >= 2440.0]) == {1.0}
    assert values(run.metric(AgentMetric.BUDGET_EXHAUSTED)) == {0.0}


def _database_outage(start: float, end: float):  # type: ignore[no-untyped-def]
    def timeline(world: World, now: float) -> None:
        if start <= now < end:
            world.streaming = None  # Debezium unregisters the MBean while it retries, task RUNNING
        else:
            streaming_normally(world, now)

    return timeline


def test_database_outage_of_3_minutes_costs_one_restart() -> None:
    run = replay(_database_outage(100.0, 280.0), until_s=600)
    assert run.connect.restarts() == [130.0]
    assert run.verdicts() == [
        (0.0, "healthy"),
        (100.0, "disconnected"),
        (130.0, "stalled"),
        (132.0, "disconnected"),
        (280.0, "healthy"),
    ]
    assert run.metric_at(AgentMetric.CONNECTED, 278.0) == 0.0
    assert run.metric_at(AgentMetric.CONNECTED, 280.0) == 1.0
    assert values(run.metric(AgentMetric.STALL_ESCALATED)) == {0.0}


def test_database_outage_of_3_hours_is_escalated_after_two_restarts_not_a_spent_budget() -> None:
    back = 100.0 + 3 * 3600
    run = replay(_database_outage(100.0, back), until_s=back + 100)
    assert run.connect.restarts() == [130.0, 432.0]
    assert run.verdicts() == [
        (0.0, "healthy"),
        (100.0, "disconnected"),
        (130.0, "stalled"),
        (132.0, "disconnected"),
        (432.0, "stalled"),
        (434.0, "disconnected"),
        (734.0, "stalled"),
        (back, "healthy"),
    ]
    assert run.gates() == [
        (0.0, None),
        (130.0, "allowed"),
        (132.0, None),
        (432.0, "allowed"),
        (434.0, None),
        (734.0, "escalated"),
        (back, None),
    ]
    escalated = run.metric(AgentMetric.STALL_ESCALATED)
    assert {v for t, v in escalated if 734.0 <= t < back} == {1.0}
    assert {v for t, v in escalated if t >= back} == {0.0}
    assert values(run.metric(AgentMetric.BUDGET_EXHAUSTED)) == {0.0}


def _failing_task(world: World, now: float) -> None:
    """The task FAILS again one second after each restart (a cause a restart does not cure)."""
    streaming_normally(world, now)
    last = world.connect.last_restart()
    if last is None or now - last >= 1:
        world.task.state = "FAILED"
        world.task.trace = "org.apache.kafka.connect.errors.ConnectException: boom\n\tat ..."
        world.streaming = None


def test_unwritable_state_volume_keeps_the_backoff_and_the_budget(tmp_path: Path) -> None:
    # The record's directory cannot be created (a file is in the way): every save raises OSError.
    (tmp_path / "wms-agent").write_text("not a directory")
    record = tmp_path / "wms-agent" / "restarts.json"
    run = replay(_failing_task, until_s=3598, record_file=record)
    assert run.connect.restarts() == [0.0, 10.0, 30.0, 70.0, 150.0]
    assert len([t for t in run.connect.restarts() if t < 60]) == 3
    assert values(run.metric(AgentMetric.RECORD_UNWRITABLE)) == {1.0}
    assert len(run.events("restart-record-unwritable")) == 1
    assert run.gates()[-1] == (152.0, "budget-exhausted")
    assert run.metric_at(AgentMetric.RESTART_COUNT, 3596.0) == 5.0


def test_agent_restarted_mid_backoff_waits_out_the_backoff(tmp_path: Path) -> None:
    record = tmp_path / "restarts.json"
    run = replay(_failing_task, until_s=400, record_file=record, restart_agent_at=40.0)
    assert len(run.agents) == 2
    assert run.connect.restarts() == [0.0, 10.0, 30.0, 70.0, 150.0]
    first = next(r for r in run.reports if r.at == 40.0)
    assert (first.decision.gate.value if first.decision.gate else None, first.decision.next_restart_at) == (
        "backing-off",
        70.0,
    )
    # Without its record, the new agent would have restarted at once.
    forgetful = replay(_failing_task, until_s=400, restart_agent_at=40.0)
    assert forgetful.connect.restarts()[:4] == [0.0, 10.0, 30.0, 40.0]


def test_exporter_gone_for_an_hour_never_restarts_on_missing_evidence() -> None:
    def timeline(world: World, now: float) -> None:
        streaming_normally(world, now)
        world.exporter_up = not (100 <= now < 3700)

    run = replay(timeline, until_s=3800)
    assert run.connect.restarts() == []
    assert {r.decision.assessment.reason for r in run.reports if 100 <= r.at < 3700} == {
        "task RUNNING here (exporter unreadable: status only)"
    }
    connected_at = dict(run.metric(AgentMetric.CONNECTED))
    assert not [t for t in connected_at if 100 <= t < 3700]
    assert connected_at[3700.0] == 1.0
    assert values(run.metric(AgentMetric.HEALTHY)) == {1.0}


def test_oracle_slow_to_reach_connected_after_a_restart_is_not_restarted_again() -> None:
    def timeline(world: World, now: float) -> None:
        last = world.connect.last_restart()
        if now == 100.0:
            world.task.state = "FAILED"
            world.task.trace = (
                "java.sql.SQLRecoverableException: ORA-03113: end-of-file on communication channel"
            )
        elif last is not None and now - last < 240:
            world.streaming = None  # recovering its schema history: no MBean yet
        elif last is not None and now - last < 260:
            world.streaming = {
                **connected(scn(now), scn(now) - 500),
                "Connected": 0.0,
            }  # LogMiner session starting
        else:
            streaming_normally(world, now)

    run = replay(timeline, until_s=600)
    assert run.connect.restarts() == [100.0]
    assert run.verdicts() == [
        (0.0, "healthy"),
        (100.0, "failed"),
        (102.0, "disconnected"),
        (360.0, "healthy"),
    ]
    reason = next(r for r in run.reports if r.at == 300.0).decision.assessment.reason
    assert reason == "task RUNNING but no streaming metrics (not streaming) since the restart for 198 s"


def test_a_task_that_never_produced_an_event_since_it_started_reports_its_silence() -> None:
    def timeline(world: World, now: float) -> None:
        # Debezium's -1 ("no event yet") from the start of streaming on.
        world.streaming = {**connected(scn(now), scn(now) - 500), "MilliSecondsSinceLastEvent": -1.0}

    run = replay(timeline, until_s=600)
    since = dict(run.metric(AgentMetric.SINCE_LAST_EVENT_MS))
    assert since[0.0] == 0.0
    assert since[600.0] == 600_000.0


def test_the_simulated_page_is_the_agents_input_not_a_shortcut() -> None:
    world = new_world()
    streaming_normally(world, 10.0)
    logs: list[dict[str, object]] = []
    agent = new_agent(world, logs)
    world.clock.now = 10.0
    report = agent.cycle()
    assert report.observation.streaming is not None
    assert report.observation.streaming.offset_scn == scn(10.0) - 500
    assert world.scrapes == 1
    assert NAMES.topic_prefix in world.page()


def test_the_timelines_use_the_names_and_labels_debeziums_real_metrics_class_serves() -> None:
    """Every line the simulator serves is one that Debezium 3.6.1's metrics classes served through
    the image's exporter rules (recorded in tests/fixtures/oracle/debezium_metrics by issue 24)."""
    from tests.unit.agent_sim import SNAPSHOT_ATTRIBUTES, STREAMING_ATTRIBUTES, render_page
    from wms_connector.connect.exposition import parse

    recorded_dir = Path(__file__).parents[1] / "fixtures" / "oracle" / "debezium_metrics"
    recorded = {
        (s.name, s.labels.get("context"), s.labels.get("server"), s.labels.get("plugin"))
        for page in sorted(recorded_dir.glob("*.prom"))
        for s in parse(page.read_text(encoding="utf-8"))
        if s.name.startswith("debezium_metrics_")
    }
    everything = render_page(
        NAMES.topic_prefix,
        dict.fromkeys(STREAMING_ATTRIBUTES, 1.0),
        dict.fromkeys(SNAPSHOT_ATTRIBUTES, 1.0),
    )
    served = {
        (s.name, s.labels.get("context"), s.labels.get("server"), s.labels.get("plugin"))
        for s in parse(everything)
        if s.name.startswith("debezium_metrics_")
    }
    assert len(served) == len(STREAMING_ATTRIBUTES) + len(SNAPSHOT_ATTRIBUTES)
    assert served - recorded == set()


def test_rolling_deploy_with_a_config_change_writes_it_once_and_never_reverts() -> None:
    """ECS at 100 % minimum healthy: tasks of revision 4 run; two tasks of revision 5 (a changed
    setting) start at 100 s and both generations are alive until the old pair stops at 160 s."""
    from tests.unit.agent_sim import DESIRED, ME, OTHER
    from wms_connector.agent.generation import GENERATION_KEY, Generation, stamp

    world = new_world()
    logs: list[dict[str, object]] = []
    old_desired, _ = stamp(DESIRED, started=1000.0, revision=4)
    new_config = {**DESIRED, "poll.interval.ms": "777"}

    def agent_of(worker: str, desired: dict[str, str], started: float, revision: int) -> Any:
        agent = new_agent(world, logs, own_worker=worker)
        agent.desired, agent.generation = stamp(desired, started=started, revision=revision)
        return agent

    old = [agent_of(ME, DESIRED, 1000.0, 4), agent_of(OTHER, DESIRED, 1001.0, 4)]
    world.connect.put_config(NAMES.connector, {**old_desired, "name": NAMES.connector})
    world.connect.calls.clear()
    new = [agent_of("10.0.3.9:8083", new_config, 5000.0, 5), agent_of("10.0.4.2:8083", new_config, 5001.0, 5)]
    outcomes: list[tuple[float, str, str]] = []
    for step in range(0, 301):
        now = step * 2.0
        world.clock.now = now
        streaming_normally(world, now)
        if now == 160.0:
            # The old pair stops: Connect rebalances the connector and its task onto a new worker.
            world.task.worker = new[0].own_worker
        alive = [*(old if now < 160 else []), *(new if now >= 100 else [])]
        for agent in alive:
            generation = agent.generation.revision if agent.generation else None
            outcomes.append((now, f"rev {generation} on {agent.own_worker}", agent.cycle().reconcile))
    # Written once, by the new agent beside the connector's worker, once the connector runs there.
    writes = world.connect.writes()
    assert writes == [160.0]
    live = world.connect.get_config(NAMES.connector)
    assert live["poll.interval.ms"] == "777"
    assert Generation.parse(live[GENERATION_KEY]) == new[0].generation
    assert world.connect.restarts() == []
    assert {o for t, who, o in outcomes if "rev 4" in who} == {"unchanged"}
    assert {o for t, who, o in outcomes if t < 160 and "rev 5" in who} == {"deferred"}
    assert [o for t, who, o in outcomes if t == 160.0] == ["updated", "unchanged"]
    assert {o for t, who, o in outcomes if t > 160} == {"unchanged"}
    deferred = [e for e in logs if e.get("outcome") == "deferred"]
    assert len(deferred) == 2  # one line per new agent while it waits, not one per cycle


def test_operator_hold_during_recovery_is_never_undone_and_release_reconciles_once() -> None:
    """The runbook's schema-history recovery: hold, ``snapshot.mode=recovery`` by hand, the task
    FAILED meanwhile; released after 10 minutes."""
    from wms_connector.hold.record import Hold, HoldView, view_of

    world = new_world()
    logs: list[dict[str, object]] = []
    agent = new_agent(world, logs)
    hold = Hold.new(connector=NAMES.connector, by="ops@laptop", reason="schema history recovery", now=100.0)
    released_at = 700.0

    def current() -> HoldView:
        written = 100.0 <= world.clock.now < released_at  # set at 100 s, released at 700 s
        return view_of(hold if written else None, world.clock.now)

    agent.hold = current
    events: list[tuple[float, str, int]] = []
    held: dict[float, float] = {}
    for step in range(0, 501):
        now = step * 2.0
        world.clock.now = now
        streaming_normally(world, now)
        if now == 110.0:
            live = world.connect.get_config(NAMES.connector)
            world.connect.put_config(NAMES.connector, {**live, "snapshot.mode": "recovery"})
        if 120.0 <= now < released_at:
            world.task.state, world.task.trace = "FAILED", "java.lang.IllegalStateException: boom"
            world.streaming = None
        report = agent.cycle()
        events.append((now, report.reconcile, report.restarts_issued))
        held[now] = json.loads(report.emf)[AgentMetric.HOLD.value]
    assert world.connect.writes() == [110.0, released_at]  # the person's, then one reconcile
    assert world.connect.get_config(NAMES.connector).get("snapshot.mode") != "recovery"
    assert world.connect.restarts() == [released_at]
    assert {r for t, r, _ in events if 100 <= t < released_at} == {"held"}
    assert [r for t, r, _ in events if t >= released_at][:2] == ["updated", "unchanged"]
    assert {v for t, v in held.items() if 100 <= t < released_at} == {1.0}
    assert {v for t, v in held.items() if t < 100 or t >= released_at} == {0.0}
    assert [e["state"] for e in logs if e.get("event") == "hold"] == ["held", "none"]
    assert agent.memory.restarts.count == 1
