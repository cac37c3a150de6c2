"""Options and dependency wiring shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wms_connector.commands import params
from wms_connector.stages import KafkaAuth, Stage

_STAGE_HELP = "stage: main, val, production or a branch stage"
StageOption = Annotated[str, typer.Option("--stage", "-s", help=_STAGE_HELP)]
#: For commands that check the stage themselves (e.g. a group callback that runs without one).
OptionalStageOption = Annotated[str | None, typer.Option("--stage", "-s", help=_STAGE_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output (stable, documented)")]
SecretsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--secrets-file",
        parser=params.existing_file,
        metavar="FILE",
        help="read secrets from this JSON file instead of AWS Secrets Manager",
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline", help="no AWS calls: secrets from --secrets-file or the checked-in fake example"
    ),
]

# -- reaching a stage's Kafka (topics, hold, operations) ---------------------------------------
BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        "-b",
        parser=params.bootstrap,
        metavar="HOST:PORT,...",
        help="Kafka bootstrap servers host:port[,...]",
    ),
]
KafkaAuthOption = Annotated[
    KafkaAuth | None,
    typer.Option("--auth", help="Kafka client auth (default: plaintext on loopback, else the stage's)"),
]
KafkaRegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region of the MSK cluster (IAM auth; default AWS_REGION)")
]


def parse_stage(value: str) -> Stage:
    return Stage.parse(value)
