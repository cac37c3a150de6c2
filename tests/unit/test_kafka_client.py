"""Client settings per Kafka auth; plaintext only on loopback."""

from __future__ import annotations

import pytest

from wms_connector.errors import InputError
from wms_connector.kafka.client import bootstrap_hosts, client_config, default_auth
from wms_connector.stages import KafkaAuth


@pytest.mark.parametrize(
    ("bootstrap", "hosts"),
    [
        ("127.0.0.1:9092", ["127.0.0.1"]),
        (
            "b-1.x.kafka.us-east-1.amazonaws.com:9094,b-2.x:9094",
            ["b-1.x.kafka.us-east-1.amazonaws.com", "b-2.x"],
        ),
        ("[::1]:9092", ["::1"]),
        ("localhost", ["localhost"]),
    ],
)
def test_bootstrap_hosts(bootstrap: str, hosts: list[str]) -> None:
    assert bootstrap_hosts(bootstrap) == hosts


def test_empty_bootstrap_is_bad_input() -> None:
    with pytest.raises(InputError, match="names no broker"):
        bootstrap_hosts(" , ")


@pytest.mark.parametrize("bootstrap", ["127.0.0.1:9092", "localhost:1,127.0.0.2:2", "[::1]:9092"])
def test_plaintext_on_loopback(bootstrap: str) -> None:
    assert client_config(bootstrap, KafkaAuth.PLAINTEXT)["security.protocol"] == "PLAINTEXT"


@pytest.mark.parametrize("bootstrap", ["10.0.0.5:9092", "127.0.0.1:9092,b-1.msk:9092", "localhost.evil:1"])
def test_plaintext_to_anything_else_is_refused(bootstrap: str) -> None:
    with pytest.raises(InputError, match="local runtime only"):
        client_config(bootstrap, KafkaAuth.PLAINTEXT)


def test_tls() -> None:
    config = client_config("b-1.msk:9094", KafkaAuth.TLS)
    assert config["security.protocol"] == "SSL"
    assert "sasl.mechanisms" not in config


def test_iam_uses_oauthbearer_with_a_token_for_the_region() -> None:
    asked: list[str] = []

    def tokens(region: str) -> tuple[str, float]:
        asked.append(region)
        return "signed-url-token", 1_700_000_900.0

    config = client_config("b-1.msk:9098", KafkaAuth.IAM, region="eu-west-1", token_source=tokens)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanisms"] == "OAUTHBEARER"
    assert config["oauth_cb"]("") == ("signed-url-token", 1_700_000_900.0)
    assert asked == ["eu-west-1"]


def test_iam_token_is_signed_by_the_aws_signer() -> None:
    # The real signer with the suite's fake credentials: no network, just SigV4 over a URL.
    import base64
    from urllib.parse import parse_qs, urlparse

    from wms_connector.kafka.client import msk_iam_token

    token, expiry = msk_iam_token("us-east-1")
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.us-east-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert "X-Amz-Signature" in query
    assert expiry > 1_600_000_000


def test_iam_without_region_is_bad_input() -> None:
    with pytest.raises(InputError, match="region"):
        client_config("b-1.msk:9098", KafkaAuth.IAM, region=None)


@pytest.mark.parametrize(
    ("bootstrap", "expected"),
    [
        ("127.0.0.1:9092", KafkaAuth.PLAINTEXT),
        ("localhost:9092,[::1]:9093", KafkaAuth.PLAINTEXT),
        ("127.0.0.1:9092,b-1.msk:9094", KafkaAuth.IAM),
        ("b-1.msk:9094", KafkaAuth.IAM),
    ],
)
def test_default_auth_is_plaintext_only_for_loopback(bootstrap: str, expected: KafkaAuth) -> None:
    assert default_auth(KafkaAuth.IAM, bootstrap) is expected
