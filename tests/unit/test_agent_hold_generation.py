"""The real agent loop with an operator hold and two task generations, against the stateful
in-memory Connect (``fake_connect``) and a fake clock: exact writes, restarts and metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wms_connector.agent.generation import GENERATION_KEY, Generation, stamp
from wms_connector.agent.loop import Agent
from wms_connector.agent.policy import Policy
from wms_connector.agent.server import healthz
from wms_connector.hold.record import Hold, HoldState, HoldView, view_of
from wms_connector.naming import AgentMetric, names_for
from wms_connector.stages import Stage, settings_for

from .fake_connect import FakeConnect

NAMES = names_for(Stage("main"))
CONNECTOR = NAMES.connector
ME = "10.0.1.5:8083"
POLICY = Policy.from_settings(settings_for(Stage("main")))
CONFIG = {"connector.class": "io.debezium.connector.oracle.OracleConnector", "snapshot.mode": "initial"}
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def agent(
    api: FakeConnect,
    clock: Clock,
    *,
    hold: Callable[[], HoldView] | None = None,
    config: dict[str, str] = CONFIG,
    started: float = T0 - 3600,
    revision: int = 7,
    logs: list[dict[str, Any]] | None = None,
) -> Agent:
    desired, generation = stamp(config, started=started, revision=revision)
    sink = logs if logs is not None else []
    return Agent(
        api=api,  # type: ignore[arg-type]
        scrape=lambda: "",
        names=NAMES,
        connector=CONNECTOR,
        desired=desired,
        own_worker=ME,
        policy=POLICY,
        clock=clock,
        emit=lambda _line: None,
        log=sink.append,
        hold=hold,
        generation=generation,
    )


class Holds:
    """The hold topic as agents see it: the latest record, judged at the agent's clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.latest: Hold | None = None

    def __call__(self) -> HoldView:
        return view_of(self.latest, self.clock())

    def put(self, ttl_s: float = 1800) -> None:
        self.latest = Hold.new(
            CONNECTOR, by="ops@laptop", reason="history recovery", now=self.clock(), ttl_s=ttl_s
        )


def emf(a: Agent) -> dict[str, Any]:
    assert a.last is not None
    return dict(json.loads(a.last.emf))


def test_a_hold_stops_reconcile_and_restarts_and_release_reconciles_once() -> None:
    clock, api = Clock(), FakeConnect(ME)
    holds = Holds(clock)
    logs: list[dict[str, Any]] = []
    a = agent(api, clock, hold=holds, logs=logs)
    a.cycle()
    assert len(api.writes) == 1  # created
    before = a.memory.restarts

    holds.put()
    api.edit_by_hand(CONNECTOR, **{"snapshot.mode": "recovery"})
    api.fail_task(CONNECTOR)
    for _ in range(60):  # two minutes of 2 s cycles: far past the restart threshold
        clock.now += 2
        report = a.cycle()
        assert report.reconcile == "held"
        assert report.restarts_issued == 0
    assert len(api.writes) == 1
    assert api.task_restarts == 0
    assert api.configs[CONNECTOR]["snapshot.mode"] == "recovery"
    assert a.memory.restarts == before  # the budget is untouched by what was not done
    assert emf(a)[AgentMetric.HOLD.value] == 1.0
    status, body = healthz(a.last, clock.now, 10)
    assert (status, body["hold"]["state"], body["reconcile"]) == (200, "held", "held")
    assert [r["state"] for r in logs if r.get("event") == "hold"] == ["held"]

    holds.latest = None  # released
    clock.now += 2
    a.cycle()
    assert len(api.writes) == 2
    assert api.configs[CONNECTOR]["snapshot.mode"] == "initial"
    for _ in range(5):
        clock.now += 2
        a.cycle()
    assert len(api.writes) == 2
    assert emf(a)[AgentMetric.HOLD.value] == 0.0
    assert [r["state"] for r in logs if r.get("event") == "hold"] == ["held", "none"]


def test_a_forgotten_hold_expires_by_itself() -> None:
    clock, api = Clock(), FakeConnect(ME)
    holds = Holds(clock)
    a = agent(api, clock, hold=holds)
    a.cycle()
    holds.put(ttl_s=600)
    api.edit_by_hand(CONNECTOR, **{"snapshot.mode": "recovery"})
    clock.now += 599
    assert a.cycle().reconcile == "held"
    clock.now += 1
    report = a.cycle()
    assert report.hold.state is HoldState.EXPIRED
    assert report.reconcile == "updated"
    assert api.configs[CONNECTOR]["snapshot.mode"] == "initial"


def test_an_unreadable_hold_topic_means_hands_off() -> None:
    clock, api = Clock(), FakeConnect(ME)

    def broken() -> HoldView:
        raise RuntimeError("librdkafka exploded")

    a = agent(api, clock, hold=lambda: HoldView(HoldState.UNKNOWN, problem="cannot read"))
    a.cycle()
    assert api.writes == []  # not even a create while the hold cannot be known
    b = agent(api, clock, hold=broken)
    report = b.cycle()
    assert report.hold.state is HoldState.UNKNOWN
    assert report.hold.problem == "hold source failed (RuntimeError)"
    assert api.writes == []


def test_rolling_deploy_two_generations_write_once_and_never_revert() -> None:
    clock, api = Clock(), FakeConnect(ME)
    old_logs: list[dict[str, Any]] = []
    old = [agent(api, clock, started=T0 - 86400 + i, revision=7, logs=old_logs) for i in range(2)]
    for a in old:
        a.cycle()
    assert len(api.writes) == 1
    changed = {**CONFIG, "snapshot.mode": "when_needed"}
    new = [agent(api, clock, config=changed, started=T0 + i, revision=8) for i in range(2)]
    restarts_before = api.connector_restarts
    for _ in range(45):  # 90 s of overlap, old and new cycling in turn
        clock.now += 2
        for a in (*old, *new):
            a.cycle()
    assert len(api.writes) == 2  # the create, then exactly one write by the new generation
    assert api.connector_restarts - restarts_before == 1
    live = api.configs[CONNECTOR]
    assert live["snapshot.mode"] == "when_needed"
    writer = Generation.parse(live[GENERATION_KEY])
    assert writer is not None and writer.revision == 8
    assert {a.last.reconcile for a in old if a.last} == {"deferred"}
    # each old agent says once that it defers, not every cycle
    assert len([r for r in old_logs if r.get("outcome") == "deferred"]) == 2


def test_rollback_tasks_win_over_the_failed_deploy() -> None:
    clock, api = Clock(), FakeConnect(ME)
    failed = agent(api, clock, config={**CONFIG, "snapshot.mode": "when_needed"}, started=T0, revision=8)
    failed.cycle()
    rollback = agent(api, clock, started=T0 + 300, revision=7)
    clock.now += 300
    rollback.cycle()
    failed.cycle()
    assert api.configs[CONNECTOR]["snapshot.mode"] == "initial"
    assert len(api.writes) == 2
