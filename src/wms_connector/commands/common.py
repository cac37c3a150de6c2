"""Options and dependency wiring shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
def bootstrap_option(help_: str) -> Any:
    """``-b/--bootstrap HOST:PORT,...``, validated by the one bootstrap grammar; ``help_`` says
    where the default comes from for the command."""
    return typer.Option("--bootstrap", "-b", parser=params.bootstrap, metavar="HOST:PORT,...", help=help_)


BootstrapOption = Annotated[str | None, bootstrap_option("Kafka bootstrap servers host:port[,...]")]
#: For commands that reach a deployed stage's brokers: by default its ``brokerString`` secret.
StageBootstrapOption = Annotated[
    str | None, bootstrap_option("Kafka bootstrap servers (default: the stage's brokerString)")
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


# -- reaching a stage's workers (status, verify) -------------------------------------------------
WorkerUrlOption = Annotated[
    str | None,
    typer.Option(
        "--connect-url",
        parser=params.http_url,
        help="a worker's REST API (e.g. an ECS Exec forwarded port; default: the running local "
        "cluster's, else http://localhost:8083)",
    ),
]
MetricsUrlsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metrics-url",
        parser=params.http_url,
        help="a worker's JMX exporter; repeat per worker: the one running the task is used "
        "(default: the local cluster's, else :9404)",
    ),
]
