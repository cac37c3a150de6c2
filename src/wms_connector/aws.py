"""AWS client wiring shared by every shell: the endpoint override and the region default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from wms_connector.errors import InputError

#: Set to send every AWS call to another endpoint (moto's server in tests, LocalStack on a laptop).
ENDPOINT_ENV = "WMS_AWS_ENDPOINT_URL"


def default_region(region: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """``region`` if given, else the environment's (``AWS_REGION``, then ``AWS_DEFAULT_REGION``)."""
    return region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")


def endpoint_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """``ENDPOINT_ENV`` when set, checked: an http(s) URL with a host (else ``InputError``)."""
    raw = environ.get(ENDPOINT_ENV) or None
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or 1 <= parts.port <= 65535
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise InputError(
            f"{ENDPOINT_ENV}={raw!r} is not an http:// or https:// URL with a host; "
            "e.g. http://127.0.0.1:5000 for moto, or unset it for AWS"
        )
    return raw


def client(service: str, region: str | None = None, environ: Mapping[str, str] = os.environ) -> Any:
    """A boto3 client for ``service`` in the default (or given) region, honouring ``ENDPOINT_ENV``."""
    import boto3

    endpoint = endpoint_url(environ)
    chosen = default_region(region, environ)
    if chosen is None:
        raise InputError(
            "no AWS region: set AWS_REGION (or pass --region where the command has it), "
            "or use --offline / --secrets-file to work without AWS"
        )

    # boto3-stubs types client() per literal service name; this helper takes any name.
    make: Any = boto3.client
    return make(
        service,
        region_name=chosen,
        endpoint_url=endpoint,
    )
