"""Human output shows foreign text (Oracle's, the plugin's, the broker's) as is: never as rich markup.

Unescaped, ``[kcbz]`` vanished from the line (an unknown style tag) and ``[/x]`` raised
``MarkupError``: a traceback instead of the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from wms_connector.commands.connector import _render_checks
from wms_connector.commands.preflight import render
from wms_connector.commands.topics import _render_delete, _render_reconcile
from wms_connector.preflight.model import CheckResult, Status
from wms_connector.preflight.runner import Report

ORACLE_TEXT = "ORA-00600: arguments: [kcbz], [/x]"
PLUGIN_TEXT = "Invalid value [source, kafka] at [/a]"
BROKER_TEXT = "Broker: denied [topic/b]"


def test_preflight_details_are_shown_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    render(Report("u@h:1521/s", (CheckResult("connection", "connect", Status.FAIL, ORACLE_TEXT),)))
    assert ORACLE_TEXT in capsys.readouterr().out


def test_plugin_and_check_messages_are_shown_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    data: dict[str, Any] = {
        "problems": [{"severity": "error", "key": "k", "message": PLUGIN_TEXT}],
        "validation": {
            "errors": [{"key": "signal.enabled.channels", "message": PLUGIN_TEXT, "connection": False}],
            "ok": False,
            "summary": "1 error",
        },
    }
    _render_checks(data)
    assert capsys.readouterr().out.count(PLUGIN_TEXT) == 2


def test_broker_errors_are_shown_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    action = {"topic": "t", "action": "create", "changes": {}, "problems": [], "error": BROKER_TEXT}
    _render_reconcile({"dry_run": False, "actions": [action]})
    _render_delete(
        {
            "stage": "feature-x",
            "dry_run": False,
            "delete": ["t"],
            "deleted": [],
            "errors": {"t": BROKER_TEXT},
            "still_listed": [],
            "spared": [],
        }
    )
    assert capsys.readouterr().out.count(BROKER_TEXT) == 2


def test_local_demo_prints_column_values_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from wms_connector.local.demo import print_event
    from wms_connector.local.events import ChangeEvent

    before = {"ID": 1, "NOTE": "old"}
    after = {"ID": 1, "NOTE": "[/x] [urgent]"}
    event = ChangeEvent("t", "u", {"ID": 1}, before, after, commit_ms=None, kafka_ms=None)
    print_event(Console(highlight=False), event, standin=True)
    assert "NOTE: old -> [/x] [urgent]" in capsys.readouterr().out
