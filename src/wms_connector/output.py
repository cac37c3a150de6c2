"""Output for people (rich tables on stdout, messages on stderr) and machines (``--json``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    # Plain print, not rich: machine output must be exactly the JSON, without wrapping or colour.
    print(json.dumps(data, indent=2, sort_keys=False))  # noqa: T201


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON or through ``render`` for a person."""
    if as_json:
        print_json(data)
    else:
        render(data)
