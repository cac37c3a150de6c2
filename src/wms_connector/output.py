"""Output for people (rich tables on stdout, messages on stderr) and machines (``--json``).

The one renderer: both consoles have rich markup **off**, so any string that reaches them (a
table cell, a title, a message, a value from a secret, Oracle, a broker, a REST answer or a row)
prints exactly as it is and can never be read as markup. Our own styling is explicit: ``styled``
for one styled value, ``markup`` for a template of our own whose ``{}`` slots are filled with
escaped foreign values, ``status`` for a spinner whose messages are plain text too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

console = Console(highlight=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)

#: A progress callback: one plain-text line at a time.
Progress = Callable[[str], None]


def styled(value: object, style: str) -> Text:
    """``value`` as plain text in ``style`` (never parsed as markup)."""
    return Text(str(value), style=style)


def markup(template: str, *values: object) -> Text:
    """Our own markup ``template`` with each ``{}`` filled by an escaped foreign value.

    ``markup("[bold]{}[/] on {}", name, host)``: the brackets of ``template`` are styling, those
    of ``name`` and ``host`` are text."""
    return Text.from_markup(template.format(*(escape(str(v)) for v in values)))


@contextmanager
def status(message: str, *, stderr: bool = True) -> Iterator[Progress]:
    """A spinner showing ``message``; yields a callback that replaces it (plain text, never markup)."""
    target = err_console if stderr else console
    with target.status(Text(message)) as spinner:
        yield lambda line: spinner.update(Text(line))


def print_json(data: Any) -> None:
    # Plain print, not rich: machine output must be exactly the JSON, without wrapping or colour.
    print(json.dumps(data, indent=2, sort_keys=False))  # noqa: T201


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON or through ``render`` for a person."""
    if as_json:
        print_json(data)
    else:
        render(data)
