"""The one parser of Kafka bootstrap lists, ``host:port[,host:port...]`` (pure).

Used for ``--bootstrap`` options and for the ``brokerString`` secret, so both refuse the same
things: an empty entry, a missing or non-numeric port, a port outside 1..65535, a host that is
not a DNS name or an IP address. Errors name the entry's position and the rule, never the text
(a secret's value must not reach a message); a caller that may show the value adds it itself.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

_LABEL: Final = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
MAX_PORT: Final = 65535


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def host_problem(host: str) -> str | None:
    """Why ``host`` is not a DNS name or an IP address, or ``None``."""
    if not host:
        return "the host is empty"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.rstrip(".").split(".")):
        return "the host is not a DNS name or an IP address"
    return None


def parse_port(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError("the port is not a number")
    port = int(text)
    if not 1 <= port <= MAX_PORT:
        raise ValueError(f"the port is outside 1..{MAX_PORT}")
    return port


def parse_host_port(entry: str) -> HostPort:
    """One ``host:port`` (``[v6]:port`` for IPv6). Raises ``ValueError`` with the rule broken."""
    scheme, sep, rest = entry.partition("://")
    if sep and scheme and "[" not in scheme:
        # A URL (http://h:9092, SSL://h:9094): Kafka's bootstrap list has no scheme.
        raise ValueError(
            f"{scheme}:// is a URL scheme; a Kafka bootstrap list is host:port without one "
            f"(e.g. {rest or 'host:9092'})"
        )
    if entry.startswith("["):
        host, sep, rest = entry[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError("an IPv6 address is written [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("the address in brackets is not an IPv6 address") from None
    else:
        host, sep, port_text = entry.rpartition(":")
        if not sep:
            raise ValueError("the port is missing (host:port)")
        if ":" in host:
            raise ValueError("an IPv6 address is written [address]:port")
        problem = host_problem(host)
        if problem:
            raise ValueError(problem)
    return HostPort(host, parse_port(port_text))


def parse_bootstrap(text: str) -> tuple[HostPort, ...]:
    """Every broker of a comma-separated list, in order. ``ValueError`` names the entry's position."""
    if not text.strip():
        raise ValueError("it names no broker; give host:port[,host:port...]")
    brokers = []
    for index, raw in enumerate(text.split(","), start=1):
        entry = raw.strip()
        if not entry:
            raise ValueError(f"entry {index} is empty; give host:port[,host:port...]")
        try:
            brokers.append(parse_host_port(entry))
        except ValueError as error:
            raise ValueError(f"entry {index}: {error}") from None
    return tuple(brokers)


def format_bootstrap(brokers: tuple[HostPort, ...]) -> str:
    return ",".join(str(b) for b in brokers)
