"""Fixtures of the connector's tests against real processes.

The local cluster (broker + Connect workers) is the runtime's session fixture ``local_cluster``.
The stand-in's password reaches the workers through their environment, as the Oracle password
does in ECS: it is set here, before any worker starts, and never appears in a connector config.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wms_connector.connector_config import STANDIN_PASSWORD_ENV


def pytest_configure(config: pytest.Config) -> None:
    # Runs when this conftest is registered, i.e. before the session's workers are started.
    os.environ.setdefault(STANDIN_PASSWORD_ENV, "standin-" + secrets.token_urlsafe(16))


def _state_dir() -> Path:
    # pytest's tmp dirs are mode 700 under root, and the stand-in's server runs as another user then.
    path = Path(tempfile.mkdtemp(prefix="wms-standin-"))
    path.chmod(0o755)
    return path


@pytest.fixture
def standin_state_dir() -> Iterator[Path]:
    path = _state_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def module_standin_state_dir() -> Iterator[Path]:
    path = _state_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)
