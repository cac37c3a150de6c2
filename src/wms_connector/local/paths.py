"""Where the local runtime keeps things: the jar cache and the cluster's state directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wms_connector.errors import InputError, WmsError

POM_RELATIVE: Final = Path("runtime") / "pom.xml"
#: Override the repository root (the directory holding runtime/pom.xml).
REPO_ENV: Final = "WMS_REPO_ROOT"
#: Override the jar cache (default: <repo>/.cache/runtime).
CACHE_ENV: Final = "WMS_RUNTIME_CACHE"
#: Override the state directory of `wms-connector local` (default: <repo>/.state/local).
STATE_ENV: Final = "WMS_LOCAL_STATE"


def repo_root() -> Path:
    """The checkout holding ``runtime/pom.xml``: $WMS_REPO_ROOT, else the nearest from cwd or this file."""
    explicit = os.environ.get(REPO_ENV)
    if explicit:
        return Path(explicit).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for candidate in (start, *start.parents):
            if (candidate / POM_RELATIVE).is_file():
                return candidate
    raise WmsError(
        f"cannot find {POM_RELATIVE} above {Path.cwd()}: run from the wms-connector checkout "
        f"or set {REPO_ENV} to it"
    )


def pom_path() -> Path:
    return repo_root() / POM_RELATIVE


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    return Path(explicit).resolve() if explicit else repo_root() / ".cache" / "runtime"


def require_chosen_cache(cache: Path) -> None:
    """A jar cache chosen with $WMS_RUNTIME_CACHE must exist before anything is downloaded into it:
    a mistyped path would otherwise silently start a new cache (a few hundred MB from Maven Central)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit and Path(explicit).resolve() == cache.resolve() and not cache.is_dir():
        raise InputError(
            f"{CACHE_ENV}={explicit} does not exist: fix the path (default: <checkout>/.cache/runtime), "
            "or create the directory (mkdir -p) to fill a new jar cache there (~354 MB from Maven Central)"
        )


def state_dir() -> Path:
    explicit = os.environ.get(STATE_ENV)
    return Path(explicit).resolve() if explicit else repo_root() / ".state" / "local"


@dataclass(frozen=True)
class RuntimeLayout:
    """The jar tree ``runtime/pom.xml`` lays out (the same tree the image holds)."""

    root: Path

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def agent_dir(self) -> Path:
        return self.root / "agent"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def classpath(self) -> str:
        # The JVM expands a trailing '*' to every jar of the directory.
        return str(self.lib / "*")

    @property
    def plugin_path(self) -> tuple[str, ...]:
        return (str(self.plugins),)
