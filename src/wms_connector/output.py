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
from rich.measure import Measurement
from rich.table import Table
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
    """A spinner showing ``message``; yields a callback that replaces it (plain text, never markup).

    Where no spinner can show (a pipe, a CI log), ``message`` and each update print as lines of
    their own instead, so a slow step is never silent."""
    target = err_console if stderr else console
    if not target.is_terminal:
        target.print(Text(message), soft_wrap=True)
        yield lambda line: target.print(Text(line), soft_wrap=True)
        return
    with target.status(Text(message)) as spinner:
        yield lambda line: spinner.update(Text(line))


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_rows(table: Table) -> list[list[tuple[str, str]]]:
    """Each row of ``table`` as ``(column heading, cell text)`` pairs (plain text)."""
    columns = [(_plain(column.header), [_plain(cell) for cell in column.cells]) for column in table.columns]
    return [[(header, cells[row]) for header, cells in columns] for row in range(table.row_count)]


def show_table(table: Table, target: Console | None = None) -> None:
    """Print ``table`` when every cell fits the width on one line; else the same rows as a list
    (``heading: value`` lines, never wrapped by us), so no column, reason or address is ever
    dropped, squeezed or cut, at 40 columns, in an 80-column pipe, or anywhere else."""
    out = target or console
    natural = Measurement.get(out, out.options.update_width(1_000_000), table).maximum
    if natural <= out.width:
        out.print(table)
        return
    if table.title:
        out.print(Text(_plain(table.title), style="bold"), soft_wrap=True)
    for row in range(table.row_count):
        if row:
            out.print()
        for column in table.columns:
            cell = list(column.cells)[row]
            value = cell.copy() if isinstance(cell, Text) else Text(str(cell))
            lines = value.split("\n") if value.plain else [value]
            header = _plain(column.header)
            if len(lines) == 1:
                out.print(Text(f"{header}: ") + lines[0], soft_wrap=True)
            else:
                out.print(Text(f"{header}:"), soft_wrap=True)
                for line in lines:
                    out.print(Text("  ") + line, soft_wrap=True)


def print_json(data: Any) -> None:
    # Plain print, not rich: machine output must be exactly the JSON, without wrapping or colour.
    print(json.dumps(data, indent=2, sort_keys=False))  # noqa: T201


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON or through ``render`` for a person."""
    if as_json:
        print_json(data)
    else:
        render(data)
