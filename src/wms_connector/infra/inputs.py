"""Everything a stage's infrastructure is built from, resolved once before any construct exists.

Bad input is refused here, before synth: an invalid stage (``Stage``), settings that break a
stage promise (``check_settings``), a missing or malformed secret (``resolve_stage``), a missing
Dockerfile or Lambda bundle.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from wms_connector.errors import InputError
from wms_connector.image.context import DOCKERFILE
from wms_connector.naming import StageNames, names_for
from wms_connector.secrets.shapes import KAFKA_CLIENT_CERT, MskCluster
from wms_connector.secrets.store import (
    SecretsBackend,
    StageSecrets,
    locate_metadata,
    password_warnings,
    resolve_stage,
)
from wms_connector.stages import KafkaAuth, Stage, StageSettings, check_settings, settings_for

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy

#: The repository root when running from a checkout (``src/wms_connector/infra/inputs.py``).
REPO_ROOT: Final = Path(__file__).resolve().parents[3]
#: The Connect image is built from the repository root with ``-f runtime/Dockerfile`` (image/context.py).
DEFAULT_IMAGE_CONTEXT: Final = REPO_ROOT
#: Where ``make lambda-bundle`` installs the Lambdas' code (topics, redeploy) and its binary wheels.
DEFAULT_LAMBDA_BUNDLE_DIR: Final = REPO_ROOT / "build" / "lambda"
#: Account and region used by offline synth when none is given: obviously not a real account.
OFFLINE_ACCOUNT: Final = "123456789012"
OFFLINE_REGION: Final = "us-east-1"
_ACCOUNT: Final = re.compile(r"^\d{12}$")
_REGION: Final = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


@dataclass(frozen=True)
class Target:
    """Where a stage deploys: explicit account and region, never looked up."""

    account: str
    region: str

    def __post_init__(self) -> None:
        if not _ACCOUNT.match(self.account):
            raise InputError(f"account {self.account!r} is not a 12-digit AWS account id")
        if not _REGION.match(self.region):
            raise InputError(f"region {self.region!r} is not an AWS region name (e.g. us-east-1)")


def target_for(
    account: str | None, region: str | None, *, offline: bool, environ: Mapping[str, str] = os.environ
) -> Target:
    """Explicit value, then the CDK CLI's ``CDK_DEFAULT_*``, then (offline only) the fake defaults."""
    acct = account or environ.get("CDK_DEFAULT_ACCOUNT") or (OFFLINE_ACCOUNT if offline else None)
    reg = (
        region
        or environ.get("CDK_DEFAULT_REGION")
        or environ.get("AWS_REGION")
        or (OFFLINE_REGION if offline else None)
    )
    if acct is None or reg is None:
        raise InputError(
            "the target account and region must be explicit for an online synth: pass --account/--region "
            "(or -c account=... -c region=...), or use --offline"
        )
    return Target(acct, reg)


