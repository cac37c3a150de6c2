"""Kafka client auth in the template (issue 23): the client certificate reaches the secrets container
only, through the execution role; no PEM in any template; unauthenticated TLS is warned about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import (
    MTLS_CLIENT,
    MTLS_VARIANT,
    STAGES,
    TARGET,
    Synthesized,
    placeholder_bundle,
    placeholder_image_context,
)
from tests.infra.helpers import as_list, connector, flatten, statements
from wms_connector.connect.secret_refs import (
    CLIENT_CERT_ENV,
    CLIENT_CERT_SECRET_ENV,
    KAFKA_TLS_DIR,
    SECRETS_DIR,
)
from wms_connector.errors import InputError
from wms_connector.infra.inputs import load_inputs
from wms_connector.naming import names_for
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE, FileSecretsBackend
from wms_connector.stages import KafkaAuth, Stage, settings_for

CERT_PATH = f"wms/{MTLS_VARIANT}/kafkaClientCert"
CERT_ARN = f"arn:aws:secretsmanager:{TARGET.region}:{TARGET.account}:secret:{CERT_PATH}"


def _containers(synthesized: Synthesized, stage: str, family: str | None = None) -> dict[str, dict[str, Any]]:
    family = family or names_for(Stage(stage)).task_family
    tasks = connector(synthesized, stage).find_resources("AWS::ECS::TaskDefinition").values()
    (task,) = [t for t in tasks if t["Properties"].get("Family") == family]
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def _refs_to_cert(value: Any) -> list[Any]:
    return [value] if "kafkaClientCert" in json.dumps(value) else []


def test_the_certificate_reaches_only_the_secrets_container_and_only_by_reference(
    synthesized: Synthesized,
) -> None:
    names = names_for(Stage(MTLS_VARIANT))
    containers = _containers(synthesized, MTLS_VARIANT)
    writer = containers[names.secrets_container]
    certs = [s for s in writer["Secrets"] if s["Name"] == CLIENT_CERT_ENV]
    assert [flatten(s["ValueFrom"]) for s in certs] == [CERT_ARN]  # the whole secret, by its name
    for name in (names.connect_container, names.agent_container):
        container = containers[name]
        assert not _refs_to_cert(container.get("Secrets", [])), name
        assert not [e for e in container.get("Environment", []) if e["Name"] == CLIENT_CERT_ENV], name


def test_the_certificate_volume_is_written_by_the_secrets_container_and_read_by_worker_and_agent(
    synthesized: Synthesized,
) -> None:
    names = names_for(Stage(MTLS_VARIANT))
    containers = _containers(synthesized, MTLS_VARIANT)
    mounts = {
        name: [(m["ContainerPath"], m["ReadOnly"]) for m in c.get("MountPoints", [])]
        for name, c in containers.items()
    }
    assert (KAFKA_TLS_DIR, False) in mounts[names.secrets_container]
    assert (KAFKA_TLS_DIR, True) in mounts[names.connect_container]
    assert (KAFKA_TLS_DIR, True) in mounts[names.agent_container]
    # The agent still never mounts the password's volume.
    assert not [path for path, _ in mounts[names.agent_container] if path == SECRETS_DIR]
    # The agent starts after the worker, which starts after the writer succeeded.
    worker = containers[names.connect_container]
    assert {"ContainerName": names.secrets_container, "Condition": "SUCCESS"} in worker["DependsOn"]


def test_only_the_execution_role_and_the_topics_lambda_may_read_the_certificate(
    synthesized: Synthesized,
) -> None:
    names = names_for(Stage(MTLS_VARIANT))
    template = synthesized.template(names.connector_stack)
    roles = {
        logical: r["Properties"].get("RoleName")
        for logical, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
    }
    readers = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if any(CERT_PATH in flatten(r) for r in as_list(statement["Resource"])):
                assert "secretsmanager:GetSecretValue" in as_list(statement["Action"])
                readers |= {roles[ref["Ref"]] for ref in resource["Properties"]["Roles"]}
    # The Connect task's role (every container of that task) never: only ECS, the topics Lambda,
    # and the scheduled audit's own task (no Exec, no other container), which reads it when it runs.
    assert readers == {names.execution_role, names.topics_role, names.audit_task_role}
    audit = _containers(synthesized, MTLS_VARIANT, names.audit_task_family)[names.audit_container]
    assert {"Name": CLIENT_CERT_SECRET_ENV, "Value": CERT_PATH} in audit["Environment"]
    functions = connector(synthesized, MTLS_VARIANT).find_resources("AWS::Lambda::Function").values()
    [topics] = [f for f in functions if f["Properties"].get("FunctionName") == names.topics_function]
    env = topics["Properties"]["Environment"]["Variables"]
    assert env["KAFKA_AUTH"] == "mtls"
    assert env[CLIENT_CERT_SECRET_ENV] == CERT_PATH


def test_no_template_of_any_stage_holds_pem_or_the_key(synthesized: Synthesized) -> None:
    key_lines = MTLS_CLIENT.key.strip().splitlines()[1:-1]
    for path in synthesized.templates.values():
        text = Path(path).read_text()
        assert "-----BEGIN" not in text, path
        assert not [line for line in key_lines if line in text], path
    # Stages without mtls name no certificate at all.
    for stage in STAGES:
        assert "kafkaClientCert" not in synthesized.template(names_for(Stage(stage)).connector_stack)


def test_the_mtls_stage_has_no_iam_grant_and_its_clients_present_the_certificate(
    synthesized: Synthesized,
) -> None:
    raw = synthesized.template(names_for(Stage(MTLS_VARIANT)).connector_stack)
    assert not [s for s in statements(raw) if any("kafka-cluster:" in a for a in as_list(s["Action"]))]
    assert synthesized.inputs[MTLS_VARIANT].kafka_client_cert == CERT_PATH
    assert synthesized.inputs[MTLS_VARIANT].warnings == ()


# -- load_inputs, without synth --------------------------------------------------------------------


def _load(tmp_path: Path, stage: str, auth: KafkaAuth, secrets: dict[str, Any] | None = None) -> Any:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text()) | (secrets or {})
    tmp_path.mkdir(parents=True, exist_ok=True)
    file = tmp_path / "secrets.json"
    file.write_text(json.dumps(data))
    parsed = Stage(stage)
    return load_inputs(
        parsed,
        FileSecretsBackend(file),
        TARGET,
        image_context=placeholder_image_context(tmp_path),
        lambda_bundle_dir=placeholder_bundle(tmp_path),
        settings=settings_for(parsed).model_copy(update={"kafka_auth": auth}),
    )


@pytest.mark.parametrize("stage", ["production", "feature-y"])
def test_unauthenticated_tls_is_a_synth_warning_naming_the_risk(tmp_path: Path, stage: str) -> None:
    inputs = _load(tmp_path, stage, KafkaAuth.TLS)
    [warning] = [w for w in inputs.warnings if "kafka_auth=tls" in w]
    assert "must allow unauthenticated clients" in warning
    assert "can read and write every topic" in warning
    assert "iam" in warning and "mtls" in warning


def test_an_mtls_stage_without_its_certificate_is_refused_before_synth(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="kafka_auth=mtls but no kafkaClientCert secret exists at"):
        _load(tmp_path, "feature-y", KafkaAuth.MTLS)


def test_an_mtls_stage_finds_the_default_certificate_without_reading_it(tmp_path: Path) -> None:
    # Not even parseable: synth never reads the value, so it cannot judge it (the secrets container does).
    inputs = _load(tmp_path, "feature-y", KafkaAuth.MTLS, {"wms/default/kafkaClientCert": "not read"})
    assert inputs.kafka_client_cert == "wms/default/kafkaClientCert"


def test_a_named_mtls_stage_has_no_iam_scope_warning(tmp_path: Path) -> None:
    # No IAM grant exists under mtls, so mskClusterArn scopes nothing: only the IAM stage is warned.
    cert = {"wms/default/kafkaClientCert": "not read"}
    assert _load(tmp_path / "mtls", "production", KafkaAuth.MTLS, cert).warnings == ()
    [warning] = _load(tmp_path / "iam", "production", KafkaAuth.IAM).warnings
    assert "mskClusterArn" in warning


def test_iam_is_every_stage_kinds_default_with_no_auth_warning() -> None:
    for stage in (*STAGES, "feature-y"):
        assert settings_for(Stage(stage)).kafka_auth is KafkaAuth.IAM
