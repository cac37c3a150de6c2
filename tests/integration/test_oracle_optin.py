"""Opt-in: register against a real Oracle (WMS_TEST_ORACLE_DSN) and see a snapshot."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import SecretStr

from wms_connector.connect.connector_config import ORACLE_PASSWORD_ENV, OracleSource
from wms_connector.connect.rest import HttpConnectApi
from wms_connector.local.pipeline import EventTail, ensure_local_topics, register, wait_running
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import DbInfo

DSN_ENV = "WMS_TEST_ORACLE_DSN"

needs_oracle = pytest.mark.skipif(
    not os.environ.get(DSN_ENV), reason=f"{DSN_ENV} is not set (user/password@host:port/db[/pdb])"
)


def parse_dsn(dsn: str) -> DbInfo:
    """``user/password@host:port/db`` or ``.../cdb/pdb``."""
    credentials, _, location = dsn.partition("@")
    user, _, password = credentials.partition("/")
    hostport, _, path = location.partition("/")
    host, _, port = hostport.partition(":")
    db, _, pdb = path.partition("/")
    return DbInfo(
        host=host,
        port=int(port or 1521),
        db=db,
        pdb_name=pdb or None,
        user=user,
        password=SecretStr(password),
    )


def test_parse_dsn() -> None:
    info = parse_dsn("c##dbz/pw@h:1522/CDB/PDB")
    assert (info.host, info.port, info.db, info.pdb_name, info.user) == ("h", 1522, "CDB", "PDB", "c##dbz")


@pytest.mark.oracle
@needs_oracle
def test_snapshot_from_real_oracle(local_cluster: Any) -> None:
    db = parse_dsn(os.environ[DSN_ENV])
    if os.environ.get(ORACLE_PASSWORD_ENV) != db.password.get_secret_value():
        pytest.skip(f"the workers need {ORACLE_PASSWORD_ENV} in their environment (export it before the run)")
    api = HttpConnectApi(local_cluster.rest_urls[0])
    ensure_local_topics(local_cluster.bootstrap, local_cluster.stage)
    result = register(api, local_cluster.stage, OracleSource(db), local_cluster.bootstrap)
    try:
        wait_running(api, result.name, timeout_s=300)
        tail = EventTail(local_cluster.bootstrap, list(names_for(local_cluster.stage).data_topics.values()))
        events = tail.collect(lambda es: any(e.op == "r" for e in es), timeout_s=600)
        tail.close()
        assert any(e.op == "r" for e in events)
    finally:
        api.delete(result.name)
        api.close()


@pytest.mark.oracle
@needs_oracle
def test_audit_against_real_oracle(local_cluster: Any) -> None:
    """The audit's Oracle reader on a real database: after the snapshot, the four tables equal
    their topics at an SCN the connector passed (flashback ``AS OF SCN``)."""
    from wms_connector.audit.compare import oracle_point_scn
    from wms_connector.audit.oracle import OracleSnapshot
    from wms_connector.audit.run import run_audit
    from wms_connector.preflight.database import thin_connect
    from wms_connector.preflight.queries import set_container
    from wms_connector.preflight.target import spec_from_db_info

    db = parse_dsn(os.environ[DSN_ENV])
    if os.environ.get(ORACLE_PASSWORD_ENV) != db.password.get_secret_value():
        pytest.skip(f"the workers need {ORACLE_PASSWORD_ENV} in their environment (export it before the run)")
    api = HttpConnectApi(local_cluster.rest_urls[0])
    ensure_local_topics(local_cluster.bootstrap, local_cluster.stage)
    result = register(api, local_cluster.stage, OracleSource(db), local_cluster.bootstrap)
    names = names_for(local_cluster.stage)

    def open_source(offset: Any) -> OracleSnapshot:
        connection = thin_connect(spec_from_db_info(db), 30.0)
        if db.pdb_name:
            connection.cursor().execute(set_container(db.pdb_name))
        return OracleSnapshot(connection, oracle_point_scn(offset))

    try:
        wait_running(api, result.name, timeout_s=300)
        report = run_audit(
            stage=local_cluster.stage.name,
            connector=result.name,
            client={"bootstrap.servers": local_cluster.bootstrap},
            offsets_topic=names.offsets_topic,
            topics=dict(names.data_topics),
            open_source=open_source,
            passed=lambda _source, _offset: True,
            wait_s=600,
        )
        assert report.point["kind"] == "oracle-scn"
        assert report.verdict == "equal", [t.to_json() for t in report.tables if not t.equal]
    finally:
        api.delete(result.name)
        api.close()
