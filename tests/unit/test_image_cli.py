"""`wms-connector image` wiring: bad input is refused before any engine is touched."""

from __future__ import annotations

import pytest

from wms_connector.cli import main
from wms_connector.image import engine


def test_an_unknown_bases_mode_is_exit_2_before_any_docker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_engine(*_args: object) -> None:
        raise AssertionError("an engine was looked for")

    monkeypatch.setattr(engine, "ensure_engine", no_engine)
    assert main(["image", "build", "--bases", "dockerhub"]) == 2
    err = capsys.readouterr().err
    assert "--bases 'dockerhub': choose auto, upstream or local" in err
    assert "Traceback" not in err


def test_the_dockerignore_check_passes_on_the_checkout() -> None:
    assert main(["image", "dockerignore", "--check"]) == 0
