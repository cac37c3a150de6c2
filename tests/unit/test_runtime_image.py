"""The image definition: same versions as the local runtime, linted, and its entrypoint's IP lookup.

These read the Dockerfile as text (ARG defaults resolved) for what a build cannot show: it takes
every jar from runtime/pom.xml (the file the local runtime resolves), pins its base images and
downloads nothing at container start. The image itself is built and run for real in
tests/integration/test_image.py.
"""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from wms_connector.connect.rest_auth import CREDENTIALS_FILE, JAAS_SECTION, LOGIN_MODULE, RestCredential
from wms_connector.connect.secret_refs import (
    ORACLE_PASSWORD_FILE,
    SECRET_FILE_SOURCES,
    SECRETS_DIR,
    STANDIN_PASSWORD_FILE,
)
from wms_connector.image.dockerfile import arg_defaults, base_images, instructions
from wms_connector.local.fetch import required_files
from wms_connector.local.paths import repo_root
from wms_connector.local.pom import pinned_versions
from wms_connector.secrets.shapes import unwrap_password

ROOT = repo_root()
DOCKERFILE = ROOT / "runtime" / "Dockerfile"
ENTRYPOINT = ROOT / "runtime" / "entrypoint.sh"
POM = ROOT / "runtime" / "pom.xml"
FAILURE_TEXTS = ROOT / "tests" / "fixtures" / "oracle" / "failure_texts.json"
METADATA = Path(__file__).parent.parent / "data" / "ecs_container_metadata_v4.json"


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines()]


def _mentions(line: str, name: str, version: str) -> bool:
    """A line names a pinned version when it holds the version and the artifact's family word.

    Short versions are common (Python packages share them), so a bare number is no Java pin; the
    version beside the artifact's family word (kafka, debezium, jmx, ...) is.
    """
    family = re.split(r"[-.]", name)[0].lower()
    return bool(re.search(rf"(?<![\w.]){re.escape(version)}(?![\w.])", line)) and family in line.lower()


def test_no_file_but_the_pom_names_a_pinned_version() -> None:
    versions = pinned_versions(POM.read_text())
    offenders = []
    for path in _tracked_files():
        # constraints.txt pins Python packages (name==version); a coincidence there is no Java pin.
        # failure_texts.json records which versions its texts were read in, and
        # tests/unit/test_failure_texts.py fails when those differ from the pom's: an attestation.
        if path in (POM, FAILURE_TEXTS) or path.name == "constraints.txt" or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            offenders += [
                f"{path.relative_to(ROOT)}:{number} names {name} {version}"
                for name, version in versions.items()
                if _mentions(line, name, version)
            ]
    assert offenders == []


def test_the_version_check_catches_a_pin_elsewhere() -> None:
    assert _mentions("FROM x with Kafka 9.8.7 inside", "kafka.version", "9.8.7")
    assert not _mentions('"some-python-package>=9.8.7,<10",', "jmx-exporter.version", "9.8.7")
    assert not _mentions("kafka 9.8.70", "kafka.version", "9.8.7")


def test_the_image_resolves_the_same_pom_into_the_same_layout() -> None:
    steps = instructions(DOCKERFILE.read_text())
    runs = [args for word, args in steps if word == "RUN"]
    maven = [r for r in runs if r.startswith("mvn ")]
    assert len(maven) == 1
    assert "-f runtime/pom.xml package" in maven[0]
    assert "-Druntime.dir=/out" in maven[0]
    assert ("COPY", "runtime/pom.xml runtime/pom.xml") in steps
    copies = {args for word, args in steps if word == "COPY"}
    # The production subset of the layout the local runtime uses (required_files names it).
    layout_dirs = {name.split("/")[0] for name in required_files(pinned_versions(POM.read_text()))}
    for directory in sorted(layout_dirs):
        assert any(f"--from=jars /out/{directory} " in c for c in copies), directory
    # Local-only plugins stay out of the image.
    assert "/out/plugins/debezium-connector-postgres" in maven[0] and "rm -rf" in maven[0]


def test_base_images_are_pinned_by_tag() -> None:
    text = DOCKERFILE.read_text()
    # The bases are ARGs (make image may pass local Debian stand-ins); their defaults are the pins.
    assert set(arg_defaults(text)) >= {"BUILD_IMAGE", "PYTHON_IMAGE"}
    external = base_images(text)
    assert len(external) == 2
    for image in external:
        assert "$" not in image, f"{image}: an ARG without a default"
        _, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), (
            f"{image} is not pinned to a version tag"
        )


