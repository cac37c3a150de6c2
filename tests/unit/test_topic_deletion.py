"""The deletion selection: what deleting an ephemeral stage may remove. One test per protection."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wms_connector.kafka.deletion import (
    NamedStageDeletionError,
    owner_of,
    protection_violated,
    select_for_deletion,
)
from wms_connector.naming import names_for, topic_namespace
from wms_connector.stages import MAX_STAGE_LENGTH, NAMED_STAGES, Stage, stage_problem

NAMED = [Stage(n) for n in NAMED_STAGES]
#: Ephemeral stages chosen to look like each other and like the named stages.
CONFUSABLE = [
    Stage(n) for n in ("a", "a-b", "a-b-c", "ab", "b", "main-x", "mainx", "wms", "val1", "production-2")
]

# Valid stages, most from a tiny alphabet so that pairs share prefixes and differ by a '-'.
_small = st.text(alphabet="ab-1", min_size=1, max_size=8)
_general = st.from_regex(r"[a-z][a-z0-9-]{0,34}[a-z0-9]", fullmatch=True)
stage_names = st.one_of(_small, _general, st.sampled_from((*NAMED_STAGES, "main-x", "mainx", "val1"))).filter(
    lambda n: stage_problem(n) is None
)
stages = stage_names.map(Stage)
ephemeral_stages = stages.filter(lambda s: s.is_ephemeral)
suffixes = st.text(alphabet="abw-._S1", max_size=12)


def _broker_with(*owners: Stage, extra: tuple[str, ...] = ()) -> set[str]:
    topics = {t for stage in owners for t in names_for(stage).all_topics}
    return topics | set(extra)


UNRELATED = (
    "__consumer_offsets",
    "__transaction_state",
    "__wms-other",
    "__debezium-heartbeat.wms",
    "wms",
    "wms.MMDL.PLAN_BASE_WVR_TBL",
    "--wms--",
    "--wms----",
    "--wms--a",
    "--wms--a-",
    "--wms--A--wms",
    "-wms--a--x",
    "x--wms--a--wms",
    "orders",
)


# -- rule 1: named stages are refused ---------------------------------------------------------


@pytest.mark.parametrize("stage", NAMED, ids=str)
def test_named_stage_deletion_is_refused(stage: Stage) -> None:
    with pytest.raises(NamedStageDeletionError, match="named stage") as raised:
        select_for_deletion(stage, names_for(stage).all_topics)
    assert raised.value.exit_code == 2


# -- selection --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", CONFUSABLE, ids=str)
def test_selects_exactly_own_topics_among_confusable_stages(stage: Stage) -> None:
    broker = _broker_with(*NAMED, *CONFUSABLE, extra=UNRELATED)
    selection = select_for_deletion(stage, broker)
    assert set(selection.selected) == set(names_for(stage).all_topics)
    assert selection.spared == ()


def test_selects_only_topics_that_exist() -> None:
    stage = Stage("a-b")
    own = names_for(stage).all_topics
    selection = select_for_deletion(stage, {own[0], own[5], "__consumer_offsets"})
    assert selection.selected == tuple(sorted({own[0], own[5]}))


def test_extra_topics_in_the_full_namespace_are_selected() -> None:
    stage = Stage("a-b")
    extra = f"{topic_namespace(stage)}wms.transaction"
    assert select_for_deletion(stage, {extra, "--wms--a-b-c--wms.transaction"}).selected == (extra,)


# -- rule 3: each protection ------------------------------------------------------------------


def test_protection_never_a_topic_without_the_namespace() -> None:
    stage = Stage("a")
    for topic in ("wms.MMDL.PLAN_BASE_WVR_TBL", "a--x", "--wms--a", "--wms--a-", "orders"):
        assert "does not start with the namespace" in (protection_violated(stage, topic) or "")


def test_protection_never_a_topic_of_another_stage() -> None:
    # Defence in depth: even were the namespace test wrong, the parsed owner must match.
    assert protection_violated(Stage("a"), "--wms--a-b--wms") is not None
    assert owner_of("--wms--a-b--wms") == "a-b"
    assert owner_of("--wms--a--wms") == "a"
    assert owner_of("--wms----x") is None
    assert owner_of("wms.x") is None


def test_protection_never_a_topic_of_a_named_stage() -> None:
    for named in NAMED:
        for topic in names_for(named).all_topics:
            assert protection_violated(Stage("main-x"), topic) is not None
            assert topic not in select_for_deletion(Stage("main-x"), {topic}).selected


def test_protection_never_an_internal_topic() -> None:
    stage = Stage("a")
    for topic in ("__consumer_offsets", "__transaction_state", "__wms-other", "__debezium-heartbeat.wms"):
        assert protection_violated(stage, topic) is not None
    assert select_for_deletion(stage, {"__consumer_offsets", "__wms-other"}).selected == ()


def test_own_topics_pass_every_protection() -> None:
    for stage in CONFUSABLE:
        for topic in names_for(stage).all_topics:
            assert protection_violated(stage, topic) is None, topic


# -- properties over pairs of valid stages ------------------------------------------------------


@given(a=ephemeral_stages, b=stages)
def test_namespaces_are_prefix_free(a: Stage, b: Stage) -> None:
    assume(a != b)
    ns_a = topic_namespace(a)
    ns_b = topic_namespace(b)
    if ns_b:
        assert not ns_b.startswith(ns_a)
        assert not ns_a.startswith(ns_b)


@given(a=ephemeral_stages, b=stages, suffix=suffixes)
def test_selection_never_holds_a_topic_of_another_stage(a: Stage, b: Stage, suffix: str) -> None:
    assume(a != b)
    others = set(names_for(b).all_topics)
    if b.is_ephemeral:
        others.add(topic_namespace(b) + suffix)  # anything in b's namespace, not only its specs
    selection = select_for_deletion(a, others | set(names_for(a).all_topics) | set(UNRELATED))
    assert not set(selection.selected) & others
    assert set(selection.selected) == set(names_for(a).all_topics)


@given(a=ephemeral_stages, topic=st.text(max_size=40))
def test_selection_never_holds_a_non_namespaced_or_internal_topic(a: Stage, topic: str) -> None:
    selected = select_for_deletion(a, {topic}).selected
    if selected:
        assert selected == (topic,)
        assert topic.startswith(topic_namespace(a))
        assert owner_of(topic) == a.name
        assert not topic.startswith("__")


def test_longest_stages_are_still_prefix_free() -> None:
    long_a = Stage("a" * MAX_STAGE_LENGTH)
    long_b = Stage("a" * (MAX_STAGE_LENGTH - 1))
    broker = _broker_with(long_a, long_b)
    assert set(select_for_deletion(long_b, broker).selected) == set(names_for(long_b).all_topics)
