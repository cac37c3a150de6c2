"""The read-only guard at the oracledb boundary, and the spec's references to tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.unit.oracle_doc_shapes import DocShapes
from wms_connector.preflight.database import OracleDatabase
from wms_connector.preflight.queries import NotReadOnlyError, catalog, ensure_read_only, set_container
from wms_connector.preflight.target import expectations

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openspec" / "specs" / "oracle-cdc-prerequisites" / "spec.md"


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO WMS.PLAN_BASE_WVR_TBL VALUES (1)",
        "update wms.plan_base_wvr_tbl set x = 1",
        "DELETE FROM MMDL.PLAN_WVR_RVSN_TBL",
        "ALTER SYSTEM SET UNDO_RETENTION = 3600",
        "ALTER DATABASE ADD SUPPLEMENTAL LOG DATA",
        "GRANT LOGMINING TO C##X",
        "BEGIN DBMS_LOGMNR.START_LOGMNR; END;",
        "ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY'",
        "ALTER SESSION SET CONTAINER = WMSPDB; DROP TABLE X",
        "  -- comment\nDROP USER X",
        "SELECTX FROM DUAL",
        "SELECT 1 FROM DUAL; DELETE FROM WMS.PLAN_BASE_WVR_TBL",
        "SELECT * FROM WMS.PLAN_BASE_WVR_TBL FOR UPDATE",
    ],
)
def test_anything_but_a_query_is_refused(sql: str) -> None:
    with pytest.raises(NotReadOnlyError):
        ensure_read_only(sql)


def test_the_guard_stands_before_the_driver() -> None:
    shapes = DocShapes("cdb_ready")
    expect = expectations("C##WMS_CDC", "WMSPDB", stage=None)
    connection = shapes.connection(expect)
    with pytest.raises(NotReadOnlyError):
        OracleDatabase(connection).query("DELETE FROM WMS.PLAN_BASE_WVR_TBL", {})
    assert connection.executed == []


@pytest.mark.parametrize("pdb", ["WMSPDB", "wms_pdb2"])
def test_queries_and_the_container_switch_pass(pdb: str) -> None:
    expect = expectations("C##WMS_CDC", pdb, stage=None)
    for query in catalog(expect).values():
        ensure_read_only(query.sql)
    ensure_read_only(set_container(pdb))
    ensure_read_only("WITH x AS (SELECT 1 FROM DUAL) SELECT * FROM x")


def test_spec_names_only_existing_tests() -> None:
    references = re.findall(r"^- Test: (\S+)::(\w+)$", SPEC.read_text(), re.MULTILINE)
    assert len(references) > 40
    for path, name in references:
        tree = ast.parse((ROOT / path).read_text())
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert name in defined, f"{path}::{name}"
