"""Fixtures for the topic tests against the real local broker."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from wms_connector.stages import KafkaAuth
from wms_connector.topic_admin import TopicAdmin


@pytest.fixture(scope="session")
def topics_bootstrap() -> str:
    """Bootstrap of the real local broker (PROVISIONAL: replaced by the runtime fixture)."""
    bootstrap = os.environ.get("WMS_TEST_KAFKA_BOOTSTRAP")
    if not bootstrap:
        pytest.skip("no local broker (WMS_TEST_KAFKA_BOOTSTRAP unset)")
    return bootstrap


@pytest.fixture
def admin(topics_bootstrap: str) -> Iterator[TopicAdmin]:
    yield TopicAdmin.connect(topics_bootstrap, KafkaAuth.PLAINTEXT)