@dataclass(frozen=True)
class StageInputs:
    """The resolved inputs of one stage's two stacks."""

    stage: Stage
    settings: StageSettings
    secrets: StageSecrets
    target: Target
    image_context: Path
    lambda_bundle_dir: Path
    #: ``kafka_auth = mtls``: where the ``kafkaClientCert`` secret is (located, never read).
    kafka_client_cert: str | None = None

    @property
    def names(self) -> StageNames:
        return names_for(self.stage)

    @property
    def removal_policy(self) -> RemovalPolicy:
        """For data-bearing resources (log groups, KMS keys): kept for named stages, gone for branches."""
        from aws_cdk import RemovalPolicy  # jsii starts a node process: only when building stacks

        return RemovalPolicy.RETAIN if self.settings.retain_on_destroy else RemovalPolicy.DESTROY

    @property
    def termination_protection(self) -> bool:
        """Production's stacks cannot be deleted until someone turns this off on purpose."""
        return self.stage.name == "production"

    @property
    def iam_path(self) -> str | None:
        return self.secrets.iam_path.value.path if self.secrets.iam_path else None

    @property
    def permissions_boundary_arn(self) -> str | None:
        boundary = self.secrets.permissions_boundary
        return boundary.value.arn if boundary else None

    @property
    def msk_cluster(self) -> MskCluster | None:
        return self.secrets.msk_cluster.value if self.secrets.msk_cluster else None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Risks synth reports without refusing (shown by ``synth`` and as CDK warnings)."""
        from wms_connector.infra.kafka_auth import unauthenticated_warning
        from wms_connector.infra.kafka_iam import cluster_scope_warning

        auth = self.settings.kafka_auth
        found = (
            # The IAM grants' scope matters only where there are IAM grants.
            cluster_scope_warning(self.names, self.msk_cluster) if auth is KafkaAuth.IAM else None,
            unauthenticated_warning(self.names, auth),
        )
        password = password_warnings(self.secrets.password_source, self.secrets.db_info.path)
        return tuple(text for text in found if text) + password

    @property
    def redeploy_secrets(self) -> tuple[str, ...]:
        """The secrets whose change redeploys the service: the resolved ``dbInfo`` (the Oracle user
        is injected at task start), when used the resolved ``dbPassword`` (rotation) and, with
        ``kafka_auth = mtls``, the resolved ``kafkaClientCert`` (a renewed certificate)."""
        source = self.secrets.password_source
        paths = (self.secrets.db_info.path, source.path, *filter(None, (self.kafka_client_cert,)))
        return tuple(dict.fromkeys(paths))


def check_image_context(image_context: Path) -> Path:
    """The image asset is only *built* at deploy time, but synth fingerprints its context."""
    if not (image_context / DOCKERFILE).is_file():
        raise InputError(
            f"no Dockerfile at {str(image_context / DOCKERFILE)!r}: the Connect image is built from the "
            f"repository root with {DOCKERFILE} (runtime issue); pass --image-context (-c imageContext=...) "
            f"pointing at a directory that holds {DOCKERFILE}"
        )
    return image_context


def check_lambda_bundle(stage: Stage, bundle_dir: Path) -> Path:
    """Every stage has the topics and redeploy Lambdas, so every stage needs their bundle.

    The default bundle directory is built (or rebuilt) here when it is missing or stale; a
    directory given explicitly is used as it is."""
    if bundle_dir.resolve() == DEFAULT_LAMBDA_BUNDLE_DIR.resolve():
        from wms_connector.infra.bundle import ensure_bundle

        ensure_bundle(bundle_dir, REPO_ROOT / "constraints.txt")
    marker = bundle_dir / "wms_connector" / "lambdas"
    if not marker.is_dir():
        raise InputError(
            f"the Lambda bundle of stage {stage.name!r} is missing at {str(bundle_dir)!r} (no "
            "wms_connector/lambdas inside); run `make lambda-bundle` (pip installs the manylinux wheels "
            "for python3.12 there) or pass --lambda-bundle (-c lambdaBundle=...)"
        )
    return bundle_dir


def locate_client_cert(stage: Stage, settings: StageSettings, backend: SecretsBackend) -> str | None:
    """The ``kafkaClientCert`` path of an mtls stage, by metadata only; refused when it is missing."""
    if settings.kafka_auth is not KafkaAuth.MTLS:
        return None
    found = locate_metadata(stage, KAFKA_CLIENT_CERT.name, backend)
    if found is None:
        from wms_connector.infra.kafka_auth import missing_certificate_message

        raise InputError(missing_certificate_message(names_for(stage)))
    return found


def load_inputs(
    stage: Stage,
    backend: SecretsBackend,
    target: Target,
    *,
    image_context: Path = DEFAULT_IMAGE_CONTEXT,
    lambda_bundle_dir: Path = DEFAULT_LAMBDA_BUNDLE_DIR,
    settings: StageSettings | None = None,
) -> StageInputs:
    """Resolve and check everything; raise ``InputError`` (nothing synthesized) on bad input."""
    chosen = settings if settings is not None else settings_for(stage)
    check_settings(stage, chosen)
    secrets = resolve_stage(stage, backend)
    return StageInputs(
        kafka_client_cert=locate_client_cert(stage, chosen, backend),
        stage=stage,
        settings=chosen,
        secrets=secrets,
        target=target,
        image_context=check_image_context(image_context),
        lambda_bundle_dir=check_lambda_bundle(stage, lambda_bundle_dir),
    )
