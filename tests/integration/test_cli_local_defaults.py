"""The CLI on the running local cluster (the session's): `status` and `verify` find it without
URLs, and `local status` shows every address whole at 40, 80 and 120 columns (issue 25)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.table import Table

from wms_connector import output
from wms_connector.cli import main
from wms_connector.local.cluster import LocalCluster

pytestmark = pytest.mark.integration


@pytest.fixture
def here(local_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> LocalCluster:
    monkeypatch.setenv("WMS_LOCAL_STATE", str(local_cluster.state_dir))
    return local_cluster


@pytest.mark.parametrize("width", [40, 80, 120])
def test_local_status_shows_every_address_whole(
    here: LocalCluster, width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output.console, "_width", width)
    assert main(["local", "status"]) == 0
    out = capsys.readouterr().out
    for url in here.rest_urls:
        assert url in out.split(), f"{url} is cut at {width} columns:\n{out}"
    assert here.bootstrap in out


def test_status_and_verify_default_to_the_running_local_cluster(
    here: LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = here.stage.name
    code = main(["status", "--stage", stage, "--json"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["connect_url"] == here.rest_urls[0]
    assert "error" not in data  # the worker answered (the connector itself may not exist)
    assert data["connector"].endswith("standin-postgres")
    assert here.rest_urls[0] in err
    assert code in (0, 1)

    code = main(["verify", "--stage", stage, "--timeout", "1", "--json"])
    out, err = capsys.readouterr()
    checks = {c["check"]: c for c in json.loads(out)["checks"]}
    assert code == 1  # no connector runs: not verified, but the cluster was found (no AWS, no URL)
    assert "no AWS region" not in err and here.rest_urls[0] in err
    assert all("does not answer" not in c["detail"] for c in checks.values()), checks


def test_status_with_nothing_running_is_one_line_and_no_table(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMS_LOCAL_STATE", str(tmp_path))
    code = main(["status", "--stage", "main", "--connect-url", "http://127.0.0.1:9"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "None" not in out and "does not answer" not in out
    assert (
        err.startswith("error: Kafka Connect at http://127.0.0.1:9 does not answer") and err.count("\n") == 1
    )


def test_local_up_on_a_running_cluster_is_refused_unless_reuse(
    here: LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    before = here.state
    assert main(["local", "up", "--stage", here.stage.name]) == 1
    err = capsys.readouterr().err
    assert "already runs" in err and "--reuse" in err and "local down" in err
    assert main(["local", "up", "--stage", here.stage.name, "--workers", "2", "--reuse", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["started"] is False
    assert here.state == before  # nothing was restarted


@pytest.mark.parametrize("width", [40, 80, 120])
def test_status_and_verify_human_output_cut_nothing(
    here: LocalCluster, width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network commands' part of the width sweep (tests/unit/test_output_widths.py does the rest)."""
    tables: list[Table] = []
    original = Table.__rich_console__

    def spy(self: Table, console: Any, options: Any) -> Any:
        tables.append(self)
        return original(self, console, options)

    monkeypatch.setattr(Table, "__rich_console__", spy)
    for console in (output.console, output.err_console):
        monkeypatch.setattr(console, "_width", width)
    for argv in (
        ["status", "--stage", here.stage.name],
        ["verify", "--stage", here.stage.name, "--timeout", "1"],
    ):
        main(argv)
        printed = "".join(capsys.readouterr())
        assert "None" not in printed
        assert here.rest_urls[0] in printed.split()
        for table in tables:
            assert output.table_rows(table), argv
            for row in output.table_rows(table):
                for _heading, cell in row:
                    for line in cell.splitlines():
                        assert line.strip() in printed, f"{argv} at {width}: {line!r} cut"
