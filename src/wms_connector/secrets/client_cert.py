"""``kafkaClientCert``: the Kafka client certificate of a stage (``kafka_auth = mtls``), pure.

The secret is JSON::

    {"certificate": "-----BEGIN CERTIFICATE-----...",   # the client's, then its intermediates
     "privateKey":  "-----BEGIN PRIVATE KEY-----...",   # unencrypted, PKCS#8 or traditional PEM
     "caBundle":    "-----BEGIN CERTIFICATE-----..."}   # optional: the brokers' CAs

An ACM certificate issued by a Private CA is exported into this shape (docs/infrastructure.md,
"Kafka client auth"). Validation happens once, here: every PEM parses, the key belongs to the
first certificate, the certificate is valid now, and the key is one Kafka's PEM key store loads
(RSA, EC or DSA). No message ever holds the key (it is a ``SecretStr``; errors name the field and
the rule only).

:attr:`KafkaClientCert.principal` is the name the broker's default SSL principal builder gives
the client (``User:`` and the subject in RFC 2253 form), the name every ACL of docs/stream.md is
granted to.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_PEM_CERT: Final = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
#: Where the key may be converted or decrypted (shown in errors, never the key).
KEY_FIX: Final = "openssl pkey -in KEY.pem -out plain-key.pem (it asks for the passphrase)"
#: The key types Kafka's PEM key store accepts (DefaultSslEngineFactory's KeyFactory list).
_KAFKA_KEY_TYPES: Final = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, dsa.DSAPrivateKey)
_PUBLIC_DER: Final = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class ClientCertError(ValueError):
    """A client certificate or key that Kafka would refuse. The message never holds the key."""


def pem_certificates(text: str, what: str) -> list[x509.Certificate]:
    """Every certificate of a PEM text, in order; a clear error when there is none or one is bad."""
    blocks = _PEM_CERT.findall(text)
    if not blocks:
        raise ClientCertError(f"{what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    found = []
    for index, block in enumerate(blocks, start=1):
        try:
            found.append(x509.load_pem_x509_certificate(block.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise ClientCertError(f"{what}: certificate {index} is not a valid X.509 certificate") from None
    return found


def load_private_key(text: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dsa.DSAPrivateKey:
    """The unencrypted private key of a PEM text (PKCS#8 or traditional). Never echoes the text."""
    if "ENCRYPTED PRIVATE KEY" in text or "Proc-Type: 4,ENCRYPTED" in text:
        raise ClientCertError(f"privateKey is encrypted; store it unencrypted in the secret: {KEY_FIX}")
    try:
        key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ClientCertError("privateKey is not a PEM-encoded private key (PKCS#8 or traditional)") from None
    if not isinstance(key, _KAFKA_KEY_TYPES):
        raise ClientCertError(
            f"privateKey is a {type(key).__name__.removeprefix('_')} key; Kafka's PEM key store loads RSA, "
            "EC or DSA keys only: issue the certificate for an RSA or EC key"
        )
    return key


def kafka_principal(certificate: x509.Certificate) -> str:
    """``User:<subject>`` as Kafka's default SSL principal builder names the client (RFC 2253:
    most specific first, e.g. ``User:CN=wms-connector-production,OU=cdc,O=Example``)."""
    return f"User:{certificate.subject.rfc4514_string()}"


class KafkaClientCert(BaseModel):
    """``kafkaClientCert``: the client certificate chain, its private key, and optionally the CAs."""

    # hide_input_in_errors: a ValidationError printed anywhere never shows the key.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, hide_input_in_errors=True)
    certificate: str = Field(
        min_length=1,
        validation_alias=AliasChoices("certificate", "certificateChain", "certificate_chain"),
        description="PEM: the client certificate first, then its intermediates (ACM's Certificate + "
        "CertificateChain)",
    )
    private_key: SecretStr = Field(validation_alias=AliasChoices("private_key", "privateKey", "key"))
    ca_bundle: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ca_bundle", "caBundle", "ca"),
        description="PEM: the CAs that sign the brokers' certificates (omit for MSK: the system's)",
    )

    @field_validator("certificate")
    @classmethod
    def _chain(cls, value: str) -> str:
        pem_certificates(value, "certificate")
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _cas(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            pem_certificates(value, "caBundle")
            return value
        return None

    @field_validator("private_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        load_private_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _usable(self) -> KafkaClientCert:
        problem = self.problem(datetime.now(UTC))
        if problem is not None:
            raise ClientCertError(problem)
        return self

    @property
    def chain(self) -> list[x509.Certificate]:
        return pem_certificates(self.certificate, "certificate")

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def principal(self) -> str:
        return kafka_principal(self.leaf)

    @property
    def not_after(self) -> datetime:
        return self.leaf.not_valid_after_utc

    def problem(self, now: datetime) -> str | None:
        """Why Kafka would refuse this pair at ``now``, or ``None``: the key must be the
        certificate's, and ``now`` within its validity."""
        key = load_private_key(self.private_key.get_secret_value())
        if key.public_key().public_bytes(*_PUBLIC_DER) != self.leaf.public_key().public_bytes(*_PUBLIC_DER):
            return (
                "privateKey does not belong to the first certificate of certificate (put the client's "
                "own certificate first, then its intermediates, and the key issued with it)"
            )
        if now >= self.leaf.not_valid_after_utc:
            return (
                f"the certificate of {self.principal} expired at {self.not_after:%Y-%m-%d %H:%M} UTC; "
                "issue or export a new one into the secret"
            )
        if now < self.leaf.not_valid_before_utc:
            return (
                f"the certificate of {self.principal} is valid only from "
                f"{self.leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (check the clock or the issuer)"
            )
        return None

    def keystore_pem(self) -> str:
        """What Kafka's PEM key store file holds: the key (unencrypted PKCS#8), then the chain."""
        return self.key_pem() + self.chain_pem()

    def key_pem(self) -> str:
        key = load_private_key(self.private_key.get_secret_value())
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    def chain_pem(self) -> str:
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in self.chain)

    def ca_pem(self) -> str | None:
        if self.ca_bundle is None:
            return None
        certs = pem_certificates(self.ca_bundle, "caBundle")
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)

    @classmethod
    def parse(cls, raw: str) -> KafkaClientCert:
        loaded: Any = json.loads(raw)
        if not isinstance(loaded, dict):
            raise ClientCertError(
                'must be a JSON object {"certificate": ..., "privateKey": ..., "caBundle": ...}'
            )
        return cls.model_validate(loaded)
