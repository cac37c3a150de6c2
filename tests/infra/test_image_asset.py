"""CDK's image asset is the image `make image` builds: same Dockerfile, same .dockerignore, same context.

Synth stages the asset (the build context after the exclude list) into cdk.out; deploy runs
`docker build` there. Its files, digests and exec bits are compared with the context our build
sends, so both produce the same input fingerprint and so the same image.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.conftest import Synthesized
from wms_connector.image.build import context_inputs
from wms_connector.image.context import DOCKERFILE
from wms_connector.image.fingerprint import ContextFile, fingerprint
from wms_connector.local.paths import repo_root
from wms_connector.naming import names_for
from wms_connector.stages import Stage


def _staged(synthesized: Synthesized, stage: str) -> tuple[Path, dict[str, object]]:
    stack = names_for(Stage(stage)).connector_stack
    manifest = json.loads((synthesized.outdir / f"{stack}.assets.json").read_text())
    [image] = manifest["dockerImages"].values()
    return synthesized.outdir / image["source"]["directory"], image["source"]


def _files(root: Path) -> dict[str, ContextFile]:
    import hashlib
    import os

    return {
        path.relative_to(root).as_posix(): ContextFile(
            hashlib.sha256(path.read_bytes()).hexdigest(), os.access(path, os.X_OK)
        )
        for path in root.rglob("*")
        if path.is_file()
    }


def test_the_cdk_image_asset_builds_the_same_context_with_the_same_dockerfile(
    synthesized: Synthesized,
) -> None:
    directory, source = _staged(synthesized, "main")
    assert source["dockerFile"] == DOCKERFILE
    assert source.get("platform") == "linux/amd64"
    staged = _files(directory)
    ours = context_inputs(repo_root())
    # Identical files (Dockerfile and .dockerignore included), so the same image fingerprint.
    assert (directory / ".dockerignore").read_text() == (repo_root() / ".dockerignore").read_text()
    assert sorted(staged) == sorted(ours)
    assert staged == ours
    assert fingerprint(staged, {}) == fingerprint(ours, {})
