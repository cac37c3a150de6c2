"""Property tests of branch -> stage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wms_connector.errors import InputError
from wms_connector.stages import MAX_STAGE_LENGTH, NAMED_STAGES, stage_for_branch

branches = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=300
) | st.from_regex(r"\A[A-Za-z0-9/_.-]{1,80}\Z", fullmatch=True)


@given(branches)
def test_stage_for_branch_is_idempotent(branch: str) -> None:
    try:
        stage = stage_for_branch(branch)
    except InputError:
        return
    assert len(stage.name) <= MAX_STAGE_LENGTH
    assert stage_for_branch(stage.name) == stage


@given(branches)
def test_stage_for_branch_never_yields_another_named_stage(branch: str) -> None:
    try:
        stage = stage_for_branch(branch)
    except InputError:
        return
    if stage.name in NAMED_STAGES:
        assert branch == stage.name
