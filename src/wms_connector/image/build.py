"""Build the Connect image: the context, the bases (pulled or made locally), ``docker build`` (I/O shell).

``build_image`` is what ``wms-connector image build`` (``make image``) and the smoke test's session
fixture call. An image whose fingerprint (``fingerprint.fingerprint`` over the context files and
the bases' image ids) is already present is not built again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wms_connector.errors import WmsError
from wms_connector.image.bases import (
    LOCAL_LABEL,
    RECIPES,
    BaseChoice,
    BaseRecipe,
    Mode,
    choose_bases,
    import_changes,
    local_tag,
    mmdebstrap_argv,
    recipe_fingerprint,
)
from wms_connector.image.context import DOCKERFILE, IMAGE_CONTEXT_FILES, is_excluded, may_hold_included
from wms_connector.image.context import render_dockerignore as render
from wms_connector.image.dockerfile import arg_defaults
from wms_connector.image.engine import Engine, apt_install
from wms_connector.image.fingerprint import ContextFile, fingerprint, image_tag

BASES_ENV: Final = "WMS_IMAGE_BASES"
FINGERPRINT_LABEL: Final = "wms.fingerprint"
PULL_TIMEOUT_S: Final = 120.0
Say = Callable[[str], None]


def bases_cache_dir() -> Path:
    """Where local base tarballs are kept across checkouts: $WMS_IMAGE_BASES, else the user's cache."""
    explicit = os.environ.get(BASES_ENV)
    if explicit:
        return Path(explicit)
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "wms-connector" / "image-bases"


def context_inputs(root: Path) -> dict[str, ContextFile]:
    """Every file Docker puts into the build context of ``root``, with its digest and exec bit."""
    files: dict[str, ContextFile] = {}
    for directory, dirs, names in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        dirs[:] = [d for d in dirs if may_hold_included(prefix + d, IMAGE_CONTEXT_FILES)]
        for name in names:
            path = prefix + name
            full = Path(directory) / name
            if is_excluded(path, IMAGE_CONTEXT_FILES) or not full.is_file():
                continue
            files[path] = _entry(full)
    # Docker always sends the ignore file (it decides what else is sent), so it is an input too.
    if (root / ".dockerignore").is_file():
        files[".dockerignore"] = _entry(root / ".dockerignore")
    return files


def _entry(path: Path) -> ContextFile:
    return ContextFile(
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), executable=os.access(path, os.X_OK)
    )


def check_dockerignore(root: Path) -> None:
    ignore = root / ".dockerignore"
    if not ignore.is_file() or ignore.read_text() != render(IMAGE_CONTEXT_FILES):
        raise WmsError(
            f"{ignore} is missing or differs from wms_connector.image.context.IMAGE_CONTEXT_FILES: "
            "run `wms-connector image dockerignore` and commit the result"
        )


def _has_image(engine: Engine, reference: str) -> bool:
    return engine.run(["image", "inspect", reference], check=False).returncode == 0


def image_id(engine: Engine, reference: str) -> str:
    return engine.run(["image", "inspect", "--format", "{{.Id}}", reference]).stdout.strip()


def image_size(engine: Engine, reference: str) -> int:
    return int(engine.run(["image", "inspect", "--format", "{{.Size}}", reference]).stdout.strip())


