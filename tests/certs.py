"""A throwaway certificate authority for tests: a CA, a broker certificate, client certificates.

Made with ``cryptography`` inside the test (nothing checked in, nothing downloaded). EC P-256 keys:
fast to make, and a type Kafka's PEM key store loads.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _pem_key(key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _pem_cert(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM."""

    certificate: str
    key: str

    def secret(self, ca: str | None = None) -> dict[str, str]:
        """The ``kafkaClientCert`` secret's JSON object."""
        return {"certificate": self.certificate, "privateKey": self.key} | ({"caBundle": ca} if ca else {})


class TestCa:
    """One self-signed CA that issues leaf certificates."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str = "wms-test-ca") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> str:
        return _pem_cert(self.certificate)

    def issue(
        self,
        *,
        cn: str,
        ou: str | None = None,
        ip: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        key_format: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        # Conventional order (most general first in the DER): Kafka's RFC 2253 name reverses it.
        attributes = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou)] if ou else []
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from or now - timedelta(hours=1))
            .not_valid_after(valid_until or now + timedelta(days=1))
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False,
            )
        )
        if ip:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(_pem_cert(cert), _pem_key(key, key_format))
