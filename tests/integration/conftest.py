"""Fixtures for tests against real processes (this file: the connector's; the runtime's live elsewhere)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def standin_state_dir() -> Iterator[Path]:
    """A state directory the stand-in PostgreSQL can use even when it runs as another user
    (pytest's own tmp dirs are mode 700 under root)."""
    path = Path(tempfile.mkdtemp(prefix="wms-standin-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
