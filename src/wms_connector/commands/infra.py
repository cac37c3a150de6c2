"""``synth`` and ``cost``: the stage's CloudFormation, in-process, and what it costs a month."""

from __future__ import annotations

import os
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
from wms_connector.errors import InputError, WmsError
from wms_connector.infra.inputs import (
    DEFAULT_IMAGE_CONTEXT,
    DEFAULT_LAMBDA_BUNDLE_DIR,
    StageInputs,
    load_inputs,
    target_for,
)
from wms_connector.output import console, emit, show_table, status, styled
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


def require_writable(path: Path, option: str) -> None:
    """Refuse, before anything is synthesized, an output directory that cannot be written
    (``/proc/...`` or ``/sys/...``, read-only mounts, permissions). A probe file is written and
    removed in the directory, or in its nearest existing parent when it does not exist yet, so
    nothing on disk changes."""
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        probe = existing / f".wms-write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise InputError(
            f"{option} {str(path)!r} cannot be written ({error.strerror or type(error).__name__}); "
            "choose a directory you can write to"
        ) from None


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


def _inputs_with_progress(stage: str, **options: Any) -> StageInputs:
    # The Lambdas' bundle is built with pip on first use (tens of seconds): say so while it runs.
    with status("resolving the stage's inputs (the Lambdas' code bundle is built with pip when missing)"):
        return stage_inputs(stage, **options)


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

    require_writable(out, "--out")
    inputs = _inputs_with_progress(
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
    data = {
        "stage": inputs.stage.name,
        "outdir": str(result.outdir),
        "stacks": {name: str(path) for name, path in result.templates.items()},
    }

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"Stage {d['stage']}: cloud assembly in {d['outdir']}")
        table.add_column("stack")
        table.add_column("template")
        for name, path in d["stacks"].items():
            table.add_row(name, path)
        show_table(table)

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

    prices = load_prices()
    parse_stage(stage)  # the stage is checked first, as everywhere
    if secrets_file is not None:
        backend_for(secrets_file, offline, region)  # then the secrets file, as stage_inputs does
    target = target_for(account, region, offline=offline)
    if target.region != prices["region"]:
        # Pricing another region with these figures would be a silent lie.
        raise InputError(
            f"cost knows list prices for {prices['region']} only (src/wms_connector/infra/prices.json), not "
            f"{target.region}: omit --region (and AWS_REGION) for the {prices['region']} estimate, "
            "or add that region's prices"
        )
    inputs = _inputs_with_progress(
        stage,
        secrets_file=secrets_file,
        offline=offline,
        account=account,
        region=region,
        image_context=image_context,
        lambda_bundle=lambda_bundle,
    )
    with (
        tempfile.TemporaryDirectory(prefix="wms-cost-") as tmp,
        status(f"synthesizing {inputs.names.alerts_stack} and {inputs.names.connector_stack} to price them"),
    ):
        result = synth([inputs], Path(tmp))
        templates = [result.template(name) for name in result.templates]
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
        show_table(table)
        console.print(styled(d["prices_source"], "dim"))

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_command)
    app.command("cost")(cost_command)
