"""The operator hold and config generations on the real local cluster (two workers, the STAND-IN):
the hold written by the real ``wms-connector hold`` into the real hold topic, agents reading it
with the real ``HoldStore``, and Debezium running with the generation stamp in its config."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wms_connector.agent.generation import GENERATION_KEY, Generation, stamp
from wms_connector.agent.loop import Agent
from wms_connector.cli import main
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.hold.record import HoldState
from wms_connector.local.pipeline import wait_running

from .test_agent import Bed, cycle_until, healthy, open_bed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bed(local_cluster: Any, module_standin_state_dir: Path) -> Iterator[Bed]:
    yield from open_bed(local_cluster, module_standin_state_dir)


def _agent(bed: Bed, index: int, *, started: float, revision: int) -> Agent:
    url = bed.cluster.rest_urls[index]
    agent, _api = build_agent(
        stage_name=bed.cluster.stage.name,
        source=AgentSource.STANDIN,
        connect_url=url,
        metrics_url=bed.cluster.metrics_urls[index],
        worker_id=url.removeprefix("http://"),
        state_file=None,
        reconcile_enabled=True,
        env=bed.env,
        generation_started=started,
        generation_revision=revision,
    )
    agent.emit = bed.lines.append
    agent.log = bed.logs.append
    return agent


def _cli(bed: Bed, *args: str) -> int:
    return main(
        [
            *args,
            "--stage",
            bed.cluster.stage.name,
            "--source",
            "standin",
            "--bootstrap",
            bed.cluster.bootstrap,
        ]
    )


@pytest.fixture
def released(bed: Bed) -> Iterator[Bed]:
    yield bed
    assert _cli(bed, "release") == 0


def test_hold_keeps_every_agent_off_an_operators_change_and_release_reconciles_once(
    released: Bed, capsys: pytest.CaptureFixture[str]
) -> None:
    bed = released
    now = time.time()
    agents = [_agent(bed, i, started=now + i, revision=3) for i in range(2)]
    cycle_until(agents, healthy, 120)
    assert _cli(bed, "hold", "--reason", "schema history recovery", "--for", "5m", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "held" and shown["hold"]["reason"] == "schema history recovery"
    assert 290 < shown["remaining_s"] <= 300

    desired_poll = (agents[0].desired or {})["poll.interval.ms"]
    bed.api.put_config(bed.name, {**bed.api.get_config(bed.name), "poll.interval.ms": "4321"})
    for _ in range(4):
        reports = [a.cycle() for a in agents]
        assert [r.reconcile for r in reports] == ["held", "held"]
        assert all(r.hold.state is HoldState.HELD for r in reports)
        assert all(json.loads(r.emf)["AgentHold"] == 1.0 for r in reports)
        time.sleep(0.5)
    assert bed.api.get_config(bed.name)["poll.interval.ms"] == "4321"
    assert _cli(bed, "hold", "--show", "--json") == 0
    capsys.readouterr()

    assert _cli(bed, "release", "--json") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "none"
    assert _cli(bed, "hold", "--show") == 3
    writes_before = [e for e in bed.logs if e.get("outcome") == "updated"]
    reports = [a.cycle() for a in agents]
    assert sorted(r.reconcile for r in reports) == ["unchanged", "updated"]
    assert bed.api.get_config(bed.name)["poll.interval.ms"] == desired_poll
    for _ in range(3):
        assert [a.cycle().reconcile for a in agents] == ["unchanged", "unchanged"]
    assert len([e for e in bed.logs if e.get("outcome") == "updated"]) == len(writes_before) + 1
    cycle_until(agents, healthy, 120)
    bed.insert_and_see()


def test_hold_needs_a_reason_and_a_sane_length(bed: Bed, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(bed, "hold") == 2
    assert "needs --reason" in capsys.readouterr().err
    assert _cli(bed, "hold", "--reason", "x", "--for", "7h") == 2
    assert "between 1 s and 6 h, got 25200 s" in capsys.readouterr().err
    assert _cli(bed, "hold", "--reason", "x", "--for", "soon") == 2
    assert _cli(bed, "hold", "--show") == 3  # nothing was held by the refusals


def test_two_generations_write_the_config_once_and_debezium_runs_with_the_stamp(bed: Bed) -> None:
    now = time.time()
    old = [_agent(bed, i, started=now - 3600 + i, revision=4) for i in range(2)]
    new = [_agent(bed, i, started=now + i, revision=5) for i in range(2)]
    # the new generation's config differs (as a deploy that changes a setting)
    for agent in new:
        changed: dict[str, Any] = {**(agent.desired or {}), "poll.interval.ms": "777"}
        agent.desired, agent.generation = stamp(
            changed,
            started=agent.generation.started,  # type: ignore[union-attr]
            revision=5,
        )
    cycle_until(old, healthy, 120)  # the old generation owns the stage first
    updates_before = len([e for e in bed.logs if e.get("outcome") == "updated"])
    for _ in range(6):  # both generations alive, cycling in turn
        for agent in (*old, *new):
            agent.cycle()
        time.sleep(0.5)
    live = bed.api.get_config(bed.name)
    assert live["poll.interval.ms"] == "777"
    writer = Generation.parse(live[GENERATION_KEY])
    assert writer is not None and writer.revision == 5
    assert len([e for e in bed.logs if e.get("outcome") == "updated"]) == updates_before + 1
    assert {a.last.reconcile for a in old if a.last} == {"deferred"}
    wait_running(bed.api, bed.name)
    cycle_until(new, healthy, 120)
    bed.insert_and_see()
