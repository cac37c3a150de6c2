"""Write a ``kafkaClientCert`` secret as the files Kafka clients read (``kafka_auth = mtls``).

Four files in one directory (names: :class:`~wms_connector.connect.secret_refs.ClientTlsFiles`),
each replaced, never appended to, and created with mode 0400 for the writing user (in the image:
the worker's user, uid 10001, the same user the Connect container runs as):

* the key store of the Java clients (Kafka's PEM key store: the key as unencrypted PKCS#8, then
  the chain), the chain and the key for librdkafka,
* the trusted CAs: the secret's ``caBundle``, or else the system's CA bundle (MSK's brokers
  present Amazon-issued certificates that it trusts), so every client names one trust file.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Final

from wms_connector.connect.secret_refs import ClientTlsFiles
from wms_connector.errors import InputError, WmsError
from wms_connector.secrets.client_cert import KafkaClientCert
from wms_connector.secrets.shapes import KAFKA_CLIENT_CERT
from wms_connector.secrets.store import SecretsBackend, parse_secret

FILE_MODE: Final = 0o400


def system_trust() -> Path:
    """The system's CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise InputError(
        "the kafkaClientCert secret has no caBundle and this system has no CA bundle to trust the brokers "
        "with; add the brokers' CA certificates to the secret as caBundle"
    )


def _write(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)


def write_client_tls_files(
    cert: KafkaClientCert, files: ClientTlsFiles, *, trust_fallback: Path | None = None
) -> tuple[str, ...]:
    """Write the four files of ``cert`` into ``files.directory``; return their paths."""
    directory = Path(files.directory)
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise InputError(f"{files.directory} is not a writable directory for the Kafka client certificate")
    trust = cert.ca_pem()
    if trust is None:
        trust = (trust_fallback or system_trust()).read_text(encoding="ascii", errors="ignore")
    written = (
        (files.keystore, cert.keystore_pem()),
        (files.certificate, cert.chain_pem()),
        (files.key, cert.key_pem()),
        (files.trust, trust),
    )
    for path, text in written:
        _write(Path(path), text)
    return tuple(path for path, _ in written)


def fetch_client_tls(path: str, backend: SecretsBackend, directory: str) -> str | None:
    """Read the ``kafkaClientCert`` secret at ``path`` with the caller's own rights (the topics
    Lambda's role, the audit task's role) and write its files into ``directory`` (created 0700).
    Returns a problem in one line (never the key), or None."""
    try:
        text = backend.fetch(path)
        if text is None:
            return f"the client certificate secret {path!r} does not exist"
        cert = parse_secret(KAFKA_CLIENT_CERT, path, text)
        Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
        write_client_tls_files(cert, ClientTlsFiles(directory))
    except WmsError as error:  # our own words: they name the rule and the path, never the key
        return str(error)
    return None
