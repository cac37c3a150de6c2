"""One synth per test session: every stage kind (plus IAM-scope and mtls variants) in ONE app.

The Connect image's Dockerfile and the Lambda bundle are only *fingerprinted* at synth (built or
uploaded at deploy time), so when the real ones are absent the fixture points synth at
placeholders in a tmp dir; nothing fake is committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.certs import TestCa
from wms_connector.image.context import DOCKERFILE
from wms_connector.infra.inputs import DEFAULT_IMAGE_CONTEXT, StageInputs, Target, load_inputs
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE, FileSecretsBackend
from wms_connector.stages import KafkaAuth, Stage, settings_for

TARGET = Target("123456789012", "us-east-1")
TEST_CA = TestCa()
MTLS_CLIENT = TEST_CA.issue(cn="wms-connector-mtls-check", ou="cdc")
EPHEMERAL = "feature-x"
#: An ephemeral stage that uses MSK IAM auth, an IAM path, a permissions boundary and its own
#: ``mskClusterArn`` (every kafka-cluster grant names that cluster).
IAM_VARIANT = "iam-check"
#: ... and a dbInfo with a cidr: the workers' Oracle egress goes there only.
ORACLE_CIDR = "10.20.30.0/24"
MSK_CLUSTER_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/wms-msk/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-7"
)
#: An ephemeral stage with ``kafka_auth = mtls`` and its ``kafkaClientCert`` secret (a test certificate
#: made here: synth only locates the secret, so its key must never reach the template).
MTLS_VARIANT = "mtls-check"
STAGES = ("main", "val", "production", EPHEMERAL)
#: A stage on the legacy layout: its dbInfo still holds the password and no dbPassword exists (a
#: secrets file of its own, whose default scope has no dbPassword either). It synthesizes, warns.
LEGACY = "legacy-pw"
LEGACY_PASSWORD = "FAKE-legacy-password-in-dbinfo"
#: The IAM variant's own dbPassword (the stage path, not the default).
IAM_VARIANT_PASSWORD = "FAKE-iam-variant-password"
FAKE_PASSWORD = json.loads(EXAMPLE_SECRETS_FILE.read_text())["wms/default/dbPassword"]
BOUNDARY_ARN = "arn:aws:iam::123456789012:policy/wms-boundary"
IAM_PATH = "/wms/"


def placeholder_image_context(root: Path) -> Path:
    """The repository itself once runtime/Dockerfile exists; else a tmp dir with a placeholder."""
    if (DEFAULT_IMAGE_CONTEXT / DOCKERFILE).is_file():
        return DEFAULT_IMAGE_CONTEXT
    context = root / "image-context"
    (context / DOCKERFILE).parent.mkdir(parents=True)
    (context / DOCKERFILE).write_text("# test placeholder: synth only fingerprints the build context\n")
    return context


def placeholder_bundle(root: Path) -> Path:
    bundle = root / "lambda"
    (bundle / "wms_connector" / "lambdas").mkdir(parents=True)
    (bundle / "wms_connector" / "lambdas" / "topics.py").write_text("# test placeholder\n")
    return bundle


def secrets_with_iam_variant(root: Path) -> Path:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text())
    data[f"wms/{IAM_VARIANT}/iamPath"] = IAM_PATH
    data[f"wms/{IAM_VARIANT}/permissionsBoundary"] = BOUNDARY_ARN
    data[f"wms/{IAM_VARIANT}/mskClusterArn"] = MSK_CLUSTER_ARN
    data[f"wms/{IAM_VARIANT}/dbInfo"] = {**data["wms/default/dbInfo"], "cidr": ORACLE_CIDR}
    data[f"wms/{IAM_VARIANT}/dbPassword"] = {"password": IAM_VARIANT_PASSWORD}
    data[f"wms/{MTLS_VARIANT}/kafkaClientCert"] = MTLS_CLIENT.secret(TEST_CA.pem)
    path = root / "secrets.json"
    path.write_text(json.dumps(data))
    return path


def legacy_secrets(root: Path) -> Path:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text())
    del data["wms/default/dbPassword"]
    data[f"wms/{LEGACY}/dbInfo"] = {**data["wms/default/dbInfo"], "password": LEGACY_PASSWORD}
    path = root / "legacy-secrets.json"
    path.write_text(json.dumps(data))
    return path


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    inputs: dict[str, StageInputs]
    templates: dict[str, Path]
    nag_report: dict[str, Any]

    def template(self, stack_name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.templates[stack_name].read_text())
        return loaded


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from wms_connector.infra.synth import synth

    root = tmp_path_factory.mktemp("infra")
    runtime, bundle = placeholder_image_context(root), placeholder_bundle(root)
    backend = FileSecretsBackend(secrets_with_iam_variant(root))
    inputs = {
        name: load_inputs(Stage(name), backend, TARGET, image_context=runtime, lambda_bundle_dir=bundle)
        for name in STAGES
    }
    iam_stage = Stage(IAM_VARIANT)
    inputs[IAM_VARIANT] = load_inputs(
        iam_stage,
        backend,
        TARGET,
        image_context=runtime,
        lambda_bundle_dir=bundle,
        settings=settings_for(iam_stage).model_copy(update={"kafka_auth": KafkaAuth.IAM}),
    )
    mtls_stage = Stage(MTLS_VARIANT)
    inputs[MTLS_VARIANT] = load_inputs(
        mtls_stage,
        backend,
        TARGET,
        image_context=runtime,
        lambda_bundle_dir=bundle,
        settings=settings_for(mtls_stage).model_copy(update={"kafka_auth": KafkaAuth.MTLS}),
    )
    inputs[LEGACY] = load_inputs(
        Stage(LEGACY),
        FileSecretsBackend(legacy_secrets(root)),
        TARGET,
        image_context=runtime,
        lambda_bundle_dir=bundle,
    )
    result = synth(list(inputs.values()), root / "cdk.out")
    yield Synthesized(result.outdir, inputs, result.templates, result.nag_report)
