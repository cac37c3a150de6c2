"""The hold as a value and the view an agent takes of it (pure): every state, every bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms_connector.errors import InputError
from wms_connector.hold.record import (
    CLOCK_SKEW_S,
    DEFAULT_HOLD_S,
    MAX_HOLD_S,
    MAX_TEXT,
    Hold,
    HoldState,
    HoldView,
    view_of,
)

T0 = 1_800_000_000.0


def hold(ttl: float = DEFAULT_HOLD_S, at: float = T0) -> Hold:
    return Hold.new(
        "wms-connector-main-oracle", by="ops@laptop", reason="history recovery", now=at, ttl_s=ttl
    )


@pytest.mark.parametrize(
    ("now", "state", "hands_off"),
    [
        (T0, HoldState.HELD, True),
        (T0 + DEFAULT_HOLD_S - 0.001, HoldState.HELD, True),
        (T0 + DEFAULT_HOLD_S, HoldState.EXPIRED, False),
        (T0 + 10 * DEFAULT_HOLD_S, HoldState.EXPIRED, False),
        # the writer's clock runs a little ahead: held at once anyway
        (T0 - CLOCK_SKEW_S + 1, HoldState.HELD, True),
        # set far in the future: a clock is wrong somewhere; neither honoured nor ignored silently
        (T0 - CLOCK_SKEW_S - 1, HoldState.UNKNOWN, True),
    ],
)
def test_view_of_a_hold_over_time(now: float, state: HoldState, hands_off: bool) -> None:
    view = view_of(hold(), now)
    assert view.state is state
    assert view.hands_off is hands_off


def test_no_hold_and_unknown() -> None:
    assert view_of(None, T0) == HoldView(HoldState.NONE)
    assert not HoldView(HoldState.NONE).hands_off
    unknown = HoldView(HoldState.UNKNOWN, problem="cannot read the hold topic x: broker down")
    assert unknown.hands_off
    assert "watching only" in unknown.describe(T0)


def test_describe_says_who_why_and_how_long() -> None:
    text = view_of(hold(), T0 + 600).describe(T0 + 600)
    assert text == "held by ops@laptop for 'history recovery', 20 min left"
    assert view_of(hold(), T0 + DEFAULT_HOLD_S + 120).describe(T0 + DEFAULT_HOLD_S + 120) == (
        "hold by ops@laptop expired 2 min ago"
    )


@pytest.mark.parametrize("ttl", [0, -1, MAX_HOLD_S + 1, float("inf")])
def test_hold_length_is_bounded(ttl: float) -> None:
    with pytest.raises(InputError, match="a hold lasts"):
        hold(ttl)


def test_the_longest_hold_is_allowed_and_renewal_moves_it() -> None:
    longest = hold(MAX_HOLD_S)
    assert longest.until - longest.set_at == MAX_HOLD_S
    renewed = longest.renewed(T0 + 3600, DEFAULT_HOLD_S)
    assert (renewed.set_at, renewed.until, renewed.by) == (T0 + 3600, T0 + 3600 + DEFAULT_HOLD_S, longest.by)


def test_free_text_is_one_line_and_bounded() -> None:
    spaced = Hold.new("c", by="a\nb", reason="  two\tlines\n ", now=T0)
    assert (spaced.by, spaced.reason) == ("a b", "two lines")
    with pytest.raises(InputError, match=f"keep it under {MAX_TEXT}"):
        Hold.new("c", by="x", reason="r" * (MAX_TEXT + 1), now=T0)
    assert Hold.new("c", by="", reason="", now=T0).reason == "(no reason given)"


@given(
    ttl=st.floats(min_value=1, max_value=MAX_HOLD_S),
    at=st.floats(min_value=0, max_value=4e9),
    reason=st.text(max_size=MAX_TEXT),
    procedure=st.none() | st.text(min_size=1, max_size=40),
)
def test_encode_decode_round_trip(ttl: float, at: float, reason: str, procedure: str | None) -> None:
    original = Hold.new("c", by="ops", reason=reason, now=at, ttl_s=ttl, procedure=procedure)
    assert Hold.decode(original.encode()) == original


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"{}",
        b'{"connector": "c"}',
        b"\xff\xfe",
        b'{"connector": "c", "by": "b", "reason": "r", "set_at": 10, "until": 5}',
    ],
)
def test_garbage_is_not_a_hold(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a hold record"):
        Hold.decode(raw)
