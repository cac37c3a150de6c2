"""CLI wiring of `local ...` and `worker-config` (behaviour is tested on the functions themselves)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wms_connector.cli import main


@pytest.fixture
def empty_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WMS_LOCAL_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def test_down_when_nothing_runs_is_fine(empty_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "down", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"stopped": [], "wiped": False}


def test_status_when_nothing_runs(empty_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "running": False,
        "state_dir": str(empty_state.resolve()),
        "unrecorded_pids": [],
    }


def test_logs_when_nothing_ran_is_an_error(empty_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "logs"]) == 1
    assert "local up" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"), [(["--workers", "0"], "--workers"), (["--stage", "Bad_Stage"], "invalid stage")]
)
def test_up_refuses_bad_input(
    empty_state: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["local", "up", *args]) == 2
    assert message in capsys.readouterr().err
    assert not empty_state.exists()


def test_worker_config_heap_opts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker-config", "--stage", "production", "--heap-opts"]) == 0
    assert capsys.readouterr().out.startswith("-Xms")


def test_worker_config_renders_properties(tmp_path: Path) -> None:
    out = tmp_path / "worker.properties"
    args = [
        "--bootstrap",
        "b:9094",
        "--advertised-host",
        "10.0.0.1",
        "--plugin-path",
        "/p",
        "--output",
        str(out),
    ]
    assert main(["worker-config", "--stage", "feature-x", *args]) == 0
    text = out.read_text()
    assert "group.id=--wms--feature-x--mgmt.connect.wms-connector-feature-x\n" in text
    assert "security.protocol=SASL_SSL\n" in text  # iam: every stage's default (issue 23)


def test_worker_config_needs_its_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker-config", "--stage", "main"]) == 2
    assert "--bootstrap" in capsys.readouterr().err
