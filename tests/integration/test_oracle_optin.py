"""Opt-in (``make test-oracle``): the Oracle connector on the local cluster, through the agent.

After the DBA's scripts (test_oracle_dba_scripts.py) the connect-agent, built exactly as in an ECS
task for ``--source oracle`` (``commands.agent.build_agent``), creates the connector from the
stage, the initial snapshot reads the rows already there, then a workload of inserts, updates and
deletes runs on the four tables in both schemas. Every table folded from its topic (what any
consumer rebuilds: the last after-image per key, deletes removed) must equal Oracle's rows at full
precision, column by column, in the JSON forms of ``docs/stream.md``; and the agent must judge the
running connector healthy from real LogMiner metrics (SCNs present).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import oracledb
import pytest

from tests.integration.oracle_optin import needs_oracle, oracle_target
from tests.integration.oracle_target import OracleTarget
from wms_connector.agent.desired import PASSWORD_REF_ENV
from wms_connector.agent.loop import Agent
from wms_connector.agent.policy import Verdict
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.connect.connector_config import ORACLE_PASSWORD_ENV
from wms_connector.connect.secret_refs import env_placeholder
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.events import ChangeEvent
from wms_connector.local.pipeline import EventTail, ensure_local_topics
from wms_connector.local.standin import KEY_COLUMN
from wms_connector.local.workload import Change, Op, demo_steps, waiver_row
from wms_connector.naming import CAPTURED_TABLES, TableId, names_for

pytestmark = needs_oracle

#: Keys of the rows inserted before the connector exists (the workload uses 1 to 3).
SNAPSHOT_KEYS = (901, 902)

EPOCH = dt.datetime(1970, 1, 1)
#: Columns whose JSON is an ISO 8601 string with the offset (TIMESTAMP WITH TIME ZONE).
ZONED = {"SBMT_TS"}
#: TIMESTAMP(6): epoch microseconds; DATE: epoch milliseconds (docs/stream.md).
MICROS = {"APRVL_TS", "LAST_UPDT_TS"}
DATES = {"EFF_DT", "END_DT", "RVSN_EFF_DT", "APRVL_DT"}
#: NUMBER with a scale or none: exact decimal strings.
DECIMALS = {"WVR_AMT", "WVR_RATE", "RVSN_AMT", "RVSN_FACTOR"}


def _connect_cdc_side(target: OracleTarget) -> Any:
    """The application's session (the DBA account, in the PDB): it writes the tables."""
    from tests.integration.oracle_dba import connect_dba

    connection = connect_dba(target)
    if target.pdb:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER SESSION SET CONTAINER = {target.pdb}")
    return connection


def _bind(values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Column expressions and binds; a zoned timestamp is bound as text with its offset."""
    expressions, binds = [], {}
    for column, value in values.items():
        if column in ZONED and value is not None:
            expressions.append(f"TO_TIMESTAMP_TZ(:{column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.FF6TZH:TZM')")
            binds[column] = value.isoformat(timespec="microseconds")
        else:
            expressions.append(f":{column}")
            binds[column] = value
    return expressions, binds


def apply(connection: Any, change: Change) -> None:
    table, key_column = change.table.qualified, KEY_COLUMN[change.table.table]
    with connection.cursor() as cursor:
        if change.op is Op.CREATE:
            expressions, binds = _bind(change.values)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(change.values)}) VALUES ({', '.join(expressions)})",
                binds,
            )
        elif change.op is Op.UPDATE:
            values = {c: v for c, v in change.values.items() if c != key_column}
            expressions, binds = _bind(values)
            sets = ", ".join(f"{c} = {e}" for c, e in zip(values, expressions, strict=True))
            cursor.execute(
                f"UPDATE {table} SET {sets}, LAST_UPDT_TS = LOCALTIMESTAMP WHERE {key_column} = :k",
                {**binds, "k": change.key},
            )
        else:
            cursor.execute(f"DELETE FROM {table} WHERE {key_column} = :k", {"k": change.key})
    connection.commit()


def oracle_rows(connection: Any, table: TableId) -> dict[int, dict[str, Any]]:
    """Oracle's rows in the JSON forms the connector must produce (docs/stream.md)."""
    oracledb.defaults.fetch_decimals = True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table.qualified} WHERE ROWNUM = 0")
        columns = [d[0] for d in cursor.description]
        select = [
            f"TO_CHAR({c}, 'YYYY-MM-DD\"T\"HH24:MI:SS.FF6TZH:TZM') AS {c}" if c in ZONED else c
            for c in columns
        ]
        cursor.execute(f"SELECT {', '.join(select)} FROM {table.qualified}")
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    out = {}
    for row in rows:
        expected: dict[str, Any] = {}
        for column, value in row.items():
            if value is None:
                expected[column] = None
            elif column in DATES:
                expected[column] = int((value - EPOCH).total_seconds() * 1000)
            elif column in MICROS:
                expected[column] = (value - EPOCH) // dt.timedelta(microseconds=1)
            elif column in DECIMALS:
                expected[column] = Decimal(value)
            elif column in ZONED:
                expected[column] = dt.datetime.fromisoformat(value)
            else:
                expected[column] = int(value) if isinstance(value, Decimal) else value
        out[int(row[KEY_COLUMN[table.table]])] = expected
    return out


