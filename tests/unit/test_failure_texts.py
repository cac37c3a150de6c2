"""The agent's unrecoverable classes and the REST client's unreachable markers, matched against the
exact texts Debezium and the Oracle JDBC driver produce (tests/fixtures/oracle/failure_texts.json,
read in the source of the pinned versions; tests/integration/test_failure_texts_in_jars.py finds
them in the pinned jars)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest

from wms_connector.agent.policy import Unrecoverable, classify
from wms_connector.connect.rest import is_unreachable_message
from wms_connector.local.pom import pinned_versions

ROOT: Final = Path(__file__).resolve().parents[2]
FIXTURE: Final = ROOT / "tests" / "fixtures" / "oracle" / "failure_texts.json"
TEXTS: Final[dict[str, Any]] = json.loads(FIXTURE.read_text())


def task_trace(text: dict[str, Any]) -> str:
    """A FAILED task's ``trace`` as Connect reports it: Debezium's producer failure wrapping the cause
    (ErrorHandler.java:67), with stack frames between."""
    thrown = text["thrown"].split()[0]
    return (
        "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event "
        "producer. This connector will be stopped.\n"
        "\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\n"
        "\tat io.debezium.pipeline.ChangeEventSourceCoordinator.lambda$start$0"
        "(ChangeEventSourceCoordinator.java:145)\n"
        f"Caused by: {thrown}: {text['example']}\n"
        "\tat io.debezium.connector.oracle.OracleConnection.getOracleVersion(OracleConnection.java:158)\n"
    )


def validation_refusal(text: dict[str, Any]) -> str:
    """Connect's HTTP 400 message for a create/PUT whose validation failed (AbstractHerder)."""
    return (
        "Connector configuration is invalid and contains the following 1 error(s):\n"
        f"{text['example']}\n"
        "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )


def test_the_texts_were_read_for_the_pinned_versions() -> None:
    """A version bump in runtime/pom.xml fails here until every text is re-read in the new source."""
    pinned = pinned_versions((ROOT / "runtime" / "pom.xml").read_text())
    assert TEXTS["versions"] == {"debezium": pinned["debezium"], "ojdbc": pinned["ojdbc"]}, (
        "runtime/pom.xml pins other versions than tests/fixtures/oracle/failure_texts.json was read for: "
        "re-read each text at its source location, then update the fixture's versions"
    )


def test_every_unrecoverable_class_has_a_text_from_the_source() -> None:
    oracle_classes = {u for u in Unrecoverable if u is not Unrecoverable.REPLICATION_SLOT_LOST}
    covered = {
        Unrecoverable(t["expect"]["unrecoverable"]) for t in TEXTS["texts"] if t["expect"]["unrecoverable"]
    }
    assert covered == oracle_classes


@pytest.mark.parametrize("text", TEXTS["texts"], ids=[t["id"] for t in TEXTS["texts"]])
def test_the_agent_classifies_each_text(text: dict[str, Any]) -> None:
    expected = text["expect"]["unrecoverable"]
    assert classify(task_trace(text)) == (Unrecoverable(expected) if expected else None)
    # The bare message too (a connector-level trace, or a log line).
    assert classify(text["example"]) == (Unrecoverable(expected) if expected else None)


@pytest.mark.parametrize("text", TEXTS["texts"], ids=[t["id"] for t in TEXTS["texts"]])
def test_the_rest_client_calls_each_text_unreachable_or_not(text: dict[str, Any]) -> None:
    assert is_unreachable_message(validation_refusal(text)) is text["expect"]["unreachable"]


def test_rejected_credentials_read_as_unreachable_at_validation() -> None:
    """What Debezium's validation says for a wrong password is the same text as for a dead listener
    (the driver's ORA-01017 is only the exception's cause), so a create/PUT refused for bad
    credentials is reported as 'database unreachable'; the agent tells them apart only from a FAILED
    task's trace. Recorded here so a change in that wording is noticed."""
    validation = next(t for t in TEXTS["texts"] if t["id"] == "validation-unable-to-connect")
    assert "ORA-" not in validation["example"]
    assert "credentials" in validation["when"]
