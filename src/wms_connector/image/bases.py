"""The images the Connect image is built on: the pinned upstream ones, or local Debian equivalents.

The Dockerfile takes its two bases as build arguments (``BUILD_IMAGE``, ``PYTHON_IMAGE``) whose
defaults are the pinned upstream images. Where those cannot be pulled (no registry reachable),
``make image`` builds equivalents from Debian packages with ``mmdebstrap`` and passes them
instead. An image built on them says so in a label and must never be pushed: it trusts the
build host's extra CA certificates, which the upstream bases never do.

All of this module is pure: recipes, their fingerprints and tags, the ``mmdebstrap`` and
``docker import`` arguments, and the choice of bases.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from wms_connector.errors import InputError

#: Bump when a recipe's meaning changes in a way its fields do not show.
RECIPE_SCHEME: Final = "wms-base-1"
SUITE: Final = "bookworm"
SOURCES: Final = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
#: Where a Debian host keeps its extra (local) CA certificates; the local bases trust them.
EXTRA_CA_DIR: Final = "/usr/local/share/ca-certificates"
DEFAULT_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MERGED_USR_HOOKS: Final = "/usr/share/mmdebstrap/hooks/merged-usr"
LOCAL_REPOSITORY: Final = "wms-local-base"
#: The label every image built on local bases carries.
LOCAL_LABEL: Final = "wms.local-bases"
Mode = Literal["auto", "upstream", "local"]


@dataclass(frozen=True)
class BaseRecipe:
    """A Debian root file system standing in for one upstream base."""

    arg: str
    name: str
    packages: tuple[str, ...]
    env: tuple[tuple[str, str], ...]


BUILD_BASE: Final = BaseRecipe(
    arg="BUILD_IMAGE",
    name="jdk17-maven",
    # Debian's JDK package carries the jmods jlink needs; ca-certificates-java gives Maven a trust store.
    packages=("openjdk-17-jdk-headless", "maven", "ca-certificates", "ca-certificates-java"),
    env=(("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"), ("LANG", "C.UTF-8"), ("PATH", DEFAULT_PATH)),
)
PYTHON_BASE: Final = BaseRecipe(
    arg="PYTHON_IMAGE",
    name="python311",
    # bookworm's python3 is 3.11; passwd brings groupadd/useradd; ca-certificates for pip's TLS.
    packages=("python3", "python3-venv", "passwd", "ca-certificates"),
    env=(("LANG", "C.UTF-8"), ("PATH", DEFAULT_PATH)),
)
RECIPES: Final = (BUILD_BASE, PYTHON_BASE)


def recipe_fingerprint(recipe: BaseRecipe, extra_cas: Mapping[str, bytes]) -> str:
    """The hex sha256 of everything a local base is made from (the CA files included)."""
    digest = hashlib.sha256(RECIPE_SCHEME.encode() + b"\0" + SUITE.encode() + b"\0")
    command = mmdebstrap_argv(recipe, "OUT", sorted(extra_cas))
    for line in (*command, *(f"{k}={v}" for k, v in recipe.env)):
        digest.update(line.encode() + b"\0")
    for name in sorted(extra_cas):
        digest.update(name.encode() + b"\0" + hashlib.sha256(extra_cas[name]).hexdigest().encode() + b"\0")
    return digest.hexdigest()


def local_tag(recipe: BaseRecipe, print_: str) -> str:
    return f"{LOCAL_REPOSITORY}/{recipe.name}:{print_[:16]}"


def mmdebstrap_argv(recipe: BaseRecipe, output: str, extra_ca_files: Sequence[str]) -> list[str]:
    """The ``mmdebstrap`` command that writes the recipe's root file system as a tarball."""
    argv = [
        "mmdebstrap",
        "--variant=minbase",
        "--include=" + ",".join(recipe.packages),
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        # Man pages are left out, but update-alternatives (OpenJDK's postinst) links into man1.
        '--essential-hook=mkdir -p "$1/usr/share/man/man1"',
        # Merge /usr by mmdebstrap's own hook, not the usrmerge package (which pulls in 50 MB of perl).
        f"--hook-dir={MERGED_USR_HOOKS}",
    ]
    if extra_ca_files:
        # Before any package is unpacked, so ca-certificates(-java) builds its stores with them.
        copies = " ".join(shlex.quote(path) for path in extra_ca_files)
        argv.append(
            f'--setup-hook=mkdir -p "$1{EXTRA_CA_DIR}" && cp {copies} "$1{EXTRA_CA_DIR}/"',
        )
    return [*argv, SUITE, output, *SOURCES]


def import_changes(recipe: BaseRecipe) -> list[str]:
    """``docker import --change`` values: the environment an upstream base would have set."""
    return [f"ENV {name}={value}" for name, value in recipe.env] + [f"LABEL {LOCAL_LABEL}=true"]


@dataclass(frozen=True)
class BaseChoice:
    """The build arguments naming the bases, and whether they are the local stand-ins."""

    build_args: dict[str, str]
    local: bool


def choose_bases(
    mode: Mode, *, upstream: Mapping[str, str], upstream_available: bool, local: Mapping[str, str]
) -> BaseChoice:
    """Upstream when asked or available (``auto``), local when asked or nothing else works."""
    if mode == "upstream" and not upstream_available:
        raise InputError(
            f"--bases upstream: the pinned bases ({', '.join(upstream.values())}) cannot be pulled; "
            "check the registry access or use --bases auto (local Debian bases when none is reachable)"
        )
    if mode == "upstream" or (mode == "auto" and upstream_available):
        return BaseChoice(build_args=dict(upstream), local=False)
    return BaseChoice(build_args=dict(local), local=True)
