"""librdkafka (confluent-kafka) client settings for a stage's Kafka auth.

* ``tls``: ``security.protocol=SSL`` against MSK's TLS listener (port 9094); the broker
  certificate is checked against the system CA store (``ssl.ca.location=probe``).
* ``iam``: ``SASL_SSL`` with ``OAUTHBEARER`` against MSK's IAM listener (port 9098). The token is
  a SigV4-signed URL made by AWS's ``aws-msk-iam-sasl-signer-python`` from the default credential
  chain (the Lambda's or task's role); librdkafka asks for a fresh one before it expires.
* ``mtls``: ``security.protocol=SSL`` with a client certificate: librdkafka reads the chain, the
  key and the trusted CAs from the files ``wms-connector kafka-cert write`` (or the task's secrets
  container) wrote from the ``kafkaClientCert`` secret, in ``WMS_KAFKA_TLS_DIR`` (default: the
  image's secrets directory). Paths only: the key never enters the config dict.
* ``plaintext``: the local runtime only. Refused unless every bootstrap host is a loopback
  address, so a mis-set auth can never send unencrypted traffic to a real cluster. It is also
  the default (:func:`default_auth`) when every bootstrap host is a loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from wms_connector.connect.secret_refs import IMAGE_CLIENT_TLS, ClientTlsFiles
from wms_connector.errors import InputError, WmsError
from wms_connector.kafka.bootstrap import parse_bootstrap
from wms_connector.stages import KafkaAuth

#: librdkafka's client id for everything this repository's admin code opens.
CLIENT_ID: Final = "wms-connector-topics"
_LOCAL_HOSTS: Final = frozenset({"localhost"})
#: librdkafka's own log lines (hundreds of "FAIL" lines for an unreachable broker) go here and
#: nowhere else: the outcome reaches a person as one error, not as the client's chatter.
LIBRDKAFKA_LOG: Final = logging.getLogger("wms_connector.librdkafka")
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())
LIBRDKAFKA_LOG.propagate = False
#: Where a Python client finds the ``mtls`` files (written by ``wms-connector kafka-cert write``).
TLS_DIR_ENV: Final = "WMS_KAFKA_TLS_DIR"
#: Seconds to wait for a TCP connection to a broker before calling the bootstrap unreachable.
PROBE_TIMEOUT_S: Final = 3.0


class BrokerUnreachableError(WmsError):
    """No broker of the bootstrap list accepts a TCP connection."""


def require_reachable(bootstrap: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail in one line, within ``timeout_s`` per broker, when no broker accepts a connection
    (instead of librdkafka retrying for its whole timeout)."""
    reasons = []
    for broker in parse_bootstrap(bootstrap):
        try:
            with socket.create_connection((broker.host, broker.port), timeout=timeout_s):
                return
        except OSError as error:
            reasons.append(f"{broker}: {error.strerror or type(error).__name__}")
    raise BrokerUnreachableError(
        f"no broker of {bootstrap} accepts a connection ({'; '.join(reasons)}); "
        "is the cluster running, and is this machine allowed to reach it?"
    )


def bootstrap_hosts(bootstrap: str) -> list[str]:
    """The host part of every ``host:port`` in a comma-separated bootstrap string."""
    hosts = []
    for raw in bootstrap.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry.startswith("["):  # [::1]:9092
            hosts.append(entry[1 : entry.find("]")])
        else:
            hosts.append(entry.rsplit(":", 1)[0] if ":" in entry else entry)
    if not hosts:
        raise InputError(f"bootstrap {bootstrap!r} names no broker; give host:port[,host:port...]")
    return hosts


def is_loopback(host: str) -> bool:
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_auth(configured: KafkaAuth, bootstrap: str) -> KafkaAuth:
    """The auth to use when none is given: plaintext when every broker is on loopback (the local
    runtime), else the stage's configured auth."""
    if all(is_loopback(host) for host in bootstrap_hosts(bootstrap)):
        return KafkaAuth.PLAINTEXT
    return configured


def msk_iam_token(region: str) -> tuple[str, float]:
    """A fresh MSK IAM auth token and its expiry (seconds since the epoch), as librdkafka wants."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    return str(token), float(expiry_ms) / 1000.0


def client_tls_files(environ: Mapping[str, str] = os.environ) -> ClientTlsFiles:
    """The ``mtls`` files of this process: ``WMS_KAFKA_TLS_DIR``, else the image's secrets directory.
    Refused in one line when a file is missing (before librdkafka's own, vaguer error)."""
    chosen = environ.get(TLS_DIR_ENV)
    try:
        files = ClientTlsFiles(str(Path(chosen).expanduser().resolve())) if chosen else IMAGE_CLIENT_TLS
    except ValueError as error:
        raise InputError(f"{TLS_DIR_ENV}: {error}") from None
    missing = [p for p in (files.certificate, files.key, files.trust) if not Path(p).is_file()]
    if missing:
        raise InputError(
            f"mtls Kafka auth needs the client certificate files, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing; write them from the kafkaClientCert secret "
            f"with `wms-connector kafka-cert write --stage STAGE --dir DIR` and set {TLS_DIR_ENV}=DIR"
        )
    return files


def client_config(
    bootstrap: str,
    auth: KafkaAuth,
    *,
    region: str | None = None,
    token_source: Callable[[str], tuple[str, float]] = msk_iam_token,
    tls_files: ClientTlsFiles | None = None,
) -> dict[str, Any]:
    """The confluent-kafka config for an admin client of ``bootstrap`` with ``auth``."""
    hosts = bootstrap_hosts(bootstrap)
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "client.id": CLIENT_ID,
        "logger": LIBRDKAFKA_LOG,
    }
    if auth is KafkaAuth.PLAINTEXT:
        remote = [host for host in hosts if not is_loopback(host)]
        if remote:
            raise InputError(
                f"plaintext Kafka auth is for the local runtime only, but the bootstrap names "
                f"{', '.join(remote)}; use --auth iam or --auth mtls for MSK"
            )
        config["security.protocol"] = "PLAINTEXT"
    elif auth is KafkaAuth.TLS:
        config |= {"security.protocol": "SSL", "ssl.ca.location": "probe"}
    elif auth is KafkaAuth.MTLS:
        files = tls_files if tls_files is not None else client_tls_files()
        config |= {
            "security.protocol": "SSL",
            "ssl.certificate.location": files.certificate,
            "ssl.key.location": files.key,
            "ssl.ca.location": files.trust,
        }
    else:
        if not region:
            raise InputError("MSK IAM auth needs the cluster's AWS region: pass --region or set AWS_REGION")
        iam_region = region

        def oauth_cb(_config: str) -> tuple[str, float]:
            return token_source(iam_region)

        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "OAUTHBEARER",
            "ssl.ca.location": "probe",
            "oauth_cb": oauth_cb,
        }
    return config
