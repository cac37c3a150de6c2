"""How a connector config names a secret, and where the worker finds it (pure).

The Connect worker resolves secrets with Kafka's ``DirectoryConfigProvider``: each file of one
directory is one secret, and a connector config names it ``${dir:<directory>:<file>}``. Nothing
else in the worker's reach is readable through it (``allowed.paths`` is that directory only).

In ECS the directory is a task volume that only two containers mount: a short-lived
``secrets`` container (ECS injects the password into *its* environment from Secrets Manager, it
writes the file with mode 0400 for the worker's user and exits) and the Connect container, read
only. The Connect container's environment never holds the password, so neither ``/proc/*/environ``
of the worker nor an ``env`` in an ECS Exec session shows it (docs/infrastructure.md, "Who can do
what"). The file is read when a connector (re)starts; a rotated password reaches the connector
with the next task (the redeploy Lambda starts one after every change of the secret).

The local cluster keeps Kafka's ``EnvVarConfigProvider`` for its workers (``${env:NAME}``, an
allowlist of the stand-in's and the local Oracle run's variables); production workers have no
environment provider at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DIRECTORY_CONFIG_PROVIDER: Final = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
ENV_CONFIG_PROVIDER: Final = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
#: The secrets directory in the image (runtime/Dockerfile creates it, owned by the worker's user,
#: mode 0700; in ECS a task volume is mounted over it). **Contract** with runtime/entrypoint.sh.
SECRETS_DIR: Final = "/opt/connect/secrets"
#: File names inside the secrets directory (runtime/entrypoint.sh ``write_secrets`` writes them).
ORACLE_PASSWORD_FILE: Final = "oracle-password"
STANDIN_PASSWORD_FILE: Final = "standin-password"
#: The environment variables the ``secrets`` container reads them from (runtime/entrypoint.sh).
SECRET_FILE_SOURCES: Final = (
    ("ORACLE_PASSWORD", ORACLE_PASSWORD_FILE),
    ("WMS_STANDIN_PASSWORD", STANDIN_PASSWORD_FILE),
)
#: The Kafka client certificate's directory (``kafka_auth = mtls``) in the image: a task volume of
#: its own (not the secrets directory), because the agent's Kafka clients (the hold topic) read it
#: too and the agent must never see the Oracle password. **Contract** with runtime/entrypoint.sh.
KAFKA_TLS_DIR: Final = "/opt/connect/kafka-tls"
#: Its files, written from the ``kafkaClientCert`` secret by ``wms-connector kafka-cert write``
#: (the secrets container's ``write-secrets``), each mode 0400: the Java clients read the key and
#: the chain from one PEM file (Kafka's ``ssl.keystore.type=PEM``), librdkafka reads the chain and
#: the key from two; the trust file holds the secret's CA bundle, or the system's when the secret
#: has none (MSK's Amazon-issued brokers).
KAFKA_KEYSTORE_FILE: Final = "kafka-client-keystore.pem"
KAFKA_CERT_FILE: Final = "kafka-client-cert.pem"
KAFKA_KEY_FILE: Final = "kafka-client-key.pem"
KAFKA_TRUST_FILE: Final = "kafka-ca.pem"
#: The secrets container's variable holding the whole ``kafkaClientCert`` secret (ECS injects it;
#: runtime/entrypoint.sh ``write_secrets`` hands it to ``wms-connector kafka-cert write``).
CLIENT_CERT_ENV: Final = "WMS_KAFKA_CLIENT_CERT"
#: The topics Lambda's variable naming the ``kafkaClientCert`` secret it reads itself (its name only).
CLIENT_CERT_SECRET_ENV: Final = "KAFKA_CLIENT_CERT_SECRET"
#: What a local worker's EnvVarConfigProvider may read: the stand-in's and a local Oracle run's.
LOCAL_ENV_ALLOWLIST: Final = r"^(ORACLE|WMS_STANDIN)_[A-Z0-9_]+$"


def env_placeholder(variable: str) -> str:
    """A Kafka ``EnvVarConfigProvider`` reference (local workers only)."""
    return "${env:" + variable + "}"


def dir_placeholder(file: str, directory: str = SECRETS_DIR) -> str:
    """A Kafka ``DirectoryConfigProvider`` reference: the worker reads ``directory/file``."""
    return "${dir:" + directory + ":" + file + "}"


@dataclass(frozen=True)
class ClientTlsFiles:
    """Where a Kafka client finds its certificate, key and trusted CAs (``kafka_auth = mtls``).

    Paths only, never PEM text: Kafka's config topic and the connector config hold these paths,
    and the files are read by the client that opens the connection."""

    directory: str = KAFKA_TLS_DIR

    def __post_init__(self) -> None:
        if not self.directory.startswith("/"):
            raise ValueError(f"the client certificate directory must be absolute, not {self.directory!r}")

    def _path(self, file: str) -> str:
        return f"{self.directory.rstrip('/')}/{file}"

    @property
    def keystore(self) -> str:
        return self._path(KAFKA_KEYSTORE_FILE)

    @property
    def certificate(self) -> str:
        return self._path(KAFKA_CERT_FILE)

    @property
    def key(self) -> str:
        return self._path(KAFKA_KEY_FILE)

    @property
    def trust(self) -> str:
        return self._path(KAFKA_TRUST_FILE)

    @property
    def files(self) -> tuple[str, ...]:
        return (KAFKA_KEYSTORE_FILE, KAFKA_CERT_FILE, KAFKA_KEY_FILE, KAFKA_TRUST_FILE)


#: The image's client certificate files (the Connect and agent containers mount the volume).
IMAGE_CLIENT_TLS: Final = ClientTlsFiles()


@dataclass(frozen=True)
class SecretSources:
    """Which config providers a worker enables. ``None`` leaves a provider out."""

    secrets_dir: str | None = SECRETS_DIR
    env_allowlist: str | None = None

    def __post_init__(self) -> None:
        if self.secrets_dir is None and self.env_allowlist is None:
            raise ValueError(
                "a worker needs at least one secret source (a secrets directory or an env allowlist)"
            )
        if self.secrets_dir is not None and not self.secrets_dir.startswith("/"):
            raise ValueError(f"the secrets directory must be an absolute path, not {self.secrets_dir!r}")

    def worker_properties(self) -> dict[str, str]:
        """The ``config.providers*`` properties of the worker."""
        providers: list[str] = []
        props: dict[str, str] = {}
        if self.secrets_dir is not None:
            providers.append("dir")
            props["config.providers.dir.class"] = DIRECTORY_CONFIG_PROVIDER
            props["config.providers.dir.param.allowed.paths"] = self.secrets_dir
        if self.env_allowlist is not None:
            providers.append("env")
            props["config.providers.env.class"] = ENV_CONFIG_PROVIDER
            props["config.providers.env.param.allowlist.pattern"] = self.env_allowlist
        return {"config.providers": ",".join(providers), **props}


#: Production workers (the image): the secrets directory only.
IMAGE_SECRET_SOURCES: Final = SecretSources()
#: Local workers: their environment, restricted to the local allowlist.
LOCAL_SECRET_SOURCES: Final = SecretSources(secrets_dir=None, env_allowlist=LOCAL_ENV_ALLOWLIST)
