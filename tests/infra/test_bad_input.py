"""Bad input is refused before synth, with a message naming the value and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.conftest import TARGET, placeholder_bundle, placeholder_image_context
from wms_connector.cli import main
from wms_connector.errors import InputError
from wms_connector.infra.inputs import (
    Target,
    check_image_context,
    check_lambda_bundle,
    load_inputs,
    target_for,
)
from wms_connector.secrets.store import (
    EXAMPLE_SECRETS_FILE,
    FileSecretsBackend,
    SecretMissingError,
    SecretShapeError,
)
from wms_connector.stages import Stage, StageError, settings_for


def _secrets_file(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text())
    for key, value in changes.items():
        path = key.replace("__", "/")
        if value is None:
            del data[path]
        else:
            data[path] = value
    target = tmp_path / "secrets.json"
    target.write_text(json.dumps(data))
    return target


def test_invalid_stage_is_refused_by_the_cli_before_synth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["synth", "--stage", "Feature_X", "--offline", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "invalid stage 'Feature_X'" in err
    assert "lowercase" in err
    assert not out.exists()


def test_missing_secret_offline_names_the_file_and_key(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, wms__default__dbInfo=None)
    with pytest.raises(SecretMissingError) as caught:
        load_inputs(
            Stage("main"), FileSecretsBackend(path), TARGET, image_context=placeholder_image_context(tmp_path)
        )
    message = str(caught.value)
    assert "'dbInfo'" in message
    assert "'wms/main/dbInfo'" in message and "'wms/default/dbInfo'" in message
    assert str(path) in message


def test_missing_secret_through_the_cli_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _secrets_file(tmp_path, wms__default__vpc=None)
    target = ["--account", "123456789012", "--region", "us-east-1"]
    code = main(
        ["synth", "--stage", "main", "--secrets-file", str(path), *target, "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "'vpc'" in err and str(path) in err


def test_malformed_vpc_secret_names_the_field(tmp_path: Path) -> None:
    vpc = json.loads(EXAMPLE_SECRETS_FILE.read_text())["wms/default/vpc"]
    path = _secrets_file(tmp_path, wms__default__vpc={**vpc, "private_subnets": ["sn-123"]})
    with pytest.raises(SecretShapeError) as caught:
        load_inputs(
            Stage("val"), FileSecretsBackend(path), TARGET, image_context=placeholder_image_context(tmp_path)
        )
    assert "private_subnets" in str(caught.value)
    assert "wms/default/vpc" in str(caught.value)


def test_production_with_one_worker_is_refused(tmp_path: Path) -> None:
    stage = Stage("production")
    one = settings_for(stage).model_copy(update={"worker_count": 1})
    with pytest.raises(InputError, match="worker_count=1"):
        load_inputs(
            stage,
            FileSecretsBackend(EXAMPLE_SECRETS_FILE),
            TARGET,
            image_context=placeholder_image_context(tmp_path),
            settings=one,
        )


def test_missing_dockerfile_and_lambda_bundle_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--image-context"):
        check_image_context(tmp_path)
    with pytest.raises(InputError, match="make lambda-bundle"):
        check_lambda_bundle(Stage("feature-x"), tmp_path)
    with pytest.raises(InputError, match="make lambda-bundle"):
        check_lambda_bundle(Stage("main"), tmp_path)  # every stage has the topics Lambda now
    assert check_lambda_bundle(Stage("feature-x"), placeholder_bundle(tmp_path)) is not None


@pytest.mark.parametrize(
    ("account", "region", "offline", "env", "expected"),
    [
        (None, None, True, {}, Target("123456789012", "us-east-1")),
        ("210987654321", "eu-west-1", False, {}, Target("210987654321", "eu-west-1")),
        (
            None,
            None,
            False,
            {"CDK_DEFAULT_ACCOUNT": "111122223333", "CDK_DEFAULT_REGION": "us-west-2"},
            Target("111122223333", "us-west-2"),
        ),
    ],
)
def test_target_is_explicit(
    account: str | None, region: str | None, offline: bool, env: dict[str, str], expected: Target
) -> None:
    assert target_for(account, region, offline=offline, environ=env) == expected


def test_online_synth_without_target_is_refused() -> None:
    with pytest.raises(InputError, match="--account/--region"):
        target_for(None, None, offline=False, environ={})
    with pytest.raises(InputError, match="12-digit"):
        Target("12345", "us-east-1")


def test_stage_error_is_an_input_error() -> None:
    assert issubclass(StageError, InputError)
