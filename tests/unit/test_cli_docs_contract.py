"""The documents people act on agree with the product (issue 25): the runbook sends operators only
to commands that exist where it says to run them, and the agent's environment contract in
docs/runtime.md lists exactly what the code reads and what the task definition sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wms_connector.agent.desired import ORACLE_KEYS, STANDIN_KEYS
from wms_connector.agent.identity import METADATA_ENV

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _contract_variables() -> set[str]:
    text = (DOCS / "runtime.md").read_text()
    section = text.split("## The connect-agent's environment (contract)", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z0-9_]+)`", cell)}


def test_the_agent_environment_contract_lists_every_variable_the_agent_reads() -> None:
    read = {
        *ORACLE_KEYS,
        *STANDIN_KEYS,
        "KAFKA_BOOTSTRAP_SERVERS",
        "WMS_KAFKA_AUTH",
        "ORACLE_PDB",
        METADATA_ENV,
    }
    assert read <= _contract_variables()


def test_the_contract_lists_every_variable_the_task_definition_sets() -> None:
    pytest.importorskip("aws_cdk")
    from wms_connector.infra.connect_service import connect_environment
    from wms_connector.secrets.shapes import BrokerString, DbInfo

    db = DbInfo(host="db.example.invalid", port=1521, db="CDB", pdb_name="PDB", user="u", password="p")
    env = connect_environment(stage="main", db=db, brokers=BrokerString.parse("b-1.example.invalid:9094"))
    assert set(env) <= _contract_variables()


def test_the_runbook_names_no_kafka_script_the_image_lacks() -> None:
    runbook = (DOCS / "operations.md").read_text()
    assert not re.findall(r"kafka-[a-z-]+\.sh", runbook)


def test_the_runbook_never_sends_to_worker_config_without_its_required_options() -> None:
    runbook = " ".join((DOCS / "operations.md").read_text().split())
    for mention in re.findall(r"worker-config[^`]*", runbook):
        assert "--heap-opts" in mention or all(
            option in mention for option in ("--bootstrap", "--advertised-host", "--plugin-path")
        ), mention
