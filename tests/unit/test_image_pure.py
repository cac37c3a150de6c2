"""The image's pure parts: Dockerfile ARG defaults, the input fingerprint, the choice of bases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms_connector.errors import InputError
from wms_connector.image.bases import (
    BUILD_BASE,
    PYTHON_BASE,
    RECIPES,
    choose_bases,
    import_changes,
    local_tag,
    mmdebstrap_argv,
    recipe_fingerprint,
)
from wms_connector.image.dockerfile import arg_defaults, base_images, instructions, resolve
from wms_connector.image.fingerprint import ContextFile, fingerprint, image_tag

SAMPLE = """\
# comment
ARG BUILD_IMAGE=maven:1.2-jdk
ARG PYTHON_IMAGE="python:3.11-slim"
FROM ${BUILD_IMAGE} AS jars
RUN echo a \\
 && echo b
ARG LATE=ignored
FROM $PYTHON_IMAGE AS runtime
COPY --from=jars /out /out
FROM jars AS again
"""


def test_dockerfile_arg_defaults_and_bases_resolve() -> None:
    assert arg_defaults(SAMPLE) == {"BUILD_IMAGE": "maven:1.2-jdk", "PYTHON_IMAGE": "python:3.11-slim"}
    assert base_images(SAMPLE) == ["maven:1.2-jdk", "python:3.11-slim"]
    assert base_images(SAMPLE, {"PYTHON_IMAGE": "local/py:1"}) == ["maven:1.2-jdk", "local/py:1"]
    assert ("RUN", "echo a  && echo b") in instructions(SAMPLE)
    assert resolve("${A}-$B-${C}", {"A": "1", "B": "2"}) == "1-2-"


FILES = {"a": ContextFile("0" * 64, False), "src/b.py": ContextFile("1" * 64, True)}


def test_the_fingerprint_is_stable_and_sensitive() -> None:
    base = fingerprint(FILES, {"BUILD_IMAGE": "sha256:1"})
    assert base == fingerprint(dict(reversed(list(FILES.items()))), {"BUILD_IMAGE": "sha256:1"})
    assert base != fingerprint({**FILES, "a": ContextFile("2" * 64, False)}, {"BUILD_IMAGE": "sha256:1"})
    assert base != fingerprint({**FILES, "a": ContextFile("0" * 64, True)}, {"BUILD_IMAGE": "sha256:1"})
    assert base != fingerprint(FILES, {"BUILD_IMAGE": "sha256:2"})
    assert base != fingerprint({"b": FILES["a"]}, {}) and image_tag(base) == f"wms-connect:{base[:16]}"


@settings(max_examples=40)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.booleans(), min_size=1, max_size=5))
def test_renaming_a_file_changes_the_fingerprint(names: dict[str, bool]) -> None:
    files = {name: ContextFile("a" * 64, flag) for name, flag in names.items()}
    renamed = {name + "x": entry for name, entry in files.items()}
    assert fingerprint(files, {}) != fingerprint(renamed, {})


def test_local_base_recipes_are_keyed_by_their_inputs_and_the_extra_cas() -> None:
    plain = recipe_fingerprint(PYTHON_BASE, {})
    with_ca = recipe_fingerprint(PYTHON_BASE, {"corp.crt": b"-----BEGIN CERTIFICATE-----"})
    assert plain != with_ca != recipe_fingerprint(BUILD_BASE, {})
    assert local_tag(PYTHON_BASE, plain) == f"wms-local-base/python311:{plain[:16]}"
    assert {recipe.arg for recipe in RECIPES} == {"BUILD_IMAGE", "PYTHON_IMAGE"}


def test_the_mmdebstrap_command_copies_the_extra_cas_before_any_package() -> None:
    argv = mmdebstrap_argv(BUILD_BASE, "/c/out.tar", ["/usr/local/share/ca-certificates/my ca.crt"])
    assert argv[0] == "mmdebstrap" and "--variant=minbase" in argv
    assert "--include=openjdk-17-jdk-headless,maven,ca-certificates,ca-certificates-java" in argv
    [hook] = [a for a in argv if a.startswith("--setup-hook=")]
    assert "'/usr/local/share/ca-certificates/my ca.crt'" in hook
    assert argv[argv.index("bookworm") + 1] == "/c/out.tar"
    assert not [a for a in mmdebstrap_argv(PYTHON_BASE, "o", []) if a.startswith("--setup-hook")]
    assert "ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64" in import_changes(BUILD_BASE)
    assert "LABEL wms.local-bases=true" in import_changes(PYTHON_BASE)


UPSTREAM = {"BUILD_IMAGE": "maven:x", "PYTHON_IMAGE": "python:y"}
LOCAL = {"BUILD_IMAGE": "wms-local-base/a:1", "PYTHON_IMAGE": "wms-local-base/b:1"}


@pytest.mark.parametrize(
    ("mode", "available", "expected", "local"),
    [
        ("auto", True, UPSTREAM, False),
        ("auto", False, LOCAL, True),
        ("local", True, LOCAL, True),
        ("upstream", True, UPSTREAM, False),
    ],
)
def test_choose_bases(mode: str, available: bool, expected: dict[str, str], local: bool) -> None:
    choice = choose_bases(mode, upstream=UPSTREAM, upstream_available=available, local=LOCAL)  # type: ignore[arg-type]
    assert (choice.build_args, choice.local) == (expected, local)


def test_upstream_bases_that_cannot_be_pulled_are_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"--bases upstream: the pinned bases \(maven:x, python:y\)"):
        choose_bases("upstream", upstream=UPSTREAM, upstream_available=False, local=LOCAL)
