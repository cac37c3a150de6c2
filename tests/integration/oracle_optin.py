"""TEST ONLY: the opt-in Oracle suite's shared fixture and marker (``make test-oracle``)."""

from __future__ import annotations

from typing import Final

import pytest

from tests.integration.oracle_target import OracleTarget, target_or_skip_reason

_TARGET, _REASON = target_or_skip_reason()

#: Every opt-in Oracle test: marked ``oracle`` (``make test-oracle`` selects them) and skipped,
#: with the one line saying what is missing, when no Oracle is named.
needs_oracle: Final = [pytest.mark.oracle, pytest.mark.skipif(_TARGET is None, reason=_REASON)]


def oracle_target() -> OracleTarget:
    assert _TARGET is not None, _REASON
    return _TARGET
