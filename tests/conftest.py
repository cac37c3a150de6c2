"""Suite-wide guards and fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Property tests check correctness, not speed: on a loaded 2-core CI machine a per-example deadline
# only produces flaky failures. Speed is measured in bench/.
settings.register_profile("wms", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("wms")


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test about to reach real AWS: fake credentials, no profile or config file, and every
    boto3 client that is not given an endpoint (moto's) points at a closed loopback port."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-not-real")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-not-real")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing-not-real")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("CDK_DISABLE_VERSION_CHECK", "true")
    monkeypatch.setenv("CDK_CLI_TELEMETRY_DISABLED", "true")
    yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's real HTTP server on loopback, shared by the whole session (every AWS API: Secrets
    Manager, SNS, SQS, ...; tests name what they create uniquely)."""
    from moto.server import ThreadedMotoServer

    from wms_connector.local.procs import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
