"""The suite-wide guard against reaching real AWS (tests/conftest.py)."""

from __future__ import annotations

import pytest


def test_a_client_without_an_explicit_endpoint_cannot_reach_aws() -> None:
    import boto3
    from botocore.exceptions import EndpointConnectionError

    client = boto3.client("secretsmanager", region_name="us-east-1")
    with pytest.raises(EndpointConnectionError, match=r"127\.0\.0\.1:9"):
        client.get_secret_value(SecretId="wms/main/dbInfo")
