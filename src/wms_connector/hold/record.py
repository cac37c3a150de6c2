"""A hold as a value, and what an agent makes of the hold topic at a given moment (pure).

Why a topic and not a marker in the connector's config: writing the config restarts the connector
(and, for Oracle, re-mines every open transaction from its start), so a hold placed that way would
itself disturb the pipeline it is meant to protect. The hold topic is read by every agent of the
stage each cycle, survives agent and task restarts, and is written without touching Connect.

A hold always ends: it carries its own expiry (``until``), judged by the reader's clock, so a hold
whose owner died (an operator's laptop closed mid-procedure) lapses by itself. ``MAX_HOLD_S``
bounds how long one write can hold a stage; a procedure that runs longer renews it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from wms_connector.errors import InputError

DEFAULT_HOLD_S: Final = 30 * 60
MAX_HOLD_S: Final = 6 * 3600
#: Longest free text of ``by``/``reason``/``procedure`` kept in the record (the topic is read by
#: every agent each cycle; a hold is a note, not a document).
MAX_TEXT: Final = 200


class HoldState(StrEnum):
    NONE = "none"  # no hold, or released
    HELD = "held"  # a hold whose expiry is still ahead
    EXPIRED = "expired"  # a hold whose expiry passed: the agent acts again
    UNKNOWN = "unknown"  # the hold topic could not be read: the agent only watches


def _text(value: str, what: str) -> str:
    cleaned = " ".join(value.split())
    if len(cleaned) > MAX_TEXT:
        raise InputError(f"the hold's {what} is {len(cleaned)} characters; keep it under {MAX_TEXT}")
    return cleaned


@dataclass(frozen=True)
class Hold:
    """``connector`` held by ``by`` for ``reason`` from ``set_at`` until ``until`` (epoch seconds)."""

    connector: str
    by: str
    reason: str
    set_at: float
    until: float
    procedure: str | None = None

    def __post_init__(self) -> None:
        if not self.connector:
            raise InputError("a hold needs the connector's name")
        for value, what in ((self.set_at, "set_at"), (self.until, "until")):
            if not math.isfinite(value):
                raise InputError(f"the hold's {what} must be a finite time, got {value!r}")
        if self.until <= self.set_at:
            raise InputError(f"a hold must end after it starts (set_at {self.set_at}, until {self.until})")
        if self.until - self.set_at > MAX_HOLD_S:
            raise InputError(
                f"a hold lasts at most {MAX_HOLD_S // 3600} h per write "
                f"(asked {(self.until - self.set_at) / 3600:.1f} h); renew it instead"
            )

    @classmethod
    def new(
        cls,
        connector: str,
        *,
        by: str,
        reason: str,
        now: float,
        ttl_s: float = DEFAULT_HOLD_S,
        procedure: str | None = None,
    ) -> Hold:
        if not 0 < ttl_s <= MAX_HOLD_S:
            raise InputError(
                f"a hold lasts between 1 s and {MAX_HOLD_S // 3600} h, got {ttl_s:g} s; "
                "pass a shorter --for and renew it if the work takes longer"
            )
        return cls(
            connector=connector,
            by=_text(by, "author") or "unknown",
            reason=_text(reason, "reason") or "(no reason given)",
            set_at=now,
            until=now + ttl_s,
            procedure=_text(procedure, "procedure") if procedure else None,
        )

    def active(self, now: float) -> bool:
        return self.set_at - CLOCK_SKEW_S <= now < self.until

    def remaining_s(self, now: float) -> float:
        return max(0.0, self.until - now)

    def renewed(self, now: float, ttl_s: float) -> Hold:
        return Hold(self.connector, self.by, self.reason, now, now + ttl_s, self.procedure)

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "by": self.by,
            "reason": self.reason,
            "procedure": self.procedure,
            "set_at": self.set_at,
            "until": self.until,
        }

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> Hold:
        """A hold from its record value; ``ValueError`` for anything that is not one."""
        try:
            data = json.loads(raw.decode("utf-8"))
            return cls(
                connector=str(data["connector"]),
                by=str(data["by"]),
                reason=str(data["reason"]),
                set_at=float(data["set_at"]),
                until=float(data["until"]),
                procedure=None if data.get("procedure") is None else str(data["procedure"]),
            )
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, InputError) as error:
            raise ValueError(f"not a hold record ({type(error).__name__})") from None


#: A hold written by a machine whose clock runs ahead still holds at once on the others.
CLOCK_SKEW_S: Final = 60.0


@dataclass(frozen=True)
class HoldView:
    """What a reader knows about a connector's hold at ``now``."""

    state: HoldState
    hold: Hold | None = None
    problem: str | None = None

    @property
    def hands_off(self) -> bool:
        """The agent neither reconciles nor restarts: held, or unknown (an unreadable hold topic
        must not let the agent undo an operator's procedure)."""
        return self.state in (HoldState.HELD, HoldState.UNKNOWN)

    def describe(self, now: float) -> str:
        if self.state is HoldState.HELD and self.hold is not None:
            return (
                f"held by {self.hold.by} for {self.hold.reason!r}, "
                f"{self.hold.remaining_s(now) / 60:.0f} min left"
            )
        if self.state is HoldState.EXPIRED and self.hold is not None:
            return f"hold by {self.hold.by} expired {max(0.0, now - self.hold.until) / 60:.0f} min ago"
        if self.state is HoldState.UNKNOWN:
            return f"hold unknown ({self.problem or 'hold topic unreadable'}): watching only"
        return "no hold"

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "hold": None if self.hold is None else self.hold.to_json(),
            "remaining_s": None if self.hold is None else round(self.hold.remaining_s(now), 1),
            "problem": self.problem,
        }


def view_of(latest: Hold | None, now: float) -> HoldView:
    """The view of a connector whose latest hold record is ``latest`` (``None``: none or released)."""
    if latest is None:
        return HoldView(HoldState.NONE)
    if latest.active(now):
        return HoldView(HoldState.HELD, latest)
    if now >= latest.until:
        return HoldView(HoldState.EXPIRED, latest)
    # Set in the future beyond the skew allowance: a wrong clock somewhere; not a hold to honour
    # silently, nor one to ignore silently.
    return HoldView(HoldState.UNKNOWN, latest, "a hold set in the future (clock skew?)")
