"""Wiring of ``wms-connector config`` (behaviour is tested on the functions themselves)."""

from __future__ import annotations

import json

import pytest

from wms_connector.cli import main


def test_check_passes_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--stage", "main", "--offline", "--check"]) == 0
    assert "our checks: pass" in capsys.readouterr().out


def test_json_is_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--stage", "feature-x", "--offline", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["topic.prefix"] == "--wms--feature-x--wms"
    assert data["config"]["database.password"] == "${dir:/opt/connect/secrets:oracle-password}"
    assert "FAKE-offline-password-not-real" not in json.dumps(data)


def test_standin_is_labelled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--stage", "main", "--source", "standin"]) == 0
    assert "STAND-IN" in capsys.readouterr().out


def test_validate_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--stage", "main", "--offline", "--validate"]) == 2
    assert "--connect-url" in capsys.readouterr().err


def test_bad_stage_is_input_error() -> None:
    assert main(["config", "--stage", "Main", "--offline"]) == 2


def test_local_run_refuses_non_positive_duration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "run", "--for", "0"]) == 2
