"""AWS client wiring shared by every shell: the endpoint override and the region default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

#: Set to send every AWS call to another endpoint (moto's server in tests, LocalStack on a laptop).
ENDPOINT_ENV = "WMS_AWS_ENDPOINT_URL"


def default_region(region: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """``region`` if given, else the environment's (``AWS_REGION``, then ``AWS_DEFAULT_REGION``)."""
    return region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")


def client(service: str, region: str | None = None, environ: Mapping[str, str] = os.environ) -> Any:
    """A boto3 client for ``service`` in the default (or given) region, honouring ``ENDPOINT_ENV``."""
    import boto3

    # boto3-stubs types client() per literal service name; this helper takes any name.
    make: Any = boto3.client
    return make(
        service,
        region_name=default_region(region, environ),
        endpoint_url=environ.get(ENDPOINT_ENV) or None,
    )
