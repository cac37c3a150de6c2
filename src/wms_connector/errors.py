"""The one family of expected errors.

A ``WmsError`` is something a person can fix from its message alone: it names the value that was
wrong and what to do. The CLI turns it into a one-line message and an exit code; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations


class WmsError(Exception):
    """An expected failure with a message fit for a person. Exit code 1."""

    exit_code = 1


class InputError(WmsError):
    """Bad input (a stage, a branch, a flag, a secret's shape). Exit code 2, nothing was changed."""

    exit_code = 2
