"""The ``wms-connector`` command: parses arguments, wires dependencies, calls one function per command.

Exit codes: 0 ok, 2 bad input (nothing was changed), 1 any other expected failure, 130 on Ctrl-C.
An unexpected exception keeps its traceback: it is a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer
from rich.text import Text
from typer.exceptions import TyperException

from wms_connector.errors import WmsError
from wms_connector.output import err_console

app = typer.Typer(
    name="wms-connector",
    help="Oracle (WMS waiver tables) -> Kafka CDC: stages, names, secrets, local runtime, infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # One module per command group; each exposes register(app).
    from wms_connector.commands import (
        connector,
        foundation,
        image,
        infra,
        local,
        local_run,
        preflight,
        runtime,
        topics,
    )

    # local_run adds to the group that local creates, so it comes after it.
    for module in (foundation, local, local_run, runtime, topics, connector, preflight, infra, image):
        module.register(app)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except TyperException as error:
        # Usage errors (exit 2) and other parser errors know how to print themselves.
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(Text(error.format_message()))
        return error.exit_code
    except WmsError as error:
        err_console.print(Text("error: ", style="bold red") + Text(str(error)), soft_wrap=True)
        return error.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