def fold(events: list[ChangeEvent], topic: str, table: TableId) -> dict[int, dict[str, Any]]:
    """A consumer's table: the last after-image per key, in topic order; deletes remove the key."""
    state: dict[int, dict[str, Any]] = {}
    for event in sorted((e for e in events if e.topic == topic), key=lambda e: (e.partition, e.offset)):
        key = int(event.key[KEY_COLUMN[table.table]]) if event.key else None
        if key is None or event.op == "tombstone":
            continue
        if event.op == "d":
            state.pop(key, None)
        elif event.after is not None:
            state[key] = {
                column: (
                    Decimal(value)
                    if column in DECIMALS and value is not None
                    else dt.datetime.fromisoformat(value)
                    if column in ZONED and value is not None
                    else value
                )
                for column, value in event.after.items()
            }
    return state


@dataclass
class Running:
    """The connector the agent created, the application's session, and what the topics hold."""

    agent: Agent
    source: Any
    tail: EventTail
    events: list[ChangeEvent]
    topics: dict[TableId, str]


@pytest.fixture(scope="module")
def running(local_cluster: LocalCluster) -> Iterator[Running]:
    target = oracle_target()
    assert os.environ.get(ORACLE_PASSWORD_ENV) == target.cdc_password.get_secret_value(), (
        f"the workers read the password from {ORACLE_PASSWORD_ENV}: make test-oracle exports it"
    )
    stage = local_cluster.stage
    names = names_for(stage)
    ensure_local_topics(local_cluster.bootstrap, stage)
    source = _connect_cdc_side(target)
    # Rows already there before the connector exists: the initial snapshot reads them.
    for table in CAPTURED_TABLES:
        for key in SNAPSHOT_KEYS:
            apply(source, Change(table, Op.CREATE, key, waiver_row(table, key)))
    worker = local_cluster.state.workers[0]
    agent, api = build_agent(
        stage_name=stage.name,
        source=AgentSource.ORACLE,
        connect_url=local_cluster.rest_urls[0],
        metrics_url=local_cluster.metrics_urls[0],
        worker_id=f"127.0.0.1:{worker.port}",
        state_file=None,
        reconcile_enabled=True,
        env={
            "ORACLE_HOST": target.host,
            "ORACLE_PORT": str(target.port),
            "ORACLE_DB": target.service,
            "ORACLE_PDB": target.pdb or "",
            "ORACLE_USER": target.cdc_user,
            "KAFKA_BOOTSTRAP_SERVERS": local_cluster.bootstrap,
            "WMS_KAFKA_AUTH": "plaintext",
            # Local workers read the password from their environment (connect.secret_refs).
            PASSWORD_REF_ENV: env_placeholder(ORACLE_PASSWORD_ENV),
        },
    )
    agent.emit = lambda _line: None
    tail = EventTail(local_cluster.bootstrap, list(names.data_topics.values()))
    try:
        yield Running(agent, source, tail, [], names.data_topics)
    finally:
        tail.close()
        api.delete(names.connector)
        api.close()
        source.close()


