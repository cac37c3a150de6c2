"""The one bootstrap grammar (kafka.bootstrap), used by --bootstrap options and brokerString."""

from __future__ import annotations

import pytest

from wms_connector.kafka.bootstrap import parse_bootstrap

GOOD = [
    ("127.0.0.1:9092", "127.0.0.1:9092"),
    ("b-1.bigmac.abc123.c2.kafka.us-east-1.amazonaws.com:9098", None),
    ("a:1, b:65535", "a:1,b:65535"),
    ("[::1]:9092", "[::1]:9092"),
    ("localhost:9092,127.0.0.1:9093", None),
]
BAD = [
    ("127.0.0.1:99999", "entry 1: the port is outside 1..65535"),
    ("127.0.0.1:abc", "entry 1: the port is not a number"),
    ("127.0.0.1:٣", "entry 1: the port is not a number"),  # a non-ASCII digit
    ("localhost", "entry 1: the port is missing"),
    (":9092", "entry 1: the host is empty"),
    ("a:1,b:2,,c:3", "entry 3 is empty"),
    ("[bold]:9092", "entry 1: the address in brackets is not an IPv6 address"),
    ("::1:9092", "entry 1: an IPv6 address is written [address]:port"),
    ("a b:1", "entry 1: the host is not a DNS name or an IP address"),
    ("", "it names no broker"),
]


@pytest.mark.parametrize(("text", "canonical"), GOOD)
def test_valid_lists_parse(text: str, canonical: str | None) -> None:
    brokers = parse_bootstrap(text)
    assert ",".join(str(b) for b in brokers) == (canonical or text)


@pytest.mark.parametrize(("text", "message"), BAD)
def test_invalid_lists_name_the_position_and_the_rule_never_the_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace(".", r"\.")) as info:
        parse_bootstrap(text)
    host = text.split(":", maxsplit=1)[0]
    if len(host) > 3:
        assert host not in str(info.value)
