"""The ``wms-connector`` command: parses arguments, wires dependencies, calls one function per command.

Exit codes (the README's contract): 0 ok, 2 bad input (nothing was changed), 1 any other failure,
130 interrupted. ``main`` is the one error boundary: every command, including ones added later,
runs inside it. A ``WmsError`` prints its one line; a known error of a library we call (no AWS
region, no credentials, a file that cannot be read) is worded once here; anything else is a bug
and prints one line naming what failed, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from wms_connector import interrupts
from wms_connector.errors import InputError, WmsError
from wms_connector.output import err_console

#: Global flag: show the traceback of an unexpected error (accepted anywhere on the command line).
DEBUG_FLAG = "--debug"

app = typer.Typer(
    name="wms-connector",
    help="Oracle (WMS waiver tables) -> Kafka CDC: stages, names, secrets, local runtime, infrastructure. "
    f"Exit codes: 0 ok, 2 bad input, 1 other failure, 130 interrupted; {DEBUG_FLAG} shows the "
    "traceback of an unexpected error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # One module per command group; each exposes register(app).
    from wms_connector.commands import (
        agent,
        audit,
        connector,
        foundation,
        hold,
        image,
        infra,
        kafka_cert,
        local,
        local_run,
        ops,
        preflight,
        runtime,
        status,
        topics,
        verify,
    )

    # local_run adds to the group that local creates, so it comes after it.
    for module in (
        foundation,
        local,
        local_run,
        runtime,
        topics,
        connector,
        preflight,
        infra,
        verify,
        agent,
        hold,
        ops,
        status,
        image,
        audit,
        kafka_cert,
    ):
        module.register(app)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("wms-connector")
        except PackageNotFoundError:  # pragma: no cover - run from a checkout without installing
            number = "unknown (not installed)"
        print(f"wms-connector {number}")  # noqa: T201 - plain, for scripts
        raise typer.Exit(0)


@app.callback()
def _global_options(
    show_version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="print the version and exit"
    ),
) -> None:
    # The app's help is Typer(help=...) above; this callback only adds the global --version.
    return None


_register()


#: A node of the parsed command tree (typer's own vendored click: ``TyperGroup``, ``TyperCommand``).
Command = Any


def walk(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command and subcommand of the tree with its path, groups included (tests use it too)."""
    yield path, command
    # typer's TyperGroup is a Command with ``commands``, not a click.Group.
    commands: dict[str, Command] = getattr(command, "commands", {})
    for name, sub in sorted(commands.items()):
        yield from walk(sub, (*path, name))


def build_command() -> Command:
    """The click tree of ``app``, with help text shown as plain text (``[/password]`` is not markup)."""
    command = typer.main.get_command(app)
    for _, sub in walk(command):
        if hasattr(sub, "rich_markup_mode"):
            sub.rich_markup_mode = None
    return command


def known_error(error: BaseException) -> WmsError | None:
    """A one-line ``WmsError`` for errors of the libraries we call that a person can fix."""
    try:
        from botocore import exceptions as boto
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        boto = None  # type: ignore[assignment]
    if boto is not None:
        if isinstance(error, boto.NoRegionError):
            return InputError(
                "no AWS region: set AWS_REGION (or pass --region where the command has it), "
                "or use --offline / --secrets-file to work without AWS"
            )
        if isinstance(error, boto.NoCredentialsError):
            return WmsError(
                "no AWS credentials found: configure them (aws configure, AWS_PROFILE) or use --offline"
            )
        if isinstance(error, boto.BotoCoreError):
            return WmsError(
                f"the AWS call failed ({type(error).__name__}); check the region, credentials and network"
            )
    if isinstance(error, RecursionError):
        return InputError("an input nests too deeply (JSON or similar) to be read")
    if isinstance(error, OSError) and error.filename is not None:
        return WmsError(f"{error.strerror or type(error).__name__}: {error.filename}")
    return None


def _where(error: BaseException) -> str:
    """``file:line`` of the innermost frame of our own package, for the one-line bug report."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "wms_connector" in f.filename]
    if not frames:
        return "outside wms_connector"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def _command_path(args: list[str]) -> list[str]:
    """The subcommand names at the head of ``args`` (never an option's value: it may be a secret)."""
    tree: Command = build_command()
    path = []
    for arg in args:
        commands: dict[str, Command] = getattr(tree, "commands", {})
        if arg not in commands:
            break
        path.append(arg)
        tree = commands[arg]
    return path


def _say(message: str) -> None:
    err_console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def _signal_of(error: BaseException) -> str | None:
    """The signal behind an interruption (click wraps a ``KeyboardInterrupt`` in ``Abort``)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, interrupts.Interrupted):
            return seen.signal_name
        seen = seen.__cause__ or seen.__context__
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args
    args = [a for a in args if a != DEBUG_FLAG]
    caught: interrupts.Caught | None = None
    try:
        # SIGTERM and SIGHUP clean up as Ctrl-C does (each command's `finally` runs), exit 130.
        with interrupts.handling() as caught:
            result = build_command().main(args=args, prog_name="wms-connector", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt) as stopped:
        signalled = _signal_of(stopped) or (caught.signal_name if caught else None)
        err_console.print(f"interrupted ({signalled})" if signalled else "interrupted")
        return 130
    except typer.TyperException as error:
        # Usage errors (exit 2) print themselves, as plain text (rich markup is off for help).
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            _say(error.format_message())
        return error.exit_code
    except WmsError as error:
        _say(str(error))
        return error.exit_code
    except Exception as error:
        if debug:
            traceback.print_exception(error)
        known = known_error(error)
        if known is not None:
            _say(str(known))
            return known.exit_code
        # The message of an unexpected error may hold a value from a secret: only its type and place.
        command = " ".join(("wms-connector", *_command_path(args)))
        _say(
            f"unexpected {type(error).__name__} ({_where(error)}) while running `{command}`: this is a bug; "
            f"run again with {DEBUG_FLAG} for the traceback and report it"
        )
        return 1
    code = result if isinstance(result, int) else 0
    if code == 130:  # typer turns Ctrl-C (and typer.Exit(n)) into a return value without standalone mode
        signalled = caught.signal_name if caught else None
        err_console.print(f"interrupted ({signalled})" if signalled else "interrupted")
    return code


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
