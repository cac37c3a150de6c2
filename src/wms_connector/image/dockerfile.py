"""Reading a Dockerfile the way the builder does, for the parts we rely on (pure).

``instructions`` joins continuation lines and drops comments; ``arg_defaults`` gives the global
``ARG`` defaults (those before the first ``FROM``: they name the bases); ``resolve`` expands
``$NAME`` / ``${NAME}`` with given build arguments over those defaults, so a check of a ``FROM``
line sees the image that would really be used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

_VARIABLE: Final = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comment lines dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        word, _, rest = whole.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def arg_defaults(text: str) -> dict[str, str]:
    """The global ``ARG NAME=default`` values (before the first ``FROM``)."""
    defaults: dict[str, str] = {}
    for word, args in instructions(text):
        if word == "FROM":
            break
        if word == "ARG":
            name, sep, value = args.partition("=")
            if sep:
                defaults[name.strip()] = value.strip().strip('"')
    return defaults


def resolve(value: str, variables: Mapping[str, str]) -> str:
    """``value`` with ``$NAME`` and ``${NAME}`` replaced (unknown names become empty, as in Docker)."""
    return _VARIABLE.sub(lambda match: variables.get(match.group(1) or match.group(2), ""), value)


def base_images(text: str, build_args: Mapping[str, str] | None = None) -> list[str]:
    """The external images the ``FROM`` lines use (stage names excluded), ``ARG`` defaults resolved."""
    variables = {**arg_defaults(text), **(build_args or {})}
    stages: set[str] = set()
    images: list[str] = []
    for word, args in instructions(text):
        if word != "FROM":
            continue
        parts = [part for part in args.split() if not part.startswith("--")]
        image = resolve(parts[0], variables)
        if image not in stages and image not in images:
            images.append(image)
        if len(parts) == 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
    return images
