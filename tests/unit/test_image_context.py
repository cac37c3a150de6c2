"""The image's build context: one list, rendered as .dockerignore, matched by Docker's rules."""

from __future__ import annotations

import pytest

from wms_connector.image.context import (
    DOCKERFILE,
    IMAGE_CONTEXT_FILES,
    context_files,
    is_excluded,
    may_hold_included,
    parse_dockerignore,
    render_dockerignore,
)
from wms_connector.image.dockerfile import instructions
from wms_connector.local.paths import repo_root

ROOT = repo_root()


def test_the_checked_in_dockerignore_is_the_rendered_list() -> None:
    text = (ROOT / ".dockerignore").read_text()
    assert text == render_dockerignore(IMAGE_CONTEXT_FILES)
    assert parse_dockerignore(text) == IMAGE_CONTEXT_FILES


#: (path, excluded by IMAGE_CONTEXT_FILES)
CASES = [
    ("pyproject.toml", False),
    ("constraints.txt", False),
    ("README.md", False),
    ("src/wms_connector/cli.py", False),
    ("src/wms_connector/data/secrets.example.json", False),
    ("runtime/Dockerfile", False),
    ("runtime/entrypoint.sh", False),
    ("runtime/target/x.jar", True),
    ("src/wms_connector/__pycache__/cli.cpython-311.pyc", True),
    ("src/wms_connector/x.pyc", True),
    ("src/wms_connector.egg-info/PKG-INFO", True),
    (".venv/bin/python", True),
    (".cache/runtime/dist/lib/a.jar", True),
    (".state/docker/docker.sock", True),
    (".git/HEAD", True),
    ("tests/unit/test_cli.py", True),
    ("node_modules/aws-cdk/package.json", True),
    ("cdk.out/manifest.json", True),
    ("docs/runtime.md", True),
    ("Makefile", True),
]


@pytest.mark.parametrize(("path", "excluded"), CASES)
def test_the_list_keeps_exactly_what_the_image_copies(path: str, excluded: bool) -> None:
    assert is_excluded(path) is excluded


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (("*.md",), "README.md", True),
        (("*.md",), "docs/a.md", False),  # * stays within one segment
        (("**/*.md",), "docs/deep/a.md", True),
        (("**/*.md",), "a.md", True),  # **/ matches zero directories
        (("docs",), "docs/deep/a.md", True),  # a directory match covers what is below it
        (("docs", "!docs/keep.md"), "docs/keep.md", False),
        (("!docs/keep.md", "docs"), "docs/keep.md", True),  # the last match wins
        (("/src/",), "src/a.py", True),  # leading and trailing slashes are cleaned
        (("a?c",), "abc", True),
        (("a?c",), "a/c", False),
        (("[ab].txt",), "b.txt", True),
        (("[^ab].txt",), "b.txt", False),
        (("./x",), "x", True),
    ],
)
def test_docker_matching_rules(patterns: tuple[str, ...], path: str, excluded: bool) -> None:
    assert is_excluded(path, patterns) is excluded


def test_excluded_directories_are_walked_only_when_a_negation_may_reach_inside() -> None:
    assert not may_hold_included(".venv")
    assert not may_hold_included("tests")
    assert may_hold_included("src")
    assert may_hold_included("docs", ("docs", "!docs/keep.md"))
    assert may_hold_included("docs", ("*", "!**/keep.md"))


def test_every_file_the_dockerfile_copies_is_in_the_context() -> None:
    sources: list[str] = []
    for word, args in instructions((ROOT / DOCKERFILE).read_text()):
        if word == "COPY" and "--from=" not in args:
            sources += args.split()[:-1]
    assert sources
    tracked = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]
    for source in sources:
        inside = [p for p in context_files(tracked) if p == source or p.startswith(source.rstrip("/") + "/")]
        assert inside, f"the Dockerfile copies {source}, which the context leaves out"
