"""Which worker is "ours": the ``worker_id`` (advertised ``host:port``) of the worker in this task.

In ECS the worker advertises the task's IP (``runtime/entrypoint.sh`` reads it from the container
metadata endpoint); the agent reads the same document, so both agree. Outside ECS the caller says
``--worker-id`` (the local runtime's workers advertise ``127.0.0.1:<port>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from wms_connector.agent.startup import TransientStartupError
from wms_connector.errors import InputError

METADATA_ENV = "ECS_CONTAINER_METADATA_URI_V4"


def task_ip(metadata: Mapping[str, Any]) -> str:
    """The task's IP; transient when absent (the document can precede the ENI's address)."""
    try:
        return str(metadata["Networks"][0]["IPv4Addresses"][0])
    except (KeyError, IndexError, TypeError):
        raise TransientStartupError("no Networks[0].IPv4Addresses[0] in the ECS task metadata yet") from None


def own_worker_id(env: Mapping[str, str], rest_port: int, explicit: str | None = None) -> str:
    """``host:port`` of this task's worker. A missing ``ECS_CONTAINER_METADATA_URI_V4`` (and no
    ``explicit``) is an :class:`InputError`; an endpoint that does not answer is transient."""
    if explicit:
        return explicit
    uri = env.get(METADATA_ENV)
    if not uri:
        raise InputError(
            f"cannot tell which worker is this agent's: {METADATA_ENV} is not set (not in ECS?); "
            "pass --worker-id HOST:PORT as the worker advertises it"
        )
    try:
        response = httpx.get(uri, timeout=5)
        response.raise_for_status()
        metadata = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise TransientStartupError(
            f"the ECS task metadata endpoint did not answer ({type(error).__name__})"
        ) from None
    return f"{task_ip(metadata)}:{rest_port}"
