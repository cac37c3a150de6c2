"""Start-up steps that may fail for a while (the ECS metadata endpoint, a worker not up yet),
retried inside the agent with back-off and reported, instead of exiting.

ECS restarts an exited agent container only if it ran at least ``restart_attempt_period``
(60 s, the minimum ECS accepts; ``infra/agent_sidecar.py``): an agent that exits at start-up is
never restarted, and its task runs on without one. So only a misconfiguration exits (a missing
environment key: it will not fix itself, one line says which); a transient failure is a
:class:`TransientStartupError`, logged with its attempt and the wait, and tried again until it
works or the agent is told to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from wms_connector.errors import WmsError

T = TypeVar("T")

#: Seconds before attempt n+1 (the last value repeats).
STARTUP_BACKOFF_S: Final = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class TransientStartupError(WmsError):
    """A start-up dependency did not answer yet; worth another try."""


class StartupStoppedError(Exception):
    """The agent was told to stop (SIGTERM) while it waited for a start-up step."""


def startup_delay_s(attempt: int) -> float:
    """Wait after failed attempt ``attempt`` (1-based)."""
    return STARTUP_BACKOFF_S[min(attempt, len(STARTUP_BACKOFF_S)) - 1]


def retry_startup(
    step: Callable[[], T],
    *,
    what: str,
    log: Callable[[Mapping[str, Any]], None],
    stop: threading.Event,
) -> T:
    """``step()`` until it returns; each :class:`TransientStartupError` is reported and waited out."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return step()
        except TransientStartupError as error:
            wait = startup_delay_s(attempt)
            log(
                {
                    "level": "warning",
                    "event": "startup-retry",
                    "step": what,
                    "attempt": attempt,
                    "retry_in_s": wait,
                    "message": str(error),
                }
            )
            if stop.wait(wait):
                raise StartupStoppedError(what) from None
