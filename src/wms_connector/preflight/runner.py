"""Send the queries, collect the answers, hand them to the checks: the preflight's only loop.

Order: everything that lives in ``CDB$ROOT`` (or the one database of a non-CDB) first, then, for a
CDB, ``ALTER SESSION SET CONTAINER`` into the PDB and the table-level queries. A refused query
becomes that check's FAIL; it never stops the others. An overall deadline bounds the whole run:
queries not sent before it are reported as not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wms_connector.naming import TableId
from wms_connector.preflight import checks
from wms_connector.preflight.database import (
    Connector,
    ConnectSpec,
    Database,
    RefusedError,
    open_database,
    thin_connect,
)
from wms_connector.preflight.model import Answer, CheckResult, Expectations, QueryFailed, Status
from wms_connector.preflight.queries import Query, catalog, set_container

#: Per round trip (python-oracledb ``call_timeout``) and for the connection, at most.
CALL_TIMEOUT_MS = 15_000
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Report:
    target: str
    results: tuple[CheckResult, ...]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return self.count(Status.FAIL) == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "summary": {s.value.lower(): self.count(s) for s in Status},
            "results": [r.as_dict() for r in self.results],
        }


def explain_connect_failure(failed: QueryFailed, spec: ConnectSpec) -> QueryFailed:
    """Say what a connection failure means for the operator, keeping Oracle's code."""
    where = f"{spec.host}:{spec.port}"
    text = failed.message
    if failed.code == "ORA-01017":
        hint = f"wrong user name or password for {spec.user}: check the password in dbInfo or --dsn"
    elif "Connection refused" in text or failed.code == "ORA-12541":
        hint = f"connection refused by {where}: no listener there (check host, port and security groups)"
    elif failed.code == "ORA-12514":
        hint = f"the listener at {where} does not know service {spec.service!r}: check dbInfo.db"
    elif failed.code == "ORA-28000":
        hint = f"account {spec.user} is locked: the DBA must unlock it"
    elif failed.code == "ORA-28001":
        hint = f"the password of {spec.user} has expired: the DBA must reset it, then update dbInfo"
    else:
        return failed
    return QueryFailed(failed.code, f"{hint} ({text})")


def run_checks(
    db: Database,
    expect: Expectations,
    *,
    target: str,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Every check against an open database. Pure apart from ``db`` and ``clock``."""
    queries = catalog(expect)
    answers: dict[str, Answer | None] = {}

    def ask(query: Query, params: dict[str, Any] | None = None) -> Answer:
        if clock() > deadline:
            return QueryFailed("TIMEOUT", "not run: the preflight's overall deadline passed")
        try:
            return db.query(query.sql, query.params if params is None else params)
        except RefusedError as refused:
            return refused.failed

    for query in queries.values():
        if not query.in_pdb:
            answers[query.name] = ask(query)

    database = answers["database"]
    scn = None if isinstance(database, QueryFailed) or not database else database[0].get("CURRENT_SCN")
    switch_failed: QueryFailed | None = None
    if expect.is_cdb and expect.pdb_name:
        switch = Query("set_container", set_container(expect.pdb_name), (), {})
        outcome = ask(switch)
        if isinstance(outcome, QueryFailed):
            switch_failed = QueryFailed(
                outcome.code, f"not run: cannot switch to PDB {expect.pdb_name.upper()}: {outcome}"
            )

    for query in queries.values():
        if not query.in_pdb:
            continue
        if switch_failed is not None:
            answers[query.name] = switch_failed
        elif query.name.startswith("flashback:"):
            answers[query.name] = None if scn is None else ask(query, {"scn": scn})
        else:
            answers[query.name] = ask(query)

    def got(name: str) -> Answer:
        answer = answers.get(name)
        return QueryFailed("NOT RUN", f"{name} was not queried") if answer is None else answer

    selects: dict[TableId, Answer] = {t: got(f"select:{t.qualified}") for t in expect.tables}
    flashbacks: dict[TableId, Answer | None] = {
        t: answers.get(f"flashback:{t.qualified}") for t in expect.tables
    }
    destination = checks.chosen_destination(got("archive_dests"), expect)
    results = (
        checks.check_connection(got("session"), target, expect),
        checks.check_cdb(got("database"), got("session"), answers.get("pdbs"), expect),
        checks.check_log_mode(got("database"), expect),
        checks.check_database_supplemental_logging(got("database"), expect),
        checks.check_table_supplemental_logging(got("database"), got("log_groups"), expect),
        checks.check_system_privileges(got("session_privs"), expect),
        checks.check_roles(got("session_roles"), expect),
        checks.check_object_privileges(got("object_privs"), got("session_roles"), expect),
        checks.check_table_access(selects, flashbacks, expect),
        checks.check_long_names(got("columns"), expect),
        checks.check_primary_keys(got("primary_keys"), expect),
        checks.check_redo_logs(got("redo_logs"), got("log_switches"), expect),
        checks.check_archive_destinations(got("archive_dests"), expect),
        checks.check_archive_retention(got("archived_logs"), destination, expect),
        checks.check_undo_retention(got("undo"), expect),
        checks.check_heartbeat_signal_tables(got("aux_tables"), expect),
    )
    return Report(target, results)


def preflight(
    spec: ConnectSpec,
    expect: Expectations,
    *,
    timeout_s: float = 60.0,
    connector: Connector = thin_connect,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Connect (bounded), run every check (bounded), close. Never raises for a database problem."""
    deadline = clock() + timeout_s
    if spec.host.lower().endswith(".invalid"):
        # RFC 6761: never resolvable. The checked-in example secrets (--offline) use such hosts.
        failed = QueryFailed(
            "INPUT", f"host {spec.host} is a placeholder (.invalid): put the real host in dbInfo"
        )
        return Report(spec.shown, (checks.check_connection(failed, spec.shown, expect),))
    try:
        db = open_database(
            spec,
            connect_timeout_s=min(CONNECT_TIMEOUT_S, timeout_s),
            call_timeout_ms=int(min(CALL_TIMEOUT_MS, timeout_s * 1000)),
            connector=connector,
        )
    except RefusedError as refused:
        failed = explain_connect_failure(refused.failed, spec)
        return Report(spec.shown, (checks.check_connection(failed, spec.shown, expect),))
    try:
        return run_checks(db, expect, target=spec.shown, deadline=deadline, clock=clock)
    finally:
        db.close()
