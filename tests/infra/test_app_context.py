"""The cdk.json entry point: context keys, CLI settings, and refusal of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.conftest import placeholder_bundle, placeholder_image_context
from wms_connector.errors import InputError
from wms_connector.infra.app import inputs_from_context, new_app
from wms_connector.infra.inputs import REPO_ROOT


def test_cdk_json_runs_our_module_with_notices_and_telemetry_off() -> None:
    config = json.loads((REPO_ROOT / "cdk.json").read_text())
    assert config["app"] == ".venv/bin/python -m wms_connector.infra.app"
    assert config["notices"] is False
    assert config["cli-telemetry"] is False


def test_context_selects_stage_offline_secrets_and_target(tmp_path: Path) -> None:
    app = new_app(
        tmp_path / "out",
        context={
            "stage": "val",
            "offline": "true",
            "imageContext": str(placeholder_image_context(tmp_path)),
            "lambdaBundle": str(placeholder_bundle(tmp_path)),
        },
    )
    inputs = inputs_from_context(app)
    assert inputs.stage.name == "val"
    assert inputs.target.account == "123456789012"
    assert inputs.secrets.db_info.path == "wms/default/dbInfo"


@pytest.mark.parametrize(
    ("context", "message"),
    [({}, "no stage given"), ({"stage": "bad--stage", "offline": "true"}, "must not contain '--'")],
)
def test_context_without_or_with_a_bad_stage_is_refused(
    tmp_path: Path, context: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        inputs_from_context(new_app(tmp_path / "out", context=context))
