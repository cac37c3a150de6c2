"""Which worker is "ours": the ``worker_id`` (advertised ``host:port``) of the worker in this task.

In ECS the worker advertises the task's IP (``runtime/entrypoint.sh`` reads it from the container
metadata endpoint); the agent reads the same document, so both agree. Outside ECS the caller says
``--worker-id`` (the local runtime's workers advertise ``127.0.0.1:<port>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from wms_connector.errors import WmsError

METADATA_ENV = "ECS_CONTAINER_METADATA_URI_V4"


def task_ip(metadata: Mapping[str, Any]) -> str:
    try:
        return str(metadata["Networks"][0]["IPv4Addresses"][0])
    except (KeyError, IndexError, TypeError):
        raise WmsError("no Networks[0].IPv4Addresses[0] in the ECS task metadata") from None


def own_worker_id(env: Mapping[str, str], rest_port: int, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    metadata = container_metadata(env)
    if metadata is None:
        raise WmsError(
            f"cannot tell which worker is this agent's: {METADATA_ENV} is not set (not in ECS?); "
            "pass --worker-id HOST:PORT as the worker advertises it"
        )
    return f"{task_ip(metadata)}:{rest_port}"


#: The task definition revision, as ECS labels every container of a task.
REVISION_LABEL = "com.amazonaws.ecs.task-definition-version"


def generation_inputs(metadata: Mapping[str, Any]) -> tuple[float, int]:
    """``(task started, task definition revision)`` of the task whose container ``metadata`` is.

    ``CreatedAt`` of the container is used, not ``StartedAt``: ECS restarts a crashed agent
    container in place (container restart policy), which changes ``StartedAt`` but not
    ``CreatedAt``, so a restarted agent of an old task stays old.
    """
    from datetime import datetime

    try:
        created = str(metadata["CreatedAt"])
        revision = int(str(metadata["Labels"][REVISION_LABEL]))
    except (KeyError, TypeError, ValueError):
        raise WmsError(f"the ECS container metadata lacks CreatedAt or the {REVISION_LABEL} label") from None
    # Go's RFC 3339 with nanoseconds: keep microseconds, which fromisoformat reads.
    head, _, rest = created.rstrip("Z").partition(".")
    fraction = "".join(c for c in rest if c.isdigit())[:6]
    try:
        when = datetime.fromisoformat(f"{head}.{fraction or '0'}+00:00")
    except ValueError:
        raise WmsError(f"the ECS container metadata's CreatedAt {created!r} is not a time") from None
    return when.timestamp(), revision


def container_metadata(env: Mapping[str, str]) -> Mapping[str, Any] | None:
    """This container's ECS metadata document, ``None`` outside ECS."""
    uri = env.get(METADATA_ENV)
    if not uri:
        return None
    try:
        response = httpx.get(uri, timeout=5)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise WmsError(f"the ECS task metadata endpoint did not answer ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise WmsError("the ECS task metadata endpoint answered something other than a JSON object")
    return document
