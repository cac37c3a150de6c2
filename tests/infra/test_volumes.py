"""Every volume a container of ours writes is declared a VOLUME by the image.

Fargate mounts a task volume (a bind mount) at a container path as root:0755, unless the image
declares that path a VOLUME: then it copies the image's directory (owner uid 10001, 0700) into the
mount. Our containers run as uid 10001, so a writable mount at an undeclared path cannot be
written (the secrets container would fail to write the Oracle password's file on the first
deploy). The image test shows the copy for the agent's state directory; this ties every writable
mount of every synthesized task definition to the Dockerfile."""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.conftest import Synthesized
from wms_connector.image.dockerfile import instructions

DOCKERFILE = Path(__file__).resolve().parents[2] / "runtime" / "Dockerfile"


def declared_volumes() -> set[str]:
    found: set[str] = set()
    for word, args in instructions(DOCKERFILE.read_text()):
        if word == "VOLUME":
            found.update(json.loads(args))
    return found


def test_every_writable_mount_of_every_task_is_an_image_volume(synthesized: Synthesized) -> None:
    volumes = declared_volumes()
    writable: set[str] = set()
    for name in synthesized.templates:
        for resource in synthesized.template(name)["Resources"].values():
            if resource["Type"] != "AWS::ECS::TaskDefinition":
                continue
            for container in resource["Properties"]["ContainerDefinitions"]:
                for mount in container.get("MountPoints", []):
                    if not mount.get("ReadOnly", False):
                        writable.add(mount["ContainerPath"])
    assert writable, "the Connect task writes the secrets and the agent's record to volumes"
    assert {"/opt/connect/secrets", "/var/lib/wms-agent"} <= writable
    assert writable - volumes == set()
