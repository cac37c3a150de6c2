from __future__ import annotations

import pytest

from wms_connector.errors import InputError
from wms_connector.stages import (
    MAX_STAGE_LENGTH,
    Stage,
    StageError,
    StageKind,
    StageSettings,
    check_settings,
    settings_for,
    stage_for_branch,
)


@pytest.mark.parametrize("name", ["main", "val", "production"])
def test_named_stages_are_named(name: str) -> None:
    assert Stage(name).kind is StageKind.NAMED
    assert not Stage(name).is_ephemeral


@pytest.mark.parametrize("name", ["a", "feature-x", "x1", "a" * MAX_STAGE_LENGTH, "main2", "prod"])
def test_other_valid_stages_are_ephemeral(name: str) -> None:
    assert Stage(name).is_ephemeral


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "must not be empty"),
        ("Main", "must be lowercase"),
        ("feature.x", "found '.'"),
        ("feature_x", "found '_'"),
        ("feature/x", "found '/'"),
        ("feature x", "found ' '"),
        ("-feature", "must start with a letter"),
        ("1feature", "must start with a letter"),
        ("feature-", "must not end with '-'"),
        ("feature--x", "must not contain '--'"),
        ("a" * (MAX_STAGE_LENGTH + 1), f"at most {MAX_STAGE_LENGTH} characters"),
        ("fé", "ASCII"),
    ],
)
def test_invalid_stage_names_the_rule_and_value(name: str, rule: str) -> None:
    with pytest.raises(StageError) as caught:
        Stage(name)
    message = str(caught.value)
    assert rule in message
    assert repr(name) in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("main", "main"),
        ("val", "val"),
        ("production", "production"),
        ("feature-x", "feature-x"),
    ],
)
def test_branch_that_is_a_stage_maps_to_itself(branch: str, expected: str) -> None:
    assert stage_for_branch(branch).name == expected


@pytest.mark.parametrize("branch", ["Main", "PRODUCTION", "val/", "VAL", "main/", "Production"])
def test_branch_never_maps_onto_a_named_stage_it_is_not(branch: str) -> None:
    stage = stage_for_branch(branch)
    assert stage.is_ephemeral
    assert stage.name.split("-")[0] in {"main", "val", "production"}


def test_feature_branch_is_slugged_with_a_stable_hash() -> None:
    stage = stage_for_branch("feature/ABC_12")
    assert stage.name.startswith("feature-abc-12-")
    assert len(stage.name) == len("feature-abc-12-") + 6
    assert stage_for_branch("feature/ABC_12") == stage
    assert stage_for_branch("feature/abc-12") != stage


def test_long_branch_is_cut_to_the_bound_with_a_hash() -> None:
    branch = "feature/" + "x" * 292
    stage = stage_for_branch(branch)
    assert len(stage.name) <= MAX_STAGE_LENGTH
    assert stage_for_branch(branch + "y") != stage


@pytest.mark.parametrize("branch", ["///", "---", "123", "__", "", "ü"])
def test_branch_without_letters_fails_clearly(branch: str) -> None:
    with pytest.raises(StageError, match="no ASCII letter"):
        stage_for_branch(branch)


def test_sizing_figures() -> None:
    main = settings_for(Stage("main"))
    assert (main.task_cpu, main.task_memory_mib, main.worker_count) == (1024, 3072, 1)
    val = settings_for(Stage("val"))
    assert (val.task_cpu, val.task_memory_mib) == (1024, 3072)
    prod = settings_for(Stage("production"))
    assert (prod.task_cpu, prod.task_memory_mib) == (2048, 6144)
    assert prod.worker_count >= 2
    eph = settings_for(Stage("feature-x"))
    assert (eph.task_cpu, eph.task_memory_mib, eph.worker_count) == (1024, 3072, 1)
    assert eph.retain_on_destroy is False
    assert main.retain_on_destroy is True


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_heap_fits_in_the_connect_container(stage: str) -> None:
    s = settings_for(Stage(stage))
    assert s.connect_memory_mib + s.agent_memory_mib == s.task_memory_mib
    assert 0.5 * s.connect_memory_mib <= s.heap_mib <= 0.7 * s.connect_memory_mib
    assert s.heap_mib % 64 == 0


def test_production_with_one_worker_is_refused() -> None:
    one = settings_for(Stage("production")).model_copy(update={"worker_count": 1})
    with pytest.raises(InputError, match="at least 2 workers"):
        check_settings(Stage("production"), one)


def test_settings_refuse_impossible_fargate_shapes() -> None:
    base = settings_for(Stage("main")).model_dump()
    with pytest.raises(ValueError, match="not valid with task_cpu"):
        StageSettings(**{**base, "task_memory_mib": 1024})
    with pytest.raises(ValueError, match="not a Fargate size"):
        StageSettings(**{**base, "task_cpu": 1000})
    with pytest.raises(ValueError, match="CloudWatch"):
        StageSettings(**{**base, "log_retention_days": 8})
