"""The preflight against a real Oracle (opt-in): set WMS_TEST_ORACLE_DSN, and WMS_TEST_ORACLE_PDB for a CDB.

These prove what recorded answers cannot: that every statement parses and runs on a real server, and
that the real answers have the shapes (column names, Python types) the recorded fixtures claim.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.unit.oracle_recorded import decode, load
from tests.unit.preflight_helpers import ALL_CHECKS
from wms_connector.preflight.database import RefusedError, open_database
from wms_connector.preflight.queries import catalog, set_container
from wms_connector.preflight.runner import preflight
from wms_connector.preflight.target import expectations, parse_dsn

DSN_ENV = "WMS_TEST_ORACLE_DSN"
PDB_ENV = "WMS_TEST_ORACLE_PDB"

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(
        not os.environ.get(DSN_ENV),
        reason=f"no real Oracle here: set {DSN_ENV}=user/password@host:port/service ({PDB_ENV} for a CDB)",
    ),
]

#: Oracle's answers to SQL we got wrong (bad identifier, syntax, binds): never acceptable.
OUR_MISTAKES = (
    "ORA-00904",
    "ORA-00905",
    "ORA-00907",
    "ORA-00923",
    "ORA-00933",
    "ORA-00936",
    "ORA-01008",
    "ORA-01036",
)


def _target() -> tuple[Any, Any]:
    spec = parse_dsn(os.environ[DSN_ENV], os.environ)
    return spec, expectations(spec.user, os.environ.get(PDB_ENV) or None, stage=None)


def test_preflight_runs_every_check_against_a_real_database() -> None:
    spec, expect = _target()
    report = preflight(spec, expect, timeout_s=120)
    for line in report.results:
        print(f"{line.status.value:4} {line.id}: {line.detail}")
    assert [r.id for r in report.results] == ALL_CHECKS, report.results[0].detail
    for line in report.results:
        assert not any(code in line.detail for code in OUR_MISTAKES), line


def test_real_answers_have_the_recorded_shapes() -> None:
    spec, expect = _target()
    fixture = load("cdb_ready" if expect.is_cdb else "non_cdb_ready")["answers"]
    db = open_database(spec, connect_timeout_s=10, call_timeout_ms=30_000)
    try:
        scn = db.query(catalog(expect)["database"].sql, {})[0]["CURRENT_SCN"]
        queries = list(catalog(expect).values())
        if expect.pdb_name:
            roots = [q for q in queries if not q.in_pdb]
            pdb = [q for q in queries if q.in_pdb]
        else:
            roots, pdb = queries, []
        seen: dict[str, list[dict[str, Any]]] = {}
        for phase, batch in (("root", roots), ("pdb", pdb)):
            if phase == "pdb" and batch:
                db.query(set_container(expect.pdb_name or ""), {})
            for query in batch:
                params = {"scn": scn} if query.name.startswith("flashback:") else query.params
                try:
                    seen[query.name] = db.query(query.sql, params)
                except RefusedError as refused:
                    assert refused.failed.code not in OUR_MISTAKES, (query.name, refused.failed)
    finally:
        db.close()
    for name, rows in seen.items():
        recorded = fixture[name]
        columns = [c for c, _ in recorded["columns"]]
        for row in rows:
            assert list(row) == columns, name
            for index, column in enumerate(columns):
                examples = [decode(r[index]) for r in recorded["rows"] if r[index] is not None]
                if row[column] is not None and examples:
                    assert type(row[column]) is type(examples[0]), (name, column, row[column])
