"""``wms-connector image``: build the Connect image (``make image``) and write its ``.dockerignore``."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from wms_connector.commands.common import JsonOption
from wms_connector.errors import InputError, WmsError
from wms_connector.image.bases import Mode
from wms_connector.image.context import IMAGE_CONTEXT_FILES, render_dockerignore
from wms_connector.local.paths import repo_root
from wms_connector.output import console, err_console, markup, print_json

image_app = typer.Typer(help="The Kafka Connect image: build it, its .dockerignore.", no_args_is_help=True)


def _say(line: str) -> None:
    err_console.print(line, soft_wrap=True, highlight=False)


@image_app.command("build")
def build_command(
    bases: Annotated[
        str, typer.Option(help="auto: the pinned upstream bases if pullable, else local Debian ones")
    ] = "auto",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="rebuild every layer")] = False,
    keep_daemon: Annotated[
        bool, typer.Option("--keep-daemon", help="leave a private Docker daemon running afterwards")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the image from this checkout (host network); print its tag, build time and size."""
    from wms_connector.image.build import build_image
    from wms_connector.image.engine import docker_state_dir, ensure_engine

    if bases not in {"auto", "upstream", "local"}:
        raise InputError(f"--bases {bases!r}: choose auto, upstream or local")
    mode = cast(Mode, bases)
    root = repo_root()
    engine = ensure_engine(docker_state_dir(root))
    try:
        if engine.started_pid is not None:
            _say(f"started a private Docker daemon (pid {engine.started_pid}, {engine.host})")
        built = build_image(
            engine,
            root,
            mode=mode,
            say=_say,
            no_cache=no_cache,
            build_log=docker_state_dir(root) / "build.log",
        )
    finally:
        if not keep_daemon:
            engine.stop()
    record = {
        "tag": built.tag,
        "fingerprint": built.fingerprint,
        "local_bases": built.local_bases,
        "built": built.built,
        "seconds": round(built.seconds, 1),
        "size_mb": round(built.size_bytes / 1e6, 1),
        "docker_host": engine.host,
    }
    if as_json:
        print_json(record)
        return
    state = "built" if built.built else "already built (same fingerprint)"
    console.print(
        markup(
            "{}: {} in {} s, {} MB"
            + (" [bold red](LOCAL BASES: never push)[/]" if built.local_bases else ""),
            built.tag,
            state,
            f"{built.seconds:.1f}",
            f"{built.size_bytes / 1e6:.0f}",
        ),
        highlight=False,
    )


@image_app.command("dockerignore")
def dockerignore_command(
    check: Annotated[
        bool, typer.Option("--check", help="exit 1 when the file differs instead of writing")
    ] = False,
) -> None:
    """Write .dockerignore from the one list of what the image needs (IMAGE_CONTEXT_FILES)."""
    path = repo_root() / ".dockerignore"
    wanted = render_dockerignore(IMAGE_CONTEXT_FILES)
    if check:
        if not path.is_file() or path.read_text() != wanted:
            raise WmsError(f"{path} differs from IMAGE_CONTEXT_FILES: run `wms-connector image dockerignore`")
        return
    path.write_text(wanted)
    console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