def test_no_syntax_directive_pulls_a_frontend() -> None:
    # `# syntax=` makes BuildKit fetch its frontend from Docker Hub even when every base is local.
    assert not re.search(r"^#\s*syntax\s*=", DOCKERFILE.read_text(), re.MULTILINE | re.IGNORECASE)


def test_the_final_path_has_the_sbin_directories() -> None:
    # groupadd/useradd live in /usr/sbin on every Debian base: a PATH without it fails the build.
    env = [args for word, args in instructions(DOCKERFILE.read_text()) if word == "ENV" and "PATH=" in args]
    [path] = [part.split("=", 1)[1] for part in env[-1].split() if part.startswith("PATH=")]
    assert {"/usr/sbin", "/usr/bin", "/bin"} <= set(path.split(":"))


def test_the_image_runs_as_a_non_root_user() -> None:
    steps = instructions(DOCKERFILE.read_text())
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    users = [args for word, args in steps[last_from:] if word == "USER"]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    entry = [args for word, args in steps if word == "ENTRYPOINT"]
    assert entry and entry[-1].startswith("["), "ENTRYPOINT must be exec form (signals reach the JVM)"


def test_nothing_is_piped_into_a_shell_or_downloaded_at_start() -> None:
    dockerfile = DOCKERFILE.read_text()
    assert not re.search(r"(curl|wget)[^\n|]*\|\s*(ba)?sh", dockerfile)
    assert "ADD http" not in dockerfile
    entry = ENTRYPOINT.read_text()
    code = "\n".join(line for line in entry.splitlines() if not line.lstrip().startswith("#"))
    for tool in ("curl", "wget", "mvn", "pip ", "apt-get", "git "):
        assert tool not in code, f"the entrypoint runs {tool!r}: everything must be in the image"
    assert re.search(r"^\s*exec java ", code, re.MULTILINE), "the JVM must replace the shell (exec)"


def _bash(script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"source {ENTRYPOINT} && {script}"],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_entrypoint_reads_the_task_ip_from_ecs_metadata() -> None:
    result = _bash("task_ip", METADATA.read_text())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "10.0.2.106\n"


@pytest.mark.parametrize(
    "document", ['{"Networks": []}', "{}", "not json", '{"Networks": [{"IPv4Addresses": []}]}']
)
def test_the_entrypoint_refuses_metadata_without_an_ip(document: str) -> None:
    result = _bash("task_ip", document)
    assert result.returncode != 0
    assert "Networks[0].IPv4Addresses[0]" in result.stderr


def test_an_explicit_host_skips_the_metadata_lookup() -> None:
    result = _bash("WMS_ADVERTISED_HOST=10.9.8.7 advertised_host")
    assert result.stdout == "10.9.8.7\n"


def test_neither_metadata_nor_an_explicit_host_is_one_clear_error() -> None:
    outside = _bash("unset ECS_CONTAINER_METADATA_URI_V4 WMS_ADVERTISED_HOST; advertised_host")
    assert outside.returncode != 0
    [line] = outside.stderr.splitlines()
    assert "neither ECS_CONTAINER_METADATA_URI_V4" in line and "set WMS_ADVERTISED_HOST" in line
    assert outside.stdout == ""


def test_an_unreachable_metadata_endpoint_is_one_clear_error() -> None:
    from wms_connector.local.procs import free_port

    url = f"http://127.0.0.1:{free_port()}/v4/x"
    result = _bash(f"unset WMS_ADVERTISED_HOST; ECS_CONTAINER_METADATA_URI_V4={url} advertised_host")
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("entrypoint: cannot read the task metadata") and "Traceback" not in result.stderr


