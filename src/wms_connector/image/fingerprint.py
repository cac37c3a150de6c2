"""The image's input fingerprint (pure): what tags an image and decides whether to rebuild it.

It hashes every file of the build context (path, executable bit, content digest; the Dockerfile
and ``.dockerignore`` are context files) and the build arguments, with the bases given by their
image ids rather than their names, so a rebuilt base gives a new fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

#: Bump when the meaning of the fingerprint changes (what goes into it).
SCHEME: Final = "wms-image-1"
#: The repository our images are tagged in, locally: ``wms-connect:<fingerprint[:16]>``.
IMAGE_REPOSITORY: Final = "wms-connect"


@dataclass(frozen=True)
class ContextFile:
    """One file of the build context as the fingerprint sees it."""

    sha256: str
    executable: bool


def fingerprint(files: Mapping[str, ContextFile], build_args: Mapping[str, str]) -> str:
    """The hex sha256 of a build's inputs: order-independent, one changed byte changes it."""
    digest = hashlib.sha256(SCHEME.encode() + b"\0")
    for path in sorted(files):
        entry = files[path]
        digest.update(f"file\0{path}\0{int(entry.executable)}\0{entry.sha256}\0".encode())
    for name in sorted(build_args):
        digest.update(f"arg\0{name}\0{build_args[name]}\0".encode())
    return digest.hexdigest()


def image_tag(print_: str) -> str:
    """The local tag of the image built from inputs with this fingerprint."""
    return f"{IMAGE_REPOSITORY}:{print_[:16]}"
