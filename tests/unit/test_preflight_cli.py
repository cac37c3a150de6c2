"""``wms-connector preflight``: wiring, exit codes, JSON, and no secret or traceback in the output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.oracle_doc_shapes import DocShapes
from tests.unit.test_preflight_connection import closed_port
from wms_connector.cli import main
from wms_connector.preflight.target import PASSWORD_ENV, expectations

PASSWORD = "s3cret-not-real-PW"


def secrets_file(tmp_path: Path, port: int, pdb: str | None = "WMSPDB") -> Path:
    info: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "db": "WMSCDB",
        "user": "C##WMS_CDC",
        "password": PASSWORD,
    }
    if pdb:
        info["pdb_name"] = pdb
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"wms/default/dbInfo": info}))
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["preflight"], "exactly one of --stage"),
        (["preflight", "--stage", "main", "--dsn", "u/p@h:1521/s"], "exactly one of --stage"),
        (["preflight", "--dsn", "nonsense"], "is not user[/password]@host:port/service"),
        (["preflight", "--dsn", "u@127.0.0.1:1521/S"], f"${PASSWORD_ENV}"),
        (["preflight", "--dsn", "u/@127.0.0.1:1521/S"], "empty password"),
        (["preflight", "--dsn", "u/p@127.0.0.1:99999/S"], "port 99999"),
        (
            ["preflight", "--dsn", "u/p@127.0.0.1:1521/S", "--pdb", "bad pdb"],
            "not a simple Oracle identifier",
        ),
        (["preflight", "--stage", "Main"], "lowercase"),
        (["preflight", "--stage", "main", "--pdb", "X"], "--pdb goes with --dsn"),
        (["preflight", "--dsn", "u/p@127.0.0.1:1521/S", "--timeout", "0"], "--timeout"),
    ],
)
def test_bad_input_exits_2_before_connecting(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_dsn_to_a_closed_port_exits_1_with_a_json_fail(capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    code = main(
        ["preflight", "--dsn", f"c##wms_cdc/{PASSWORD}@127.0.0.1:{port}/WMSCDB", "--pdb", "wmspdb", "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["target"] == f"c##wms_cdc@127.0.0.1:{port}/WMSCDB"
    assert [(r["id"], r["status"]) for r in report["results"]] == [("connection", "FAIL")]
    assert "connection refused" in report["results"][0]["detail"]
    assert PASSWORD not in out + err
    assert "Traceback" not in out + err


def test_password_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    port = closed_port()
    assert main(["preflight", "--dsn", f"wms_cdc@127.0.0.1:{port}/WMSDB"]) == 1
    out, err = capsys.readouterr()
    assert "connection refused" in out
    assert PASSWORD not in out + err


def test_stage_reads_db_info_from_the_secrets_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    code = main(
        ["preflight", "--stage", "val", "--secrets-file", str(secrets_file(tmp_path, port)), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["target"] == f"C##WMS_CDC@127.0.0.1:{port}/WMSCDB"
    assert PASSWORD not in out + err


def test_stage_without_db_info_exits_2_naming_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "secrets.json"
    empty.write_text("{}")
    assert main(["preflight", "--stage", "val", "--secrets-file", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "wms/val/dbInfo" in err
    assert "wms/default/dbInfo" in err


def _shaped_connect(shapes: DocShapes, pdb: str | None) -> Any:
    expect = expectations(shapes.target["user"], pdb, stage=None)

    def connect(**kwargs: Any) -> Any:
        assert kwargs["password"] == PASSWORD  # the secret reaches the driver, and only the driver
        return shapes.connection(expect)

    return connect


def test_ready_database_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = DocShapes("cdb_ready")
    monkeypatch.setattr("oracledb.connect", _shaped_connect(shapes, "WMSPDB"))
    path = secrets_file(tmp_path, 1521)
    assert main(["preflight", "--stage", "production", "--secrets-file", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["summary"] == {"pass": 16, "warn": 0, "fail": 0}


def test_stage_sets_the_archive_window_production_72_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = DocShapes("cdb_ready")
    # 50 hours of archives: enough for val (24 h), not for production (72 h)
    shapes.set_value("archived_logs", "OLDEST_TIME", {"$datetime": "2026-11-18T07:30:12"})
    monkeypatch.setattr("oracledb.connect", _shaped_connect(shapes, "WMSPDB"))
    path = secrets_file(tmp_path, 1521)
    statuses = {}
    for stage in ("val", "production"):
        main(["preflight", "--stage", stage, "--secrets-file", str(path), "--json"])
        results = json.loads(capsys.readouterr().out)["results"]
        statuses[stage] = next(r["status"] for r in results if r["id"] == "archive_retention")
    assert statuses == {"val": "PASS", "production": "WARN"}


def test_failing_database_prints_the_fix_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = DocShapes("non_cdb_ready")
    shapes.set_value("database", "LOG_MODE", "NOARCHIVELOG")
    monkeypatch.setattr("oracledb.connect", _shaped_connect(shapes, None))
    path = secrets_file(tmp_path, 1521, pdb=None)
    assert main(["preflight", "--stage", "main", "--secrets-file", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "ALTER DATABASE ARCHIVELOG;" in out
    assert "docs/sql/common/01_archivelog.sql" in out
    assert "not ready" in out


def test_offline_uses_the_fake_example_and_never_resolves_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preflight", "--stage", "feature-x", "--offline", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["target"].startswith("c##dbzuser@oracle.fake-wms.example.invalid:1521/")
    assert "is a placeholder (.invalid)" in report["results"][0]["detail"]


@pytest.mark.parametrize(
    "dsn", [f"wms_cdc/{PASSWORD}", f"wms_cdc/{PASSWORD}:1521/WMSDB", f"wms_cdc/{PASSWORD}@notahost"]
)
def test_a_dsn_without_at_never_echoes_its_password(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Without '@' the whole DSN is the "address": the error must name the user, never the password.
    assert main(["preflight", "--dsn", dsn]) == 2
    out, err = capsys.readouterr()
    assert "wms_cdc/***" in err
    assert PASSWORD not in out + err
    assert "Traceback" not in out + err


def test_a_dsn_whose_password_holds_at_never_echoes_a_piece_of_it(capsys: pytest.CaptureFixture[str]) -> None:
    # 'p@ss' with the host forgotten: what follows the last '@' is the password's tail.
    assert main(["preflight", "--dsn", "wms_cdc/s3cret@tail-of-PW"]) == 2
    out, err = capsys.readouterr()
    assert "wms_cdc/***@..." in err
    assert "tail-of-PW" not in out + err
    assert "s3cret" not in out + err


def test_a_bad_address_without_inline_password_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert main(["preflight", "--dsn", "wms_cdc@db.example.com/WMSDB"]) == 2
    err = capsys.readouterr().err
    assert "'wms_cdc@db.example.com/WMSDB'" in err
    assert PASSWORD not in err