def test_the_whole_entrypoint_stops_at_that_one_error(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "WMS_STAGE": "main",
        "KAFKA_BOOTSTRAP_SERVERS": "b:9092",
        "WMS_SECRETS_DIR": str(tmp_path),
    }
    result = subprocess.run(["bash", str(ENTRYPOINT)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "entrypoint: neither ECS_CONTAINER_METADATA_URI_V4 (set by ECS) nor WMS_ADVERTISED_HOST is set: "
        "outside ECS, set WMS_ADVERTISED_HOST to the address other workers reach this one at"
    ]


def _write_secrets(directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {"PATH": "/usr/bin:/bin", "WMS_SECRETS_DIR": str(directory), **env}
    return subprocess.run(
        ["bash", str(ENTRYPOINT), "write-secrets"], env=full, capture_output=True, text=True, check=False
    )


def test_write_secrets_writes_each_password_to_its_own_owner_only_file(tmp_path: Path) -> None:
    password = "pw with spaces, \\ backslash, 'quotes' and\nnewline"
    first = _write_secrets(tmp_path, {"ORACLE_PASSWORD": "old-one-that-is-longer-than-the-new"})
    assert first.returncode == 0, first.stderr
    again = _write_secrets(tmp_path, {"ORACLE_PASSWORD": password, "WMS_STANDIN_PASSWORD": "stand-in"})
    assert again.returncode == 0, again.stderr
    oracle, standin = tmp_path / ORACLE_PASSWORD_FILE, tmp_path / STANDIN_PASSWORD_FILE
    # Replaced whole (a rotation), byte for byte: the DirectoryConfigProvider reads the file as is.
    assert oracle.read_text() == password and standin.read_text() == "stand-in"
    assert {stat.S_IMODE(oracle.stat().st_mode), stat.S_IMODE(standin.stat().st_mode)} == {0o400}
    assert password not in first.stderr + again.stderr + again.stdout


def test_write_secrets_with_nothing_to_write_or_nowhere_to_write_is_one_clear_error(tmp_path: Path) -> None:
    nothing = _write_secrets(tmp_path, {})
    assert nothing.returncode != 0
    [line] = nothing.stderr.splitlines()
    assert "none of ORACLE_PASSWORD WMS_STANDIN_PASSWORD is set" in line
    nowhere = _write_secrets(tmp_path / "missing", {"ORACLE_PASSWORD": "x" * 12})
    assert nowhere.returncode != 0
    assert "is not a writable directory" in nowhere.stderr and "x" * 12 not in nowhere.stderr


def test_write_secrets_writes_the_rest_credentials_file_and_refuses_unsafe_values(tmp_path: Path) -> None:
    good = _write_secrets(tmp_path, {"WMS_REST_USER": "wms-connect", "WMS_REST_PASSWORD": "Abc123xyz"})
    assert good.returncode == 0, good.stderr
    written = tmp_path / CREDENTIALS_FILE
    assert written.read_text() == RestCredential("wms-connect", SecretStr("Abc123xyz")).properties_line()
    assert stat.S_IMODE(written.stat().st_mode) == 0o400
    for env in ({"WMS_REST_USER": "wms-connect"}, {"WMS_REST_USER": "a", "WMS_REST_PASSWORD": "has=equals"}):
        bad = _write_secrets(tmp_path, env)
        assert bad.returncode != 0
        assert "must both be set" in bad.stderr and "has=equals" not in bad.stderr


def test_the_file_names_agree_with_the_connector_placeholders() -> None:
    code = ENTRYPOINT.read_text()
    for variable, file in SECRET_FILE_SOURCES:
        assert f"{variable}:{file}" in code
    assert '"${WMS_SECRETS_DIR:-$CONNECT_HOME/secrets}"' in code
    assert f"REST_CREDENTIALS_FILE={CREDENTIALS_FILE}\n" in code
    assert LOGIN_MODULE in code and JAAS_SECTION in code
    assert SECRETS_DIR == "/opt/connect/secrets"  # CONNECT_HOME=/opt/connect in the image


def test_a_worker_without_its_secrets_directory_is_one_clear_error(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "WMS_STAGE": "main",
        "KAFKA_BOOTSTRAP_SERVERS": "b:9092",
        "WMS_SECRETS_DIR": str(tmp_path / "none"),
    }
    result = subprocess.run(["bash", str(ENTRYPOINT)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert "does not exist; mount the task's secrets volume there" in line


def test_the_worker_refuses_to_start_with_the_password_in_its_environment() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "WMS_STAGE": "main",
        "KAFKA_BOOTSTRAP_SERVERS": "b:9092",
        "ORACLE_PASSWORD": "never-printed-42",
    }
    result = subprocess.run(["bash", str(ENTRYPOINT)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert "ORACLE_PASSWORD is set in the worker's environment" in line
    assert "never-printed-42" not in result.stderr


def test_the_metrics_exporter_listens_on_loopback_by_default() -> None:
    assert 'JMX_EXPORTER_PORT="${JMX_EXPORTER_PORT:-127.0.0.1:9404}"' in ENTRYPOINT.read_text()
    assert not [
        args for word, args in instructions(DOCKERFILE.read_text()) if word == "EXPOSE" and "9404" in args
    ]


#: MBean attributes as the JMX exporter renders them before matching (domain<props><>attr: value).
BEANS = {
    "debezium.oracle<type=connector-metrics, context=streaming, server=--wms--it--wms>"
    "<>MilliSecondsBehindSource": (
        "debezium_metrics_MilliSecondsBehindSource",
        {"plugin": "oracle", "context": "streaming", "server": "--wms--it--wms"},
    ),
    "debezium.oracle<type=connector-metrics, context=snapshot, server=wms><>SnapshotCompleted": (
        "debezium_metrics_SnapshotCompleted",
        {"plugin": "oracle", "context": "snapshot", "server": "wms"},
    ),
    "kafka.connect<type=connector-metrics, connector=wms-connector-main-oracle><>status: running": (
        "kafka_connect_connector_status",
        {"connector": "wms-connector-main-oracle", "status": "running"},
    ),
    "kafka.connect<type=connector-task-metrics, connector=wms-connector-main-oracle, task=0>"
    "<>status: failed": (
        "kafka_connect_connector_task_status",
        {"connector": "wms-connector-main-oracle", "task": "0", "status": "failed"},
    ),
    "kafka.connect<type=source-task-metrics, connector=c, task=0><>source-record-poll-rate": (
        "kafka_connect_source-task-metrics_source-record-poll-rate",
        {"connector": "c", "task": "0"},
    ),
    "kafka.connect<type=connect-worker-rebalance-metrics><>time-since-last-rebalance-ms": (
        "kafka_connect_connect-worker-rebalance-metrics_time-since-last-rebalance-ms",
        {},
    ),
    "kafka.producer<type=producer-metrics, client-id=connector-producer-c-0><>txn-commit-time-ns-total": (
        "kafka_producer_txn-commit-time-ns-total",
        {"client_id": "connector-producer-c-0"},
    ),
}


@pytest.mark.parametrize(("bean", "expected"), list(BEANS.items()))
def test_jmx_rules_match_debezium_oracle_and_connect_beans(
    bean: str, expected: tuple[str, dict[str, str]]
) -> None:
    rules = yaml.safe_load((ROOT / "runtime" / "jmx-exporter.yaml").read_text())["rules"]
    for rule in rules:
        match = re.compile(rule["pattern"]).fullmatch(bean)
        if match is None:
            continue
        name = match.expand(rule["name"].replace("$", "\\"))
        labels = {k: match.expand(v.replace("$", "\\")) for k, v in rule.get("labels", {}).items()}
        assert (name, labels) == expected
        return
    pytest.fail(f"no rule matches {bean}")


@pytest.mark.parametrize(
    "injected",
    [
        "plain-password",
        '{"password": "from-json"}',
        "{not json, a password that starts with a brace",
        '  {"password": " spaces kept "}',
        "pw with spaces, \\ backslash and\nnewline",
    ],
)
def test_write_secrets_unwraps_db_password_as_the_python_side_does(tmp_path: Path, injected: str) -> None:
    # ECS injects dbPassword whole (synth never reads it); both sides apply one rule.
    result = _write_secrets(tmp_path, {"ORACLE_PASSWORD": injected})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ORACLE_PASSWORD_FILE).read_text() == unwrap_password(injected)
    assert unwrap_password(injected) not in result.stderr


@pytest.mark.parametrize("injected", ['{"password": "x", "user": "u"}', '{"pass": "secret-value-1"}', "[1]"])
def test_write_secrets_refuses_a_json_object_of_another_shape_without_showing_it(
    tmp_path: Path, injected: str
) -> None:
    result = _write_secrets(tmp_path, {"ORACLE_PASSWORD": injected})
    if injected == "[1]":  # not an object: a (strange) plain password
        assert result.returncode == 0
        return
    assert result.returncode != 0
    assert "without the one key password" in result.stderr and "secret-value-1" not in result.stderr
    assert not (tmp_path / ORACLE_PASSWORD_FILE).exists()
    with pytest.raises(ValueError, match="that one key"):
        unwrap_password(injected)
