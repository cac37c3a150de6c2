"""Which of two live task generations may write the connector's config (pure), table-driven."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms_connector.agent.generation import (
    GENERATION_KEY,
    Generation,
    Verdict,
    config_digest,
    stamp,
    verdict,
)
from wms_connector.errors import InputError

OLD_CONFIG = {"connector.class": "io.debezium.X", "snapshot.mode": "initial", "tasks.max": "1"}
NEW_CONFIG = {**OLD_CONFIG, "snapshot.mode": "recovery"}
OLD, OLD_GEN = stamp(OLD_CONFIG, started=1000.0, revision=7)
NEW, NEW_GEN = stamp(NEW_CONFIG, started=2000.0, revision=8)
# An ECS rollback: the previous revision, but tasks created after the failed deploy's.
ROLLBACK, ROLLBACK_GEN = stamp(OLD_CONFIG, started=3000.0, revision=7)


@pytest.mark.parametrize(
    ("who", "own", "desired", "live", "expected"),
    [
        ("same config, same stamp", OLD_GEN, OLD, OLD, Verdict.LEAVE),
        (
            "same config, another generation's stamp",
            NEW_GEN,
            {**OLD, GENERATION_KEY: NEW_GEN.render()},
            OLD,
            Verdict.LEAVE,
        ),
        ("new task, live written by the old", NEW_GEN, NEW, OLD, Verdict.WRITE),
        ("old task, live written by the new", OLD_GEN, OLD, NEW, Verdict.DEFER),
        ("rollback task, live written by the failed new", ROLLBACK_GEN, ROLLBACK, NEW, Verdict.WRITE),
        ("new task after the rollback wrote", NEW_GEN, NEW, ROLLBACK, Verdict.DEFER),
        (
            "edited by hand, stamp removed",
            OLD_GEN,
            OLD,
            {k: v for k, v in NEW.items() if k != GENERATION_KEY},
            Verdict.WRITE,
        ),
        (
            "edited by hand, newest stamp kept: the newest restores",
            NEW_GEN,
            NEW,
            {**NEW, "snapshot.mode": "never"},
            Verdict.WRITE,
        ),
        (
            "edited by hand, newest stamp kept: an old one still defers",
            OLD_GEN,
            OLD,
            {**NEW, "snapshot.mode": "never"},
            Verdict.DEFER,
        ),
        ("garbage stamp", NEW_GEN, NEW, {**OLD, GENERATION_KEY: "yesterday"}, Verdict.WRITE),
        ("extra key live", OLD_GEN, OLD, {**OLD, "x": "1"}, Verdict.WRITE),
    ],
)
def test_verdict(
    who: str, own: Generation, desired: dict[str, str], live: dict[str, str], expected: Verdict
) -> None:
    assert verdict(own, desired, live) is expected, who


def test_a_deploy_writes_once_and_never_reverts() -> None:
    """Old and new agents alternate cycles against one live config until the old stop."""
    live = dict(OLD)
    writes = []
    for _cycle in range(20):
        for own, desired in ((OLD_GEN, OLD), (NEW_GEN, NEW)):
            if verdict(own, desired, live) is Verdict.WRITE:
                live = dict(desired)
                writes.append(own)
    assert writes == [NEW_GEN]
    assert live == NEW


def test_stamp_and_digest() -> None:
    assert OLD[GENERATION_KEY] == f"1000.000:7:{config_digest(OLD_CONFIG)}"
    # the digest ignores the stamp itself, so re-stamping is stable
    assert config_digest(OLD) == config_digest(OLD_CONFIG)
    assert stamp(OLD, started=1000.0, revision=7)[0] == OLD
    assert config_digest(NEW_CONFIG) != config_digest(OLD_CONFIG)
    assert Generation.parse(OLD[GENERATION_KEY]) == OLD_GEN


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "1:2",
        "a:1:0123456789ab",
        "1:-1:0123456789ab",
        "1:1:short",
        "1:1:0123456789AB",
        "nan:1:0123456789ab",
        "1:1:0123456789ab:extra",
    ],
)
def test_unreadable_stamps(text: str | None) -> None:
    assert Generation.parse(text) is None


@pytest.mark.parametrize(("started", "revision"), [(-1.0, 0), (float("nan"), 0), (1.0, -1)])
def test_bad_generation_inputs(started: float, revision: int) -> None:
    with pytest.raises(InputError):
        stamp(OLD_CONFIG, started=started, revision=revision)


@given(st.floats(min_value=0, max_value=4e9), st.integers(min_value=0, max_value=10**6))
def test_render_parse_round_trip(started: float, revision: int) -> None:
    _config, generation = stamp(OLD_CONFIG, started=round(started, 3), revision=revision)
    assert Generation.parse(generation.render()) == generation
