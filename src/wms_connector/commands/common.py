"""Options and dependency wiring shared by several commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from wms_connector.secrets import EXAMPLE_SECRETS_FILE, AwsSecretsBackend, FileSecretsBackend, SecretsBackend
from wms_connector.stages import Stage

_STAGE_HELP = "stage: main, val, production or a branch stage"
StageOption = Annotated[str, typer.Option("--stage", "-s", help=_STAGE_HELP)]
#: For commands that check the stage themselves (e.g. a group callback that runs without one).
OptionalStageOption = Annotated[str | None, typer.Option("--stage", "-s", help=_STAGE_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output (stable, documented)")]
SecretsFileOption = Annotated[
    Path | None,
    typer.Option("--secrets-file", help="read secrets from this JSON file instead of AWS Secrets Manager"),
]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline", help="no AWS calls: secrets from --secrets-file or the checked-in fake example"
    ),
]

#: Set to send every AWS call to another endpoint (moto's server in tests, LocalStack on a laptop).
ENDPOINT_ENV = "WMS_AWS_ENDPOINT_URL"


def parse_stage(value: str) -> Stage:
    return Stage.parse(value)


def default_region(region: str | None) -> str | None:
    """``region`` if given, else the environment's (``AWS_REGION``, then ``AWS_DEFAULT_REGION``)."""
    return region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def secrets_backend(secrets_file: Path | None, offline: bool, region: str | None = None) -> SecretsBackend:
    """The file backend when a file is given or ``--offline``; AWS Secrets Manager otherwise."""
    if secrets_file is not None:
        return FileSecretsBackend(secrets_file)
    if offline:
        return FileSecretsBackend(EXAMPLE_SECRETS_FILE)
    import boto3

    client = boto3.client(
        "secretsmanager",
        region_name=default_region(region),
        endpoint_url=os.environ.get(ENDPOINT_ENV) or None,
    )
    return AwsSecretsBackend(client)
