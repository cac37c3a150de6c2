"""The mtls client files: written from the secret (0400, the key never printed), read by every client."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.certs import TestCa
from wms_connector.connect.secret_refs import ClientTlsFiles
from wms_connector.errors import InputError
from wms_connector.kafka.client import TLS_DIR_ENV, client_config, client_tls_files
from wms_connector.local.paths import repo_root
from wms_connector.secrets.client_cert import KafkaClientCert
from wms_connector.secrets.client_cert_files import write_client_tls_files
from wms_connector.stages import KafkaAuth

CA = TestCa()
CLIENT = CA.issue(cn="wms-connector-main", ou="cdc")
ENTRYPOINT = repo_root() / "runtime" / "entrypoint.sh"
#: The entrypoint calls `wms-connector`: the one of this interpreter's environment.
VENV_PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


def key_lines(pem: str) -> list[str]:
    return pem.strip().splitlines()[1:-1]


def test_the_files_are_owner_read_only_and_hold_what_kafka_reads(tmp_path: Path) -> None:
    cert = KafkaClientCert.parse(json.dumps(CLIENT.secret(CA.pem)))
    files = ClientTlsFiles(str(tmp_path))
    write_client_tls_files(cert, files)
    # A rotation replaces every file whole.
    written = write_client_tls_files(cert, files)
    assert written == (files.keystore, files.certificate, files.key, files.trust)
    for path in written:
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o400, path
    keystore = Path(files.keystore).read_text()
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----") and keystore.endswith(CLIENT.certificate)
    assert Path(files.certificate).read_text() == CLIENT.certificate
    assert Path(files.trust).read_text() == CA.pem


def test_without_a_ca_bundle_the_trust_file_is_the_systems(tmp_path: Path) -> None:
    system = tmp_path / "system.pem"
    system.write_text(CA.pem)
    out = tmp_path / "out"
    out.mkdir()
    cert = KafkaClientCert.parse(json.dumps(CLIENT.secret()))
    write_client_tls_files(cert, ClientTlsFiles(str(out)), trust_fallback=system)
    assert (out / "kafka-ca.pem").read_text() == CA.pem


def test_python_clients_name_the_files_and_refuse_missing_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="kafka-cert write"):
        client_tls_files({TLS_DIR_ENV: str(tmp_path)})
    write_client_tls_files(
        KafkaClientCert.parse(json.dumps(CLIENT.secret(CA.pem))), ClientTlsFiles(str(tmp_path))
    )
    files = client_tls_files({TLS_DIR_ENV: str(tmp_path)})
    config = client_config("b-1.msk:9094", KafkaAuth.MTLS, tls_files=files)
    assert config["security.protocol"] == "SSL"
    assert config["ssl.certificate.location"] == str(tmp_path / "kafka-client-cert.pem")
    assert config["ssl.key.location"] == str(tmp_path / "kafka-client-key.pem")
    assert config["ssl.ca.location"] == str(tmp_path / "kafka-ca.pem")
    # Locations only: librdkafka's inline ssl.key.pem / ssl.certificate.pem are never used.
    assert not any("BEGIN" in str(value) for value in config.values())
    assert "ssl.key.pem" not in config and "ssl.key.password" not in config


def _write_secrets(directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """write-secrets with ``directory/secrets`` and ``directory/tls`` (both created here)."""
    (directory / "secrets").mkdir()
    (directory / "tls").mkdir()
    full = {
        "PATH": VENV_PATH,
        "WMS_SECRETS_DIR": str(directory / "secrets"),
        "WMS_KAFKA_TLS_DIR": str(directory / "tls"),
        **env,
    }
    return subprocess.run(
        ["bash", str(ENTRYPOINT), "write-secrets"], env=full, capture_output=True, text=True, check=False
    )


def test_the_secrets_container_writes_the_certificate_files(tmp_path: Path) -> None:
    result = _write_secrets(tmp_path, {"WMS_KAFKA_CLIENT_CERT": json.dumps(CLIENT.secret(CA.pem))})
    assert result.returncode == 0, result.stderr
    # Its own volume: the agent mounts it, and must not see the secrets directory's password.
    assert list((tmp_path / "secrets").iterdir()) == []
    files = ClientTlsFiles(str(tmp_path / "tls"))
    for path in (files.keystore, files.certificate, files.key, files.trust):
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o400, path
    assert "User:CN=wms-connector-main,OU=cdc" in result.stdout
    for line in key_lines(CLIENT.key):
        assert line not in result.stdout + result.stderr


def test_an_expired_certificate_stops_the_secrets_container_in_one_line(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old = CA.issue(cn="old", valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=1))
    result = _write_secrets(tmp_path, {"WMS_KAFKA_CLIENT_CERT": json.dumps(old.secret())})
    assert result.returncode != 0
    [line] = [text for text in result.stderr.splitlines() if text.strip()]
    assert "expired" in line and "$WMS_KAFKA_CLIENT_CERT" in line
    for text in key_lines(old.key):
        assert text not in result.stdout + result.stderr
    assert list((tmp_path / "tls").iterdir()) == []


def test_the_worker_refuses_to_start_with_the_client_key_in_its_environment() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "WMS_STAGE": "main",
        "KAFKA_BOOTSTRAP_SERVERS": "b:9092",
        "WMS_KAFKA_CLIENT_CERT": json.dumps(CLIENT.secret()),
    }
    result = subprocess.run(["bash", str(ENTRYPOINT)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert "WMS_KAFKA_CLIENT_CERT" in line and "secrets container" in line
    assert "PRIVATE KEY" not in result.stderr


def test_the_topics_lambda_writes_the_certificate_to_its_tmp_and_points_its_clients_there(
    tmp_path: Path,
) -> None:
    from wms_connector.lambdas.topics import prepare_client_tls
    from wms_connector.secrets.store import FileSecretsBackend

    secrets = tmp_path / "secrets.json"
    now = datetime.now(UTC)
    old = CA.issue(cn="old", valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=1))
    secrets.write_text(
        json.dumps({"wms/s/kafkaClientCert": CLIENT.secret(CA.pem), "wms/s/oldCert": old.secret()})
    )
    backend = FileSecretsBackend(secrets)
    target = tmp_path / "tls"
    environ = {"KAFKA_AUTH": "mtls", "KAFKA_CLIENT_CERT_SECRET": "wms/s/kafkaClientCert"}
    assert prepare_client_tls(environ, backend, str(target)) is None
    assert environ[TLS_DIR_ENV] == str(target)
    assert client_tls_files(environ).certificate == str(target / "kafka-client-cert.pem")
    # iam: nothing to do; a missing or expired certificate: one line, no key, no files, no variable.
    assert prepare_client_tls({"KAFKA_AUTH": "iam"}, backend, str(tmp_path / "none")) is None
    for name, problem in (("wms/s/missing", "does not exist"), ("wms/s/oldCert", "expired")):
        env = {"KAFKA_AUTH": "mtls", "KAFKA_CLIENT_CERT_SECRET": name}
        said = prepare_client_tls(env, backend, str(tmp_path / "other"))
        assert said is not None and problem in said and "PRIVATE" not in said
        assert TLS_DIR_ENV not in env
    assert not (tmp_path / "none").exists()


def test_the_scheduled_audit_under_mtls_reads_the_certificate_into_a_private_directory(
    tmp_path: Path,
) -> None:
    """The audit task has no certificate volume: it reads the secret named by its environment with
    its own role, once per run, into a fresh owner-only directory."""
    from wms_connector.commands.audit import prepare_task_client_tls
    from wms_connector.secrets.store import FileSecretsBackend

    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"wms/s/kafkaClientCert": CLIENT.secret(CA.pem)}))
    backend = FileSecretsBackend(secrets)
    environ = {"KAFKA_CLIENT_CERT_SECRET": "wms/s/kafkaClientCert"}
    prepare_task_client_tls(lambda: backend, environ)
    directory = Path(environ[TLS_DIR_ENV])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = client_tls_files(environ)
    assert Path(files.key).read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(Path(files.key).stat().st_mode) == 0o400
    # A directory given already (the image's, an operator's) is used as it is: no secret is read.
    given = {"KAFKA_CLIENT_CERT_SECRET": "wms/s/kafkaClientCert", TLS_DIR_ENV: "/given"}
    prepare_task_client_tls(lambda: pytest.fail("no secret may be read"), given)
    assert given[TLS_DIR_ENV] == "/given"
    # A missing certificate: one line naming the secret, before any client starts.
    with pytest.raises(InputError, match="mtls: the client certificate secret 'wms/s/gone' does not exist"):
        prepare_task_client_tls(lambda: backend, {"KAFKA_CLIENT_CERT_SECRET": "wms/s/gone"})


def test_the_image_declares_the_certificate_directory_a_volume_owned_by_the_worker() -> None:
    """Fargate copies an image directory (owner uid 10001, 0700) into a task's bind mount only when
    the image declares it a VOLUME; otherwise the secrets container could not write there."""
    from wms_connector.connect.secret_refs import KAFKA_TLS_DIR
    from wms_connector.image.dockerfile import instructions

    text = (repo_root() / "runtime" / "Dockerfile").read_text()
    volumes = [json.loads(args) for word, args in instructions(text) if word == "VOLUME"]
    assert any(KAFKA_TLS_DIR in declared for declared in volumes)
    runs = " ".join(args for word, args in instructions(text) if word == "RUN")
    assert f"chown connect:connect /opt/connect/run /opt/connect/secrets {KAFKA_TLS_DIR}" in runs
    assert f"chmod 0700 /opt/connect/secrets {KAFKA_TLS_DIR}" in runs
