"""The live demo of ``wms-connector local run`` on the session's real cluster and a STAND-IN."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from wms_connector.commands.local_run import closing_audit, local_agent
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, ConnectRestError, HttpConnectApi
from wms_connector.local import demo
from wms_connector.local.standin import LABEL, StandInPostgres
from wms_connector.naming import CAPTURED_TABLES, names_for

pytestmark = pytest.mark.integration


def test_demo_shows_changes_of_all_four_tables(
    local_cluster: Any, standin_state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "DEMO_PAUSE_S", 0.02)  # the whole round in ~1 s
    standin = StandInPostgres(standin_state_dir, password=os.environ[STANDIN_PASSWORD_ENV]).start()
    out = io.StringIO()
    api = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
    try:
        source = PostgresStandIn(
            standin.host, standin.port, standin.dbname, standin.user, password=standin.password
        )
        summary = demo.run_demo(
            stage=local_cluster.stage,
            bootstrap=local_cluster.bootstrap,
            api=api,
            source=source,
            duration_s=20,
            console=Console(file=out, width=200),
            standin=standin,
            agent=local_agent(local_cluster.stage, local_cluster.state, standin),
        )
        names = names_for(local_cluster.stage)
        for table in CAPTURED_TABLES:
            for op in ("c", "u", "d"):
                assert summary.events[names.data_topic(table), op] >= 1, (table, op)
        text = out.getvalue()
        assert LABEL in text and "insert" in text and "delete" in text
        # make run shows the connect-agent's status line (beside worker 0, as in an ECS task).
        agent_lines = [line for line in text.splitlines() if line.startswith("agent: ")]
        assert agent_lines and all("restarts 0" in line for line in agent_lines)
        assert any(v in agent_lines[-1] for v in ("agent: healthy", "agent: running-elsewhere"))
        # A fresh stand-in's connector is created by this run: the summary says so (not "unchanged").
        assert summary.as_dict()["registration"] == "created"
        assert summary.as_dict()["interrupted"] is False
        # It stops what it started: the connector is gone.
        with pytest.raises(ConnectRestError) as gone:
            api.get_config(names.standin_connector)
        assert gone.value.status == 404
        # make run ends with the audit of the stand-in tables (issue 21): all four equal.
        audit = closing_audit(local_cluster.stage, local_cluster.bootstrap, standin, summary.start_offsets)
        assert audit["verdict"] == "equal", audit
        assert [t["table"] for t in audit["tables"]] == [t.qualified for t in CAPTURED_TABLES]
        assert sum(int(t["source_rows"]) for t in audit["tables"]) > 0
    finally:
        api.close()
        standin.stop()
