"""``synth`` and ``cost``: the stage's CloudFormation, in-process, and what it costs a month."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    OfflineOption,
    SecretsFileOption,
    StageOption,
    parse_stage,
)
from wms_connector.errors import WmsError
from wms_connector.infra.inputs import (
    DEFAULT_IMAGE_CONTEXT,
    DEFAULT_LAMBDA_BUNDLE_DIR,
    StageInputs,
    load_inputs,
    target_for,
)
from wms_connector.output import console, emit, err_console, status, styled
from wms_connector.secrets.store import backend_for

OutOption = Annotated[
    Path,
    typer.Option("--out", parser=params.out_dir, metavar="DIR", help="cloud assembly directory (created)"),
]
AccountOption = Annotated[str | None, typer.Option("--account", help="target AWS account id (12 digits)")]
RegionOption = Annotated[str | None, typer.Option("--region", help="target AWS region")]
ImageContextOption = Annotated[
    Path,
    typer.Option(
        "--image-context",
        parser=params.existing_dir,
        metavar="DIR",
        help="build context of the Connect image (holds the Dockerfile)",
    ),
]
LambdaBundleOption = Annotated[
    Path,
    typer.Option(
        "--lambda-bundle",
        parser=params.out_dir,
        metavar="DIR",
        help="the Lambdas' code dir (built there when missing or stale)",
    ),
]


def _require_cdk() -> None:
    """The CDK libraries are the optional ``infra`` extra (the Connect image does without them)."""
    import importlib.util

    if importlib.util.find_spec("aws_cdk") is None:
        raise WmsError(
            "synth and cost need the CDK libraries: install the infra extra "
            "(pip install -c constraints.txt -e '.[infra]', or `make setup`)"
        )


def stage_inputs(
    stage: str,
    *,
    secrets_file: Path | None,
    offline: bool,
    account: str | None,
    region: str | None,
    image_context: Path,
    lambda_bundle: Path,
) -> StageInputs:
    """Validate everything (stage first) before any construct is built."""
    parsed = parse_stage(stage)
    # Only --offline may fall back to the fake account: a secrets file alone is no reason to.
    # A secrets file is read (and refused when unreadable) before the target is checked.
    backend = backend_for(secrets_file, offline, region) if secrets_file is not None else None
    target = target_for(account, region, offline=offline)
    backend = backend or backend_for(secrets_file, offline, target.region)
    return load_inputs(parsed, backend, target, image_context=image_context, lambda_bundle_dir=lambda_bundle)


def synth_command(
    *,
    stage: StageOption,
    offline: OfflineOption = False,
    secrets_file: SecretsFileOption = None,
    out: OutOption = Path("cdk.out"),
    account: AccountOption = None,
    region: RegionOption = None,
    image_context: ImageContextOption = DEFAULT_IMAGE_CONTEXT,
    lambda_bundle: LambdaBundleOption = DEFAULT_LAMBDA_BUNDLE_DIR,
    as_json: JsonOption = False,
) -> None:
    """Synthesize the stage's two stacks without the CDK CLI (cdk-nag AwsSolutions runs as part of it)."""
    _require_cdk()
    from wms_connector.infra.synth import synth

    inputs = stage_inputs(
        stage,
        secrets_file=secrets_file,
        offline=offline,
        account=account,
        region=region,
        image_context=image_context,
        lambda_bundle=lambda_bundle,
    )
    with status(f"synthesizing {inputs.names.alerts_stack} and {inputs.names.connector_stack}"):
        result = synth([inputs], out)
    for warning in inputs.warnings:
        err_console.print(f"warning: {warning}")
    data = {
        "stage": inputs.stage.name,
        "warnings": list(inputs.warnings),
        "outdir": str(result.outdir),
        "stacks": {name: str(path) for name, path in result.templates.items()},
    }

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"Stage {d['stage']}: cloud assembly in {d['outdir']}")
        table.add_column("stack")
        table.add_column("template")
        for name, path in d["stacks"].items():
            table.add_row(name, path)
        console.print(table)

    emit(data, as_json, render)


def cost_command(
    *,
    stage: StageOption,
    offline: OfflineOption = False,
    secrets_file: SecretsFileOption = None,
    account: AccountOption = None,
    region: RegionOption = None,
    image_context: ImageContextOption = DEFAULT_IMAGE_CONTEXT,
    lambda_bundle: LambdaBundleOption = DEFAULT_LAMBDA_BUNDLE_DIR,
    as_json: JsonOption = False,
) -> None:
    """Monthly cost estimate of the stage from its synthesized templates (prices: infra/prices.json)."""
    _require_cdk()
    from wms_connector.infra.cost import estimate, load_prices, summary
    from wms_connector.infra.synth import synth

    inputs = stage_inputs(
        stage,
        secrets_file=secrets_file,
        offline=offline,
        account=account,
        region=region,
        image_context=image_context,
        lambda_bundle=lambda_bundle,
    )
    with tempfile.TemporaryDirectory(prefix="wms-cost-") as tmp, status("synthesizing"):
        result = synth([inputs], Path(tmp))
        templates = [result.template(name) for name in result.templates]
    prices = load_prices()
    data = summary(inputs.stage.name, estimate(templates, prices), prices)

    def render(d: dict[str, Any]) -> None:
        table = Table(
            title=f"Stage {d['stage']}: monthly estimate ({d['region']} list prices, {d['currency']})"
        )
        for column in ("item", "quantity", "unit", "unit price", "monthly"):
            table.add_column(column, justify="left" if column in ("item", "unit") else "right")
        for line in d["lines"]:
            table.add_row(
                line["item"],
                f"{line['quantity']:g}",
                line["unit"],
                f"{line['unit_price']:g}",
                f"{line['monthly']:.2f}",
            )
        table.add_row("total", "", "", "", styled(f"{d['monthly_total']:.2f}", "bold"))
        console.print(table)
        console.print(styled(d["prices_source"], "dim"))

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_command)
    app.command("cost")(cost_command)
