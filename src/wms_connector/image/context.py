"""What the image's build context holds: the one list, rendered as ``.dockerignore`` (pure).

``IMAGE_CONTEXT_FILES`` is read by three consumers, so they cannot drift: the checked-in
``.dockerignore`` (generated from it; a test compares), CDK's ``DockerImageAsset`` (its exclude
list, with Docker's ignore mode), and the image fingerprint (``context_files``).

Matching follows Docker's ``.dockerignore`` rules: patterns are matched against the slash
separated path relative to the context root, a pattern that matches a directory matches
everything below it, ``*`` and ``?`` stay within one path segment, ``**`` spans any number of
segments, and the last matching pattern wins (``!`` re-includes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

#: The Dockerfile, relative to the context root (the repository root).
DOCKERFILE: Final = "runtime/Dockerfile"
#: The context is the repository root; only what runtime/Dockerfile COPYs goes in (the
#: fingerprint, and so the image tag, changes only when one of these does).
IMAGE_CONTEXT_FILES: Final = (
    "*",
    "!pyproject.toml",
    "!constraints.txt",
    "!README.md",
    "!src",
    "!runtime",
    "runtime/target",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.egg-info",
)
_HEADER: Final = (
    "# Generated from wms_connector.image.context.IMAGE_CONTEXT_FILES by\n"
    "# `wms-connector image dockerignore`: edit that list, not this file (a test compares them).\n"
    "# Everything is excluded, then only what runtime/Dockerfile COPYs is let back in.\n"
)


def render_dockerignore(patterns: Sequence[str] = IMAGE_CONTEXT_FILES) -> str:
    """The ``.dockerignore`` text of a pattern list."""
    return _HEADER + "".join(f"{pattern}\n" for pattern in patterns)


def parse_dockerignore(text: str) -> tuple[str, ...]:
    """The patterns of a ``.dockerignore`` text (comments and blank lines dropped, as Docker does)."""
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    exclude: bool
    literal_prefix: str


def _clean(pattern: str) -> str:
    parts = [part for part in pattern.strip("/").split("/") if part not in {"", "."}]
    return "/".join(parts)


def _translate(pattern: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                index += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                out.append("[^" + body[1:] + "]" if body.startswith("^") else "[" + body + "]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


@cache
def _rules(patterns: tuple[str, ...]) -> tuple[_Rule, ...]:
    rules = []
    for raw in patterns:
        exclude = not raw.startswith("!")
        body = _clean(raw if exclude else raw[1:])
        prefix = re.split(r"[*?\[\\]", body, maxsplit=1)[0]
        rules.append(_Rule(re.compile(_translate(body)), exclude, prefix))
    return tuple(rules)


def _parents_and_self(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def is_excluded(path: str, patterns: Sequence[str] = IMAGE_CONTEXT_FILES) -> bool:
    """Whether Docker leaves ``path`` (relative, slash separated) out of the build context."""
    candidates = _parents_and_self(_clean(path))
    excluded = False
    for rule in _rules(tuple(patterns)):
        if any(rule.regex.fullmatch(candidate) for candidate in candidates):
            excluded = rule.exclude
    return excluded


def may_hold_included(directory: str, patterns: Sequence[str] = IMAGE_CONTEXT_FILES) -> bool:
    """Whether a directory must be walked: it is included, or a ``!`` pattern may reach below it."""
    if not is_excluded(directory, patterns):
        return True
    cleaned = _clean(directory)
    return any(
        not rule.exclude and (rule.literal_prefix == "" or rule.literal_prefix.startswith(cleaned + "/"))
        for rule in _rules(tuple(patterns))
    )


def context_files(paths: Iterable[str], patterns: Sequence[str] = IMAGE_CONTEXT_FILES) -> list[str]:
    """The paths (files, relative to the context root) that the build context holds, sorted."""
    return sorted(path for path in paths if not is_excluded(path, patterns))
