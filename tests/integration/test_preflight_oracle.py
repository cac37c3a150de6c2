"""Opt-in (``make test-oracle``): the preflight against a real Oracle, after the DBA's scripts.

These prove what the documented answer shapes cannot: that every statement parses and runs on a
real server, that the real answers have the shapes (column names, Python types) the fixtures of
``tests/fixtures/oracle/preflight_doc_shapes`` claim, that a database prepared with ``docs/sql`` is
all green, and that each check turns red when its prerequisite is taken away (where that can be
done and undone online: ARCHIVELOG needs a restart, and minimal supplemental logging cannot be
dropped while table-level logging exists, so those two are only proven green).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.oracle_dba import apply_scripts, dba_session, execute, in_pdb
from tests.integration.oracle_optin import needs_oracle, oracle_target
from tests.integration.oracle_target import OracleTarget
from tests.unit.oracle_doc_shapes import decode, load
from tests.unit.preflight_helpers import ALL_CHECKS
from wms_connector.preflight.database import RefusedError, open_database
from wms_connector.preflight.model import Expectations, Status
from wms_connector.preflight.queries import catalog, set_container
from wms_connector.preflight.runner import Report, preflight
from wms_connector.preflight.target import expectations

pytestmark = needs_oracle

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


def _expect(target: OracleTarget) -> Expectations:
    return expectations(target.cdc_user, target.pdb, stage=None)


def _run(target: OracleTarget) -> Report:
    report = preflight(target.cdc_spec(), _expect(target), timeout_s=120)
    for line in report.results:
        print(f"{line.status.value:4} {line.id}: {line.detail}")
    return report


def test_preflight_runs_every_check_against_a_real_database() -> None:
    report = _run(oracle_target())
    assert [r.id for r in report.results] == ALL_CHECKS, report.results[0].detail
    for line in report.results:
        assert not any(code in line.detail for code in OUR_MISTAKES), line


def test_preflight_is_green_after_the_dba_scripts() -> None:
    report = _run(oracle_target())
    failed = [(r.id, r.detail) for r in report.results if r.status is Status.FAIL]
    assert failed == []


def _grant_clause(target: OracleTarget) -> str:
    return " CONTAINER=ALL" if target.is_cdb else ""


#: (checks that must leave PASS, what the DBA takes away, how it is put back) per prerequisite.
Removal = tuple[set[str], Callable[[OracleTarget], list[str]], Callable[[OracleTarget], list[str]]]
REMOVALS: dict[str, Removal] = {
    "table supplemental logging": (
        {"table_supplemental_logging"},
        lambda t: in_pdb(t, ["ALTER TABLE WMS.PLAN_WVR_RVSN_TBL DROP SUPPLEMENTAL LOG DATA (ALL) COLUMNS"]),
        lambda t: in_pdb(t, ["ALTER TABLE WMS.PLAN_WVR_RVSN_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS"]),
    ),
    "LOGMINING privilege": (
        {"system_privileges"},
        lambda t: [f"REVOKE LOGMINING FROM {t.cdc_user}{_grant_clause(t)}"],
        lambda t: [f"GRANT LOGMINING TO {t.cdc_user}{_grant_clause(t)}"],
    ),
    "catalog role": (
        {"roles", "object_privileges"},
        lambda t: [f"REVOKE SELECT_CATALOG_ROLE FROM {t.cdc_user}{_grant_clause(t)}"],
        lambda t: [f"GRANT SELECT_CATALOG_ROLE TO {t.cdc_user}{_grant_clause(t)}"],
    ),
    "flashback on a captured table": (
        {"table_access", "object_privileges"},
        lambda t: in_pdb(t, [f"REVOKE FLASHBACK ON MMDL.PLAN_BASE_WVR_TBL FROM {t.cdc_user}"]),
        lambda t: in_pdb(t, [f"GRANT FLASHBACK ON MMDL.PLAN_BASE_WVR_TBL TO {t.cdc_user}"]),
    ),
    "undo retention": (
        {"undo_retention"},
        lambda t: ["ALTER SYSTEM SET UNDO_RETENTION = 60 SCOPE=MEMORY"],
        lambda t: ["ALTER SYSTEM SET UNDO_RETENTION = 3600 SCOPE=MEMORY"],
    ),
    "signal table": (
        {"heartbeat_signal_tables"},
        lambda t: in_pdb(t, [f"DROP TABLE {t.cdc_user}.WMS_CDC_SIGNAL PURGE"]),
        lambda t: [],  # docs/sql 07 is re-run below
    ),
}


@pytest.mark.parametrize("what", list(REMOVALS))
def test_each_check_turns_red_when_its_prerequisite_is_removed(what: str) -> None:
    target = oracle_target()
    checks, remove, restore = REMOVALS[what]
    before = {r.id: r.status for r in _run(target).results}
    assert all(before[c] is Status.PASS for c in checks), before
    with dba_session(target) as connection:
        execute(connection, remove(target))
    try:
        statuses = {r.id: r.status for r in _run(target).results}
        assert any(statuses[c] is not Status.PASS for c in checks), (what, statuses)
        # Nothing else changed its verdict: each check looks at its own prerequisite.
        assert {c: s for c, s in statuses.items() if c not in checks} == {
            c: s for c, s in before.items() if c not in checks
        }
    finally:
        with dba_session(target) as connection:
            execute(connection, restore(target))
        apply_scripts(target)
    assert not [r.id for r in _run(target).results if r.status is Status.FAIL]


def test_real_answers_have_the_documented_shapes() -> None:
    target = oracle_target()
    expect = _expect(target)
    fixture = load("cdb_ready" if expect.is_cdb else "non_cdb_ready")["answers"]
    db = open_database(target.cdc_spec(), connect_timeout_s=10, call_timeout_ms=30_000)
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
        documented = fixture[name]
        columns = [c for c, _ in documented["columns"]]
        for row in rows:
            assert list(row) == columns, name
            for index, column in enumerate(columns):
                examples = [decode(r[index]) for r in documented["rows"] if r[index] is not None]
                if row[column] is not None and examples:
                    assert type(row[column]) is type(examples[0]), (name, column, row[column])
