"""The STAND-IN PostgreSQL itself (real server, no Kafka)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from wms_connector.local import standin as standin_module
from wms_connector.local.procs import port_is_free
from wms_connector.local.standin import StandInPostgres
from wms_connector.local.workload import apply, demo_steps


@pytest.fixture
def standin(standin_state_dir) -> StandInPostgres:  # type: ignore[no-untyped-def]
    db = StandInPostgres(standin_state_dir).start()
    yield db
    db.stop()


def test_standin_has_the_four_tables_and_logical_wal(standin: StandInPostgres) -> None:
    with standin.connect() as conn:
        tables = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('WMS', 'MMDL') ORDER BY 1"
        ).fetchall()
        assert [t[0] for t in tables] == [
            "MMDL.PLAN_BASE_WVR_TBL",
            "MMDL.PLAN_WVR_RVSN_TBL",
            "WMS.PLAN_BASE_WVR_TBL",
            "WMS.PLAN_WVR_RVSN_TBL",
        ]
        assert conn.execute("SHOW wal_level").fetchone() == ("logical",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        identities = conn.execute(
            "SELECT relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('WMS','MMDL') AND c.relkind = 'r'"
        ).fetchall()
        assert identities == [("f",)] * 4


def test_demo_workload_applies(standin: StandInPostgres) -> None:
    with standin.connect() as conn:
        for change in demo_steps(rows_per_table=3):
            apply(conn, change)
        counts = conn.execute(
            'SELECT (SELECT count(*) FROM "WMS"."PLAN_BASE_WVR_TBL"), '
            '(SELECT count(*) FROM "MMDL"."PLAN_WVR_RVSN_TBL")'
        ).fetchone()
    assert counts == (2, 2)


def test_stop_removes_data(standin_state_dir) -> None:  # type: ignore[no-untyped-def]
    db = StandInPostgres(standin_state_dir).start()
    assert db.data_dir.exists()
    db.stop()
    assert not db.data_dir.exists()


def test_a_failed_start_leaves_no_server_running(
    standin_state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the server started (here: bad DDL) stops it; the caller has nothing to stop."""
    monkeypatch.setattr(standin_module, "schema_sql", lambda: ["CREATE TABLE broken ("])
    db = StandInPostgres(standin_state_dir)
    try:
        with pytest.raises(psycopg.Error):
            db.start()
        assert db.port
        assert port_is_free(db.port), f"the STAND-IN server still listens on {db.port} after a failed start"
        assert not db.data_dir.exists()
    finally:
        db.stop()  # a no-op once start() cleaned up after itself
