"""The ``kafkaClientCert`` secret's shape: what Kafka would refuse is refused here, without the key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.certs import TestCa
from wms_connector.secrets.client_cert import KafkaClientCert
from wms_connector.secrets.shapes import ALL_SECRETS, KAFKA_CLIENT_CERT
from wms_connector.secrets.store import FileSecretsBackend, SecretShapeError, lookup_all, parse_secret
from wms_connector.stages import Stage

CA = TestCa()
CLIENT = CA.issue(cn="wms-connector-production", ou="cdc")
PATH = "wms/production/kafkaClientCert"


def shape_error(secret: dict[str, str]) -> str:
    with pytest.raises(SecretShapeError) as caught:
        parse_secret(KAFKA_CLIENT_CERT, PATH, json.dumps(secret))
    message = str(caught.value)
    # Never the key, whatever went wrong; one line naming the secret.
    assert "PRIVATE KEY" not in message
    for line in secret.get("privateKey", "").splitlines()[1:-1]:
        assert line not in message
    assert "\n" not in message
    assert PATH in message
    return message


def test_a_valid_secret_parses_and_names_its_kafka_principal() -> None:
    cert = parse_secret(KAFKA_CLIENT_CERT, PATH, json.dumps(CLIENT.secret(CA.pem)))
    assert cert.principal == "User:CN=wms-connector-production,OU=cdc"
    assert cert.ca_pem() == CA.pem
    # The key store file: the key (PKCS#8), then the chain.
    keystore = cert.keystore_pem()
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----")
    assert keystore.endswith(CLIENT.certificate)
    assert "PRIVATE KEY" not in repr(cert) and "PRIVATE KEY" not in str(cert)


def test_a_traditional_key_is_accepted_and_written_as_pkcs8() -> None:
    issued = CA.issue(cn="trad", key_format=serialization.PrivateFormat.TraditionalOpenSSL)
    assert "BEGIN EC PRIVATE KEY" in issued.key
    cert = KafkaClientCert.parse(json.dumps(issued.secret()))
    assert cert.key_pem().startswith("-----BEGIN PRIVATE KEY-----")
    assert cert.ca_pem() is None


def test_a_key_of_another_certificate_is_refused() -> None:
    other = CA.issue(cn="someone-else")
    message = shape_error({"certificate": CLIENT.certificate, "privateKey": other.key})
    assert "does not belong to the first certificate" in message


def test_an_expired_certificate_is_refused_with_its_date_and_principal() -> None:
    now = datetime.now(UTC)
    old = CA.issue(cn="old", valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))
    message = shape_error(old.secret())
    assert "User:CN=old expired at" in message
    assert "issue or export a new one" in message


def test_a_certificate_not_valid_yet_is_refused() -> None:
    now = datetime.now(UTC)
    later = CA.issue(cn="later", valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=3))
    assert "is valid only from" in shape_error(later.secret())


def test_the_validity_is_judged_at_the_time_given() -> None:
    cert = KafkaClientCert.parse(json.dumps(CLIENT.secret()))
    assert cert.problem(datetime.now(UTC)) is None
    assert "expired" in (cert.problem(cert.not_after) or "")


def test_an_encrypted_key_is_refused_with_the_fix() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    message = shape_error({"certificate": CLIENT.certificate, "privateKey": encrypted})
    assert "encrypted" in message and "openssl pkey" in message


def test_a_key_type_kafka_cannot_load_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert "RSA, EC or DSA" in shape_error({"certificate": CLIENT.certificate, "privateKey": pem})


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ({"certificate": "not a pem", "privateKey": CLIENT.key}, "holds no PEM certificate"),
        (
            {
                "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "privateKey": CLIENT.key,
            },
            "certificate 1 is not a valid X.509 certificate",
        ),
        ({"certificate": CLIENT.certificate, "privateKey": "garbage"}, "is not a PEM-encoded private key"),
        ({"certificate": CLIENT.certificate}, "private_key"),
        ({"certificate": CLIENT.certificate, "privateKey": CLIENT.key, "caBundle": "x"}, "caBundle holds no"),
        ({"certificate": CLIENT.certificate, "privateKey": CLIENT.key, "extra": "x"}, "extra"),
    ],
    ids=["no-pem", "bad-cert", "bad-key", "no-key", "bad-ca", "unknown-field"],
)
def test_malformed_secrets_name_the_field_never_the_key(secret: dict[str, str], problem: str) -> None:
    assert problem in shape_error(secret)


def test_the_secret_is_optional_and_listed_with_the_others(tmp_path: object) -> None:
    assert KAFKA_CLIENT_CERT in ALL_SECRETS
    assert KAFKA_CLIENT_CERT.required is False
    from pathlib import Path

    file = Path(str(tmp_path)) / "secrets.json"
    file.write_text(json.dumps({"wms/default/kafkaClientCert": CLIENT.secret()}))
    [found] = [
        x for x in lookup_all(Stage("production"), FileSecretsBackend(file)) if x.name == "kafkaClientCert"
    ]
    assert found.path == "wms/default/kafkaClientCert"
    assert found.problem is None
    # Located by metadata only (the deploy role may run `secrets`): even a malformed one is not read.
    file.write_text(json.dumps({"wms/production/kafkaClientCert": "not even JSON"}))
    [found] = [
        x for x in lookup_all(Stage("production"), FileSecretsBackend(file)) if x.name == "kafkaClientCert"
    ]
    assert (found.path, found.problem) == ("wms/production/kafkaClientCert", None)
