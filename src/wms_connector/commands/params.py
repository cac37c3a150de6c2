"""Typed CLI parameters: each kind of value is parsed once, by the parser, before a command runs.

Each function here is a typer ``parser=``: it returns the parsed value or raises
``typer.BadParameter``, which the parser reports as a usage error (exit 2) naming the option, the
value and the rule, before anything connects or changes. The rules themselves live with their
domain (``kafka.bootstrap`` for broker lists); this module adapts them to the CLI.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Final

import httpx
import typer

from wms_connector.kafka.bootstrap import MAX_PORT, format_bootstrap, host_problem, parse_bootstrap


def _text(value: Any) -> str:
    return str(value)


def bootstrap(value: Any) -> str:
    """``host:port[,host:port...]``: every entry a DNS name or IP address and a port 1..65535."""
    try:
        return format_bootstrap(parse_bootstrap(_text(value)))
    except ValueError as error:
        raise typer.BadParameter(f"{_text(value)!r} is not a bootstrap list: {error}") from None


def host(value: Any) -> str:
    """A DNS name or an IP address."""
    problem = host_problem(_text(value))
    if problem:
        raise typer.BadParameter(f"{_text(value)!r}: {problem}")
    return _text(value)


def http_url(value: Any) -> str:
    """An ``http://`` or ``https://`` URL with a host (and, if given, a port 1..65535)."""
    text = _text(value)
    try:
        url = httpx.URL(text)
        port = url.port
    except (httpx.InvalidURL, ValueError) as error:
        raise typer.BadParameter(f"{text!r} is not a URL ({error})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise typer.BadParameter(
            f"{text!r} is not an http:// or https:// URL with a host, e.g. http://127.0.0.1:8083"
        )
    if port is not None and not 1 <= port <= MAX_PORT:
        raise typer.BadParameter(f"{text!r}: the port is outside 1..{MAX_PORT}")
    return text.rstrip("/")


def _integer(value: Any, low: int, high: int | None, what: str) -> int:
    text = _text(value).strip()
    try:
        number = int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number") from None
    if number < low or (high is not None and number > high):
        bound = f"{low}..{high}" if high is not None else f"at least {low}"
        raise typer.BadParameter(f"{number} is not {what} ({bound})")
    return number


def port(value: Any) -> int:
    """A TCP port, 1..65535."""
    return _integer(value, 1, MAX_PORT, "a TCP port")


def port_or_zero(value: Any) -> int:
    """A TCP port to listen on, 1..65535, or 0 for any free port."""
    return _integer(value, 0, MAX_PORT, "a TCP port or 0 (any free port)")


def count(value: Any) -> int:
    """A whole number, at least 1."""
    return _integer(value, 1, None, "a count")


def not_negative(value: Any) -> int:
    """A whole number, at least 0."""
    return _integer(value, 0, None, "zero or more")


def _seconds(value: Any, *, allow_zero: bool) -> float:
    text = _text(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        rule = "finite and not negative" if allow_zero else "finite and positive"
        raise typer.BadParameter(f"{text!r} must be {rule}")
    return number


def seconds(value: Any) -> float:
    """A finite, positive duration (seconds)."""
    return _seconds(value, allow_zero=False)


def seconds_or_zero(value: Any) -> float:
    """A finite, non-negative quantity (hours, seconds)."""
    return _seconds(value, allow_zero=True)


def existing_file(value: Any) -> Path:
    """A file that exists (not a directory)."""
    text = _text(value)
    path = Path(text)
    if not text or path.is_dir():
        raise typer.BadParameter(f"{text!r} is a directory, not a file")
    if not path.is_file():
        raise typer.BadParameter(f"{text!r} does not exist (or is not a regular file)")
    return path


def existing_dir(value: Any) -> Path:
    """A directory that exists."""
    text = _text(value)
    if not text or not Path(text).is_dir():
        raise typer.BadParameter(f"{text!r} is not an existing directory")
    return Path(text)


def new_file(value: Any) -> Path:
    """A file to write: not a directory, in a directory that exists (nothing is created silently)."""
    text = _text(value)
    path = Path(text)
    if not text or path.is_dir():
        raise typer.BadParameter(f"{text!r} is a directory; give a file path")
    if not path.parent.is_dir():
        raise typer.BadParameter(
            f"{text!r}: the directory {str(path.parent)!r} does not exist; create it first"
        )
    return path


def out_dir(value: Any) -> Path:
    """A directory to write into: an existing directory or a new one, never an existing file."""
    text = _text(value)
    path = Path(text)
    if not text:
        raise typer.BadParameter("an empty path is not a directory")
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{text!r} exists and is not a directory")
    return path


#: Every parser above, by name (the property test feeds each one arbitrary text).
_DURATION_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}


def duration(value: Any) -> float:
    """A positive duration in seconds: ``90``, ``90s``, ``30m`` or ``2h``."""
    text = _text(value).strip().lower()
    unit = _DURATION_UNITS.get(text[-1:], None) if text else None
    number_text = text[:-1] if unit is not None else text
    try:
        number = float(number_text)
    except ValueError:
        raise typer.BadParameter(f"{_text(value)!r} is not a duration; e.g. 90s, 30m or 2h") from None
    seconds_ = number * (unit or 1.0)
    if not math.isfinite(seconds_) or seconds_ <= 0:
        raise typer.BadParameter(f"{_text(value)!r} must be a positive duration; e.g. 90s, 30m or 2h")
    return seconds_


PARSERS: Final = {
    f.__name__: f
    for f in (
        bootstrap,
        host,
        http_url,
        port,
        port_or_zero,
        count,
        not_negative,
        seconds,
        seconds_or_zero,
        existing_file,
        existing_dir,
        new_file,
        out_dir,
        duration,
    )
}
