"""SIGINT, SIGTERM and SIGHUP end a command the same way: as an interruption that cleans up.

Python turns only SIGINT (Ctrl-C) into ``KeyboardInterrupt``; SIGTERM (``timeout``, a cancelled CI
job, ``kill``) and SIGHUP (a closed terminal) would end the process at once, skipping every
``finally`` that stops what the command started (the stand-in PostgreSQL, the local cluster, the
CDK's jsii ``node`` process). :func:`handling` makes all three raise :class:`Interrupted` (a
``KeyboardInterrupt``) once; a further signal while the command cleans up is reported and
ignored, so the clean-up itself is never cut short (each of its steps is bounded). A command
that starts its clean-up without a signal enters :func:`shielded` first, for the same reason.
:func:`wake_main` interrupts the main thread from a helper thread (the local runtime's watch of
the processes it started) the same way, without a message.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Final

#: The signals that mean "stop now, but clean up".
HANDLED: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _State:
    """What the handler of the current :func:`handling` block knows (main thread only)."""

    def __init__(self) -> None:
        self.fired: list[str] = []
        self.shielded = False
        self.quiet_next = False

    @property
    def signal_name(self) -> str | None:
        """The signal that interrupted the block (``SIGINT`` also for Ctrl-C), or ``None``."""
        return self.fired[0] if self.fired else None


#: What :func:`handling` yields: ``.signal_name`` tells which signal interrupted the block.
Caught = _State

#: The innermost :func:`handling` block's state is last (a stack: blocks may nest in tests).
_states: list[_State] = [_State()]


class Interrupted(KeyboardInterrupt):
    """A command was interrupted by ``signal_name``; it cleans up and exits 130."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextlib.contextmanager
def handling() -> Iterator[Caught]:
    """Within the block, the first of :data:`HANDLED` raises :class:`Interrupted`; later ones are
    reported on stderr and ignored (the clean-up they would cut short is under way). Outside the
    main thread (where Python cannot set handlers) this does nothing."""
    state = _State()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    _states.append(state)

    def handler(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        quiet, state.quiet_next = state.quiet_next, False
        if state.fired or state.shielded:
            if not quiet:
                with contextlib.suppress(OSError, ValueError):  # SIGHUP: the terminal may be gone
                    sys.stderr.write(f"{name}: still stopping what this command started; it ends by itself\n")
            return
        state.fired.append(name)
        raise Interrupted(name)

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    try:
        yield state
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _states.remove(state)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A clean-up: signals arriving within it are reported and ignored (see :func:`handling`)."""
    state = _states[-1]
    before, state.shielded = state.shielded, True
    try:
        yield
    finally:
        state.shielded = before


def wake_main() -> None:
    """Interrupt the main thread as Ctrl-C would (quietly ignored while it cleans up)."""
    _states[-1].quiet_next = True
    _thread.interrupt_main()