def _converged(running: Running, expected: dict[TableId, dict[int, dict[str, Any]]]) -> bool:
    return all(fold(running.events, running.topics[t], t) == expected[t] for t in CAPTURED_TABLES)


def test_snapshot_from_real_oracle(running: Running) -> None:
    """The agent creates the connector from the stage; the snapshot reads the rows already there;
    the agent then judges it healthy from real LogMiner metrics (SCNs present)."""
    deadline = time.monotonic() + 600
    healthy_with_scn = False
    while time.monotonic() < deadline and not healthy_with_scn:
        report = running.agent.cycle()
        streaming = report.observation.streaming
        healthy_with_scn = (
            report.decision.assessment.verdict is Verdict.HEALTHY
            and streaming is not None
            and streaming.current_scn is not None
            and streaming.offset_scn is not None
        )
        time.sleep(2)
    assert healthy_with_scn, report.decision.assessment
    expected = {t: oracle_rows(running.source, t) for t in CAPTURED_TABLES}
    assert all(set(rows) == set(SNAPSHOT_KEYS) for rows in expected.values())
    running.tail.collect(lambda _seen: _converged(running, expected), timeout_s=300, into=running.events)
    assert _converged(running, expected)
    assert {e.op for e in running.events} == {"r"}


def test_oracle_to_kafka_through_the_agent_at_full_precision(running: Running) -> None:
    """A workload of inserts, updates and deletes in both schemas; every table folded from its topic
    equals Oracle's rows, every column at full precision."""
    for change in demo_steps(rows_per_table=3, first_key=1):
        apply(running.source, change)
    expected = {t: oracle_rows(running.source, t) for t in CAPTURED_TABLES}
    running.tail.collect(lambda _seen: _converged(running, expected), timeout_s=600, into=running.events)
    for table in CAPTURED_TABLES:
        assert fold(running.events, running.topics[table], table) == expected[table], table.qualified
    assert {e.op for e in running.events} >= {"r", "c", "u", "d"}
    assert running.agent.cycle().decision.assessment.verdict is Verdict.HEALTHY


def test_the_audit_finds_oracle_and_its_topics_equal(running: Running, local_cluster: LocalCluster) -> None:
    """Issue 21 on a real Oracle, after the workload above: the audit (flashback ``AS OF SCN`` at
    the SCN the connector's committed offset passed, as the CDC user) finds every table equal."""
    from wms_connector.audit.compare import oracle_point_scn
    from wms_connector.audit.oracle import OracleSnapshot
    from wms_connector.audit.run import run_audit
    from wms_connector.preflight.database import ConnectSpec, thin_connect
    from wms_connector.preflight.queries import set_container

    target = oracle_target()
    names = names_for(local_cluster.stage)

    def open_source(offset: Any) -> OracleSnapshot:
        spec = ConnectSpec(
            target.cdc_user, target.cdc_password.get_secret_value(), target.host, target.port, target.service
        )
        connection = thin_connect(spec, 30.0)
        if target.pdb:
            connection.cursor().execute(set_container(target.pdb))
        return OracleSnapshot(connection, oracle_point_scn(offset))

    report = run_audit(
        stage=local_cluster.stage.name,
        connector=names.connector,
        client={"bootstrap.servers": local_cluster.bootstrap},
        offsets_topic=names.offsets_topic,
        topics=dict(names.data_topics),
        open_source=open_source,
        passed=lambda _source, _offset: True,  # the point comes from the committed offset
        wait_s=300,
    )
    assert report.point["kind"] == "oracle-scn"
    assert report.verdict == "equal", [t.to_json() for t in report.tables if not t.equal]
    assert sum(t.source_rows for t in report.tables) > 0
