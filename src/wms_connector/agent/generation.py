"""Which agent may write the connector's config when two task generations are alive (pure).

During an ECS rolling deploy the old tasks keep running until the new ones are healthy (30-90 s
at 100 % minimum healthy), and each task's agent reconciles the same connector. Without an order
between them, the old agents would PUT the old config and the new ones the new config every
cycle, and every PUT restarts the connector.

Every desired config therefore carries its generation in one key, ``wms.generation``:
``<started>:<revision>:<digest>``

* ``started``: when the writer's task was created (ECS container metadata ``CreatedAt``; stable
  across restarts of the agent container, so a restarted old agent stays old);
* ``revision``: the task definition revision (for people reading the live config);
* ``digest``: 12 hex of SHA-256 over the rest of the config.

Generations are ordered by ``started``, then revision, then digest. The order follows task
creation rather than revision so that an ECS rollback, whose tasks run the *older* revision but
are *newer* tasks, also wins. The rule (:func:`verdict`):

=============================================  ===========================================
live config (compared without ``wms.generation``)  the agent
=============================================  ===========================================
equal to ours                                   LEAVE: nothing to write (even when the stamp
                                                is another generation's: same config)
differs, no readable generation                 WRITE (an edit by hand, or never stamped)
differs, written by a newer generation          DEFER: never write; the newer task owns it
differs, written by ours or an older one        WRITE (once: afterwards it is equal)
=============================================  ===========================================
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from wms_connector.errors import InputError

GENERATION_KEY: Final = "wms.generation"
DIGEST_LENGTH: Final = 12


class Verdict(StrEnum):
    LEAVE = "leave"
    WRITE = "write"
    DEFER = "defer"


@dataclass(frozen=True, order=True)
class Generation:
    started: float
    revision: int
    digest: str

    def render(self) -> str:
        return f"{self.started:.3f}:{self.revision}:{self.digest}"

    @classmethod
    def parse(cls, text: str | None) -> Generation | None:
        """The generation of a live config's stamp; ``None`` when absent or not ours."""
        if not text:
            return None
        parts = text.split(":")
        if len(parts) != 3:
            return None
        started_text, revision_text, digest = parts
        try:
            started, revision = float(started_text), int(revision_text)
        except ValueError:
            return None
        if not math.isfinite(started) or revision < 0 or len(digest) != DIGEST_LENGTH:
            return None
        if any(c not in "0123456789abcdef" for c in digest):
            return None
        return cls(started, revision, digest)


def config_digest(config: Mapping[str, str]) -> str:
    """12 hex of SHA-256 over the config without its generation stamp (canonical JSON)."""
    body = {k: str(v) for k, v in config.items() if k != GENERATION_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def stamp(config: Mapping[str, str], *, started: float, revision: int) -> tuple[dict[str, str], Generation]:
    """``config`` with its generation stamp, and that generation."""
    if not math.isfinite(started) or started < 0:
        raise InputError(f"a generation's task start must be a time in seconds, got {started!r}")
    if revision < 0:
        raise InputError(f"a task definition revision is 0 or more, got {revision}")
    generation = Generation(started, revision, config_digest(config))
    stamped = {k: str(v) for k, v in config.items() if k != GENERATION_KEY}
    stamped[GENERATION_KEY] = generation.render()
    return stamped, generation


def verdict(own: Generation, desired: Mapping[str, str], live: Mapping[str, str]) -> Verdict:
    """What the agent of generation ``own`` does with the ``live`` config (see the table above)."""
    if all(desired.get(k) == live.get(k) for k in (set(desired) | set(live)) - {GENERATION_KEY}):
        return Verdict.LEAVE
    writer = Generation.parse(live.get(GENERATION_KEY))
    if writer is not None and writer > own:
        return Verdict.DEFER
    return Verdict.WRITE
