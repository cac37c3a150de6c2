"""Every command's human output at 40, 80 and 120 columns (a phone-sized pane, a pipe or CI log,
a wide terminal): no table column disappears, and no cell (a reason, an address, a name) is cut,
squeezed to an ellipsis, or broken across lines.

The rule (``output.show_table``): a table prints as a table only when every cell fits on one line
at the width; otherwise the same rows print as ``heading: value`` lines. Every table any command
renders is recorded here, and each of its cells must appear whole in what was printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.measure import Measurement
from rich.table import Table

from wms_connector import output
from wms_connector.cli import main
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE

WIDTHS = (40, 80, 120)


def _malformed_secrets(tmp_path: Path) -> Path:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text())
    data["wms/default/dbInfo"] = {"host": "oracle.example.invalid"}  # no port, user, password
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(data))
    return path


#: Every command whose human output needs no network (the others: tests/integration).
COMMANDS: dict[str, list[str]] = {
    "plan-named": ["plan", "--stage", "main"],
    "plan-branch": ["plan", "--stage", "feature-with-a-longer-name"],
    "secrets": ["secrets", "--stage", "main", "--offline"],
    "secrets-malformed": ["secrets", "--stage", "main", "--secrets-file", "{malformed}"],
    "config": ["config", "--stage", "production", "--offline"],
    "config-standin": ["config", "--stage", "feature-x", "--source", "standin", "--offline"],
    "topics": ["topics", "--stage", "feature-with-a-longer-name"],
    "local-status-nothing": ["local", "status"],
}


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[Table]:
    """Every rich Table rendered during the test, however it was printed."""
    tables: list[Table] = []
    original = Table.__rich_console__

    def spy(self: Table, console: Any, options: Any) -> Any:
        tables.append(self)
        return original(self, console, options)

    monkeypatch.setattr(Table, "__rich_console__", spy)
    return tables


def _cells(table: Table) -> list[str]:
    return [
        line for column in table.columns for cell in column.cells for line in output._plain(cell).splitlines()
    ]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_cell_is_cut_and_no_column_disappears(
    name: str,
    width: int,
    tmp_path: Path,
    rendered: list[Table],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WMS_LOCAL_STATE", str(tmp_path / "state"))
    for console in (output.console, output.err_console):
        monkeypatch.setattr(console, "_width", width)
    shown: list[Table] = []
    real_show = output.show_table

    def recording(table: Table, target: Any = None) -> None:
        shown.append(table)
        real_show(table, target)

    for module in ("foundation", "connector", "topics", "local"):
        monkeypatch.setattr(f"wms_connector.commands.{module}.show_table", recording)
    argv = [a.replace("{malformed}", str(_malformed_secrets(tmp_path))) for a in COMMANDS[name]]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1, 2) and "Traceback" not in out + err
    printed = out + err
    for table in shown:
        for cell in _cells(table):
            assert cell.strip() in printed, f"{name} at {width} columns: {cell!r} is not shown whole"
    for table in rendered:
        # A table drawn as a table fits without wrapping a cell (never squeezed or cut).
        natural = Measurement.get(output.console, output.console.options.update_width(10**6), table).maximum
        assert natural <= width, f"{name}: a table {natural} wide was drawn at {width} columns"
    assert "…" not in printed, f"{name} at {width} columns: something was cut to an ellipsis"


def test_a_malformed_secret_shows_its_reason_at_40_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output.console, "_width", 40)
    code = main(["secrets", "--stage", "main", "--secrets-file", str(_malformed_secrets(tmp_path))])
    out, _ = capsys.readouterr()
    assert code == 2
    reason = next(line for line in out.splitlines() if line.startswith("status: ") and "ok" not in line)
    assert "dbInfo" in out and len(reason) > len("status: ") + 10