def _pullable(engine: Engine, images: list[str], say: Say) -> bool:
    for image in images:
        if _has_image(engine, image):
            continue
        say(f"pulling {image}")
        try:
            result = engine.run(["pull", image], check=False, timeout=PULL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return False
        if result.returncode != 0:
            say(f"cannot pull {image}: {' '.join(result.stderr.strip().splitlines()[-1:])}")
            return False
    return True


def _extra_cas() -> dict[str, Path]:
    directory = Path("/usr/local/share/ca-certificates")
    return {p.name: p for p in sorted(directory.rglob("*.crt"))} if directory.is_dir() else {}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _base_tarball(recipe: BaseRecipe, print_: str, cas: dict[str, Path], cache: Path, say: Say) -> Path:
    """The recipe's root file system tarball, built with mmdebstrap unless cached."""
    tarball = cache / f"{recipe.name}-{print_[:16]}.tar"
    with _locked(cache / f"{recipe.name}.lock"):
        if tarball.is_file():
            return tarball
        say(f"building the local base {recipe.name} from Debian packages (mmdebstrap)")
        started = time.monotonic()
        partial = tarball.with_suffix(".partial.tar")
        log = tarball.with_suffix(".log")
        with log.open("w") as out:
            result = subprocess.run(
                mmdebstrap_argv(recipe, str(partial), [str(p) for p in cas.values()]),
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            tail = " ".join(log.read_text(errors="replace").strip().splitlines()[-2:])
            raise WmsError(f"mmdebstrap failed for the base {recipe.name} (log {log}): {tail}")
        partial.rename(tarball)
        for stale in cache.glob(f"{recipe.name}-*.tar"):
            if stale != tarball:  # an older recipe or CA set: never used again
                stale.unlink(missing_ok=True)
        say(f"local base {recipe.name}: {time.monotonic() - started:.0f} s")
        return tarball


def local_bases(engine: Engine, say: Say, cache: Path | None = None) -> dict[str, str]:
    """Make sure the local Debian bases exist in the engine; their tags by build argument."""
    cache = cache or bases_cache_dir()
    cas = _extra_cas()
    contents = {name: path.read_bytes() for name, path in cas.items()}
    wanted = {recipe: recipe_fingerprint(recipe, contents) for recipe in RECIPES}
    tags = {recipe.arg: local_tag(recipe, print_) for recipe, print_ in wanted.items()}
    missing = [recipe for recipe in RECIPES if not _has_image(engine, tags[recipe.arg])]
    if missing:
        if shutil.which("mmdebstrap") is None:
            apt_install(["mmdebstrap"], why="building the local Debian bases")
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            tarballs = list(pool.map(lambda r: _base_tarball(r, wanted[r], cas, cache, say), missing))
        for recipe, tarball in zip(missing, tarballs, strict=True):
            argv = ["import"]
            for change in import_changes(recipe):
                argv += ["--change", change]
            engine.run([*argv, str(tarball), tags[recipe.arg]])
    return tags


def choose(engine: Engine, root: Path, mode: Mode, say: Say) -> BaseChoice:
    defaults = arg_defaults((root / DOCKERFILE).read_text())
    upstream = {recipe.arg: defaults[recipe.arg] for recipe in RECIPES}
    available = mode != "local" and _pullable(engine, list(upstream.values()), say)
    if mode == "upstream" or (mode == "auto" and available):
        return choose_bases(mode, upstream=upstream, upstream_available=available, local={})
    return choose_bases(mode, upstream=upstream, upstream_available=available, local=local_bases(engine, say))


@dataclass(frozen=True)
class Built:
    """An image of the Connect runtime, present in the engine."""

    tag: str
    fingerprint: str
    local_bases: bool
    built: bool
    seconds: float
    size_bytes: int


def input_fingerprint(engine: Engine, root: Path, choice: BaseChoice) -> str:
    resolved = {arg: image_id(engine, image) for arg, image in choice.build_args.items()}
    return fingerprint(context_inputs(root), resolved)


def build_image(
    engine: Engine,
    root: Path,
    *,
    mode: Mode = "auto",
    say: Say = lambda _line: None,
    no_cache: bool = False,
    build_log: Path | None = None,
) -> Built:
    """Build (or find, by fingerprint) the image of the checkout at ``root``."""
    check_dockerignore(root)
    started = time.monotonic()
    choice = choose(engine, root, mode, say)
    if choice.local:
        say(
            "LOCAL BASES: this image is built on Debian stand-ins for the pinned bases and trusts this "
            "machine's extra CA certificates; use it for tests only and NEVER push it"
        )
    print_ = input_fingerprint(engine, root, choice)
    tag = image_tag(print_)
    if not no_cache and _has_image(engine, tag):
        return Built(tag, print_, choice.local, False, time.monotonic() - started, image_size(engine, tag))
    argv = ["build", "--network", "host", "--file", str(root / DOCKERFILE), "--tag", tag]
    argv += [
        "--label",
        f"{FINGERPRINT_LABEL}={print_}",
        "--label",
        f"{LOCAL_LABEL}={str(choice.local).lower()}",
    ]
    if no_cache:
        argv.append("--no-cache")
    for arg, image in choice.build_args.items():
        argv += ["--build-arg", f"{arg}={image}"]
    log = build_log or Path(os.devnull)
    say(f"docker build -> {tag}" + (f" (log: {build_log})" if build_log else ""))
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run(
            ["docker", *argv, str(root)],
            env=engine.environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-8:] if build_log else []
        raise WmsError(
            f"docker build failed (exit {result.returncode})"
            + (f", log {build_log}: " + " | ".join(tail) if build_log else "")
        )
    return Built(tag, print_, choice.local, True, time.monotonic() - started, image_size(engine, tag))
