"""The CDK app: ``build_app`` (in-process, used by ``wms-connector synth`` and the tests) and the
``cdk.json`` entry point (``python -m wms_connector.infra.app``), which reads CDK context:

- ``stage`` (required), ``offline`` (``true``: the checked-in fake secrets), ``secretsFile``,
- ``account``, ``region`` (else ``CDK_DEFAULT_*``; offline defaults to a fake account),
- ``imageContext`` (Connect image context), ``lambdaBundle`` (the Lambdas' code dir).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from wms_connector.infra.alerts_stack import AlertsStack
from wms_connector.infra.connector_stack import ConnectorStack
from wms_connector.infra.inputs import StageInputs


@dataclass(frozen=True)
class StageStacks:
    inputs: StageInputs
    alerts: AlertsStack
    connector: ConnectorStack


def add_stage(app: App, inputs: StageInputs) -> StageStacks:
    """Both stacks of one stage; several stages may share an app (their stack names differ)."""
    env = Environment(account=inputs.target.account, region=inputs.target.region)
    protect = inputs.termination_protection
    alerts = AlertsStack(app, inputs=inputs, env=env, termination_protection=protect)
    connector = ConnectorStack(app, inputs=inputs, env=env, termination_protection=protect)
    connector.add_stack_dependency(alerts, "imports the alerts topic and key exports")
    return StageStacks(inputs, alerts, connector)


def new_app(outdir: Path | None = None, context: dict[str, object] | None = None) -> App:
    """An app with cdk-nag AwsSolutions as a validation plugin and no metadata/version reporting."""
    app = App(
        outdir=str(outdir) if outdir is not None else None,
        analytics_reporting=False,
        context=context,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def build_app(stages: Sequence[StageInputs], outdir: Path | None = None) -> tuple[App, list[StageStacks]]:
    app = new_app(outdir)
    return app, [add_stage(app, inputs) for inputs in stages]


def _flag(value: object) -> bool:
    # `-c offline=true` arrives as the string "true"; cdk.json may hold a real boolean.
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true", "yes"))


def inputs_from_context(app: App) -> StageInputs:
    """The stage's inputs from CDK context (see the module docstring); raises ``InputError``."""
    from wms_connector.errors import InputError
    from wms_connector.infra.inputs import (
        DEFAULT_IMAGE_CONTEXT,
        DEFAULT_LAMBDA_BUNDLE_DIR,
        load_inputs,
        target_for,
    )
    from wms_connector.secrets.store import backend_for
    from wms_connector.stages import Stage

    def text(key: str) -> str | None:
        value = app.node.try_get_context(key)
        return None if value in (None, "") else str(value)

    stage = text("stage")
    if stage is None:
        raise InputError(
            "no stage given: run `npx cdk synth -c stage=<stage>` (add -c offline=true for fake secrets)"
        )
    parsed = Stage.parse(stage)
    secrets_file = text("secretsFile")
    offline = _flag(app.node.try_get_context("offline"))
    target = target_for(text("account"), text("region"), offline=offline or secrets_file is not None)
    backend = backend_for(Path(secrets_file) if secrets_file else None, offline, target.region)
    image_context, bundle = text("imageContext"), text("lambdaBundle")
    return load_inputs(
        parsed,
        backend,
        target,
        image_context=Path(image_context) if image_context else DEFAULT_IMAGE_CONTEXT,
        lambda_bundle_dir=Path(bundle) if bundle else DEFAULT_LAMBDA_BUNDLE_DIR,
    )


def main() -> int:
    """``cdk.json``'s app command. Bad input is one line on stderr and exit code 2, before synth."""
    import sys

    from wms_connector.errors import WmsError

    app = new_app()
    try:
        inputs = inputs_from_context(app)
    except WmsError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - the CDK CLI shows the app's stderr
        return error.exit_code
    add_stage(app, inputs)
    app.synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
