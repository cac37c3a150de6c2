"""Every check's PASS, WARN and FAIL branches, through the oracledb-backed Database and the runner.

Each test starts from the documented shapes of a ready database
(tests/fixtures/oracle/preflight_doc_shapes/) and changes one answer.
"""

from __future__ import annotations

import pytest

from tests.unit.oracle_doc_shapes import DocShapes
from tests.unit.preflight_helpers import ALL_CHECKS, result, run
from wms_connector.naming import CAPTURED_TABLES
from wms_connector.preflight.model import Status
from wms_connector.preflight.queries import ensure_read_only


@pytest.fixture
def cdb() -> DocShapes:
    return DocShapes("cdb_ready")


@pytest.fixture
def non_cdb() -> DocShapes:
    return DocShapes("non_cdb_ready")


@pytest.mark.parametrize("fixture", ["cdb_ready", "non_cdb_ready"])
def test_ready_database_passes_every_check(fixture: str) -> None:
    report, connection = run(DocShapes(fixture))
    assert [r.id for r in report.results] == ALL_CHECKS
    assert {r.id: r.status for r in report.results} == dict.fromkeys(ALL_CHECKS, Status.PASS)
    assert report.ok
    assert connection.closed


def test_every_statement_sent_is_read_only_and_tables_are_read_in_the_pdb(cdb: DocShapes) -> None:
    _, connection = run(cdb)
    sent = [sql for sql, _ in connection.executed]
    for sql in sent:
        ensure_read_only(sql)
    switch = sent.index("ALTER SESSION SET CONTAINER = WMSPDB")
    table_reads = [i for i, sql in enumerate(sent) if "PLAN_" in sql and "ROWS_SEEN" in sql]
    assert len(table_reads) == 2 * len(CAPTURED_TABLES)
    assert min(table_reads) > switch
    assert sent.index(next(s for s in sent if "FROM V$LOG " in s or s.endswith("FROM V$LOG"))) < switch


def test_flashback_reads_at_the_scn_of_v_database(cdb: DocShapes) -> None:
    cdb.set_value("database", "CURRENT_SCN", 777001)
    _, connection = run(cdb)
    flashbacks = [params for sql, params in connection.executed if "AS OF SCN" in sql]
    assert flashbacks == [{"scn": 777001}] * len(CAPTURED_TABLES)


def test_non_cdb_never_switches_container(non_cdb: DocShapes) -> None:
    _, connection = run(non_cdb)
    assert not any(sql.startswith("ALTER SESSION") for sql, _ in connection.executed)


# -- log mode ------------------------------------------------------------------------------------


def test_log_mode_fail_gives_the_archivelog_sql(cdb: DocShapes) -> None:
    cdb.set_value("database", "LOG_MODE", "NOARCHIVELOG")
    report, _ = run(cdb)
    check = result(report, "log_mode")
    assert check.status is Status.FAIL
    assert "NOARCHIVELOG" in check.detail
    assert check.fix is not None
    assert check.fix.file == "docs/sql/common/01_archivelog.sql"
    assert check.fix.sql.splitlines() == [
        "SHUTDOWN IMMEDIATE",
        "STARTUP MOUNT",
        "ALTER DATABASE ARCHIVELOG;",
        "ALTER DATABASE OPEN;",
    ]
    assert not report.ok


def test_v_database_refused_fails_with_the_grant_for_it(cdb: DocShapes) -> None:
    cdb.fail("database", 942, 'ORA-00942: table or view "SYS"."V_$DATABASE" does not exist')
    report, _ = run(cdb)
    check = result(report, "log_mode")
    assert check.status is Status.FAIL
    assert "ORA-00942" in check.detail
    assert check.fix is not None
    assert check.fix.sql == "GRANT SELECT ON SYS.V_$DATABASE TO C##WMS_CDC CONTAINER=ALL;"
    # no SCN, so flashback could not be tried: reported, not crashed
    assert result(report, "table_access").status is Status.FAIL
    assert "flashback not tried" in result(report, "table_access").detail


# -- supplemental logging ----------------------------------------------------------------------


@pytest.mark.parametrize(("minimal", "full"), [("YES", "NO"), ("IMPLICIT", "NO"), ("NO", "YES")])
def test_db_supplemental_logging_pass(cdb: DocShapes, minimal: str, full: str) -> None:
    cdb.set_value("database", "SUPPLEMENTAL_LOG_DATA_MIN", minimal)
    cdb.set_value("database", "SUPPLEMENTAL_LOG_DATA_ALL", full)
    report, _ = run(cdb)
    assert result(report, "db_supplemental_logging").status is Status.PASS


def test_db_supplemental_logging_fail(non_cdb: DocShapes) -> None:
    non_cdb.set_value("database", "SUPPLEMENTAL_LOG_DATA_MIN", "NO")
    report, _ = run(non_cdb)
    check = result(report, "db_supplemental_logging")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert check.fix.sql == "ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;"


def test_table_all_columns_missing_is_a_hard_fail_with_only_that_table(cdb: DocShapes) -> None:
    missing = CAPTURED_TABLES[2]
    cdb.set_rows(
        "log_groups",
        [r for r in cdb.rows("log_groups") if not (r[0] == missing.schema and r[1] == missing.table)],
    )
    report, _ = run(cdb)
    check = result(report, "table_supplemental_logging")
    assert check.status is Status.FAIL
    assert missing.qualified in check.detail
    assert check.fix is not None
    assert check.fix.sql.splitlines() == [
        "ALTER SESSION SET CONTAINER = WMSPDB;",
        f"ALTER TABLE {missing.qualified} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;",
        "ALTER SESSION SET CONTAINER = CDB$ROOT;",
    ]


def test_table_all_columns_primary_key_logging_is_not_enough(non_cdb: DocShapes) -> None:
    non_cdb.set_rows(
        "log_groups", [[t.schema, t.table, "PRIMARY KEY LOGGING", "ALWAYS"] for t in CAPTURED_TABLES]
    )
    report, _ = run(non_cdb)
    check = result(report, "table_supplemental_logging")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert len(check.fix.sql.splitlines()) == len(CAPTURED_TABLES)


def test_table_all_columns_pass_when_database_logs_all_columns(cdb: DocShapes) -> None:
    cdb.set_value("database", "SUPPLEMENTAL_LOG_DATA_ALL", "YES")
    cdb.set_rows("log_groups", [])
    report, _ = run(cdb)
    check = result(report, "table_supplemental_logging")
    assert check.status is Status.PASS
    assert "database-wide" in check.detail


# -- CDB / PDB -------------------------------------------------------------------------------


def test_cdb_without_pdb_in_db_info_fails(cdb: DocShapes) -> None:
    report, connection = run(cdb, pdb=None)
    check = result(report, "cdb")
    assert check.status is Status.FAIL
    assert "no pdb_name" in check.detail
    assert not any(sql.startswith("ALTER SESSION") for sql, _ in connection.executed)


def test_non_cdb_with_pdb_in_db_info_fails(non_cdb: DocShapes) -> None:
    non_cdb.answers["set_container"] = {
        "error": {"code": 65090, "message": "ORA-65090: operation only allowed in a container database"}
    }
    report, _ = run(non_cdb, pdb="WMSPDB")
    check = result(report, "cdb")
    assert check.status is Status.FAIL
    assert "not a CDB" in check.detail
    # the PDB-side checks say why they did not run
    assert "cannot switch to PDB WMSPDB" in result(report, "table_access").detail


def test_cdb_pdb_not_found_fails(cdb: DocShapes) -> None:
    cdb.answers["set_container"] = {
        "error": {"code": 65011, "message": "ORA-65011: Pluggable database WMSPDB does not exist."}
    }
    report, _ = run(cdb)
    check = result(report, "cdb")
    assert check.status is Status.FAIL
    assert check.detail.startswith("PDB WMSPDB (dbInfo.pdb_name): ")
    assert "ORA-65011" in check.detail
    assert check.fix is None


def test_cdb_without_set_container_fails_with_its_grant(cdb: DocShapes) -> None:
    cdb.answers["set_container"] = {"error": {"code": 1031, "message": "ORA-01031: insufficient privileges"}}
    report, _ = run(cdb)
    check = result(report, "cdb")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert check.fix.sql == "GRANT SET CONTAINER TO C##WMS_CDC CONTAINER=ALL;"


def test_cdb_pdb_mounted_fails(cdb: DocShapes) -> None:
    cdb.set_rows("pdbs", [["WMSPDB", "MOUNTED"]])
    report, _ = run(cdb)
    assert result(report, "cdb").status is Status.FAIL
    assert "MOUNTED" in result(report, "cdb").detail


def test_cdb_connected_to_the_pdb_service_fails(cdb: DocShapes) -> None:
    cdb.set_value("session", "CON_NAME", "WMSPDB")
    report, _ = run(cdb)
    check = result(report, "cdb")
    assert check.status is Status.FAIL
    assert "not CDB$ROOT" in check.detail


def test_cdb_with_a_local_user_warns(cdb: DocShapes) -> None:
    report, _ = run(cdb, user="WMS_CDC")
    assert result(report, "cdb").status is Status.WARN


def test_switch_into_the_pdb_refused_fails_the_pdb_checks(cdb: DocShapes) -> None:
    cdb.answers["set_container"] = {"error": {"code": 1031, "message": "ORA-01031: insufficient privileges"}}
    report, _ = run(cdb)
    for check in (
        "table_supplemental_logging",
        "table_access",
        "long_names",
        "primary_keys",
        "undo_retention",
    ):
        assert result(report, check).status is Status.FAIL, check
        assert "ORA-01031" in result(report, check).detail


# -- privileges ------------------------------------------------------------------------------


def test_system_privilege_missing_fails_with_its_grant(cdb: DocShapes) -> None:
    cdb.set_rows("session_privs", [r for r in cdb.rows("session_privs") if r[0] != "LOGMINING"])
    report, _ = run(cdb)
    check = result(report, "system_privileges")
    assert check.status is Status.FAIL
    assert check.detail == "missing: LOGMINING"
    assert check.fix is not None
    assert check.fix.sql == "GRANT LOGMINING TO C##WMS_CDC CONTAINER=ALL;"


def test_set_container_is_required_only_for_a_cdb(cdb: DocShapes, non_cdb: DocShapes) -> None:
    cdb.set_rows("session_privs", [r for r in cdb.rows("session_privs") if r[0] != "SET CONTAINER"])
    report, _ = run(cdb)
    assert result(report, "system_privileges").status is Status.FAIL
    report, _ = run(non_cdb)
    assert result(report, "system_privileges").status is Status.PASS


def test_system_privilege_optional_missing_warns(non_cdb: DocShapes) -> None:
    non_cdb.set_rows(
        "session_privs", [r for r in non_cdb.rows("session_privs") if r[0] != "SELECT ANY TRANSACTION"]
    )
    report, _ = run(non_cdb)
    check = result(report, "system_privileges")
    assert check.status is Status.WARN
    assert check.fix is not None
    assert check.fix.sql == "GRANT SELECT ANY TRANSACTION TO WMS_CDC;"
    assert report.ok


def test_roles_missing_fail(cdb: DocShapes) -> None:
    cdb.set_rows("session_roles", [["SELECT_CATALOG_ROLE"]])
    report, _ = run(cdb)
    check = result(report, "roles")
    assert check.status is Status.FAIL
    assert "EXECUTE_CATALOG_ROLE" in check.detail
    assert check.fix is not None
    assert check.fix.sql == "GRANT EXECUTE_CATALOG_ROLE TO C##WMS_CDC CONTAINER=ALL;"


def test_roles_dba_warns(non_cdb: DocShapes) -> None:
    non_cdb.rows("session_roles").append(["DBA"])
    report, _ = run(non_cdb)
    assert result(report, "roles").status is Status.WARN


def test_object_privilege_missing_fails_with_exactly_that_grant(cdb: DocShapes) -> None:
    cdb.set_rows("object_privs", [r for r in cdb.rows("object_privs") if r[2] != "V_$LOG"])
    report, _ = run(cdb)
    check = result(report, "object_privileges")
    assert check.status is Status.FAIL
    assert check.detail == "missing: SELECT ON SYS.V_$LOG"
    assert check.fix is not None
    assert check.fix.sql == "GRANT SELECT ON SYS.V_$LOG TO C##WMS_CDC CONTAINER=ALL;"


def test_object_privilege_through_an_enabled_role_with_read_passes(cdb: DocShapes) -> None:
    # V_$LOG only through SELECT_CATALOG_ROLE, which holds READ on it (12.2 and later)
    cdb.set_rows(
        "object_privs", [r for r in cdb.rows("object_privs") if not (r[0] == "DIRECT" and r[2] == "V_$LOG")]
    )
    report, _ = run(cdb)
    assert result(report, "object_privileges").status is Status.PASS


def test_object_privilege_through_a_disabled_role_fails(cdb: DocShapes) -> None:
    cdb.set_rows(
        "object_privs", [r for r in cdb.rows("object_privs") if not (r[0] == "DIRECT" and r[2] == "V_$LOG")]
    )
    cdb.set_rows("session_roles", [["EXECUTE_CATALOG_ROLE"]])
    report, _ = run(cdb)
    assert result(report, "object_privileges").status is Status.FAIL


# -- tables ------------------------------------------------------------------------------------


def test_table_access_missing_select_fails_with_table_grants(non_cdb: DocShapes) -> None:
    table = CAPTURED_TABLES[1]
    non_cdb.fail(f"select:{table.qualified}", 942, "ORA-00942: table or view does not exist")
    report, _ = run(non_cdb)
    check = result(report, "table_access")
    assert check.status is Status.FAIL
    assert f"{table.qualified}: does not exist or is not visible (ORA-00942)" in check.detail
    assert check.fix is not None
    assert check.fix.sql.splitlines() == [
        f"GRANT SELECT ON {table.qualified} TO WMS_CDC;",
        f"GRANT FLASHBACK ON {table.qualified} TO WMS_CDC;",
    ]


def test_table_access_flashback_refused_fails(cdb: DocShapes) -> None:
    table = CAPTURED_TABLES[0]
    cdb.fail(f"flashback:{table.qualified}", 1031, "ORA-01031: insufficient privileges")
    report, _ = run(cdb)
    check = result(report, "table_access")
    assert check.status is Status.FAIL
    assert "AS OF SCN refused" in check.detail
    assert check.fix is not None
    assert check.fix.sql.splitlines() == [
        "ALTER SESSION SET CONTAINER = WMSPDB;",
        f"GRANT FLASHBACK ON {table.qualified} TO C##WMS_CDC;",
        "ALTER SESSION SET CONTAINER = CDB$ROOT;",
    ]


def test_long_column_name_fails(cdb: DocShapes) -> None:
    long_name = "WVR_RVSN_APPROVAL_STATUS_CODE_X"  # 31 characters
    assert len(long_name) == 31
    cdb.rows("columns").append([CAPTURED_TABLES[3].schema, CAPTURED_TABLES[3].table, long_name])
    report, _ = run(cdb)
    check = result(report, "long_names")
    assert check.status is Status.FAIL
    assert f"{CAPTURED_TABLES[3].qualified}.{long_name}" in check.detail


def test_thirty_character_name_passes(cdb: DocShapes) -> None:
    cdb.rows("columns").append([CAPTURED_TABLES[3].schema, CAPTURED_TABLES[3].table, "X" * 30])
    report, _ = run(cdb)
    assert result(report, "long_names").status is Status.PASS


def test_long_names_warns_when_a_table_is_invisible(cdb: DocShapes) -> None:
    cdb.set_rows("columns", [r for r in cdb.rows("columns") if r[0] != "MMDL"])
    report, _ = run(cdb)
    check = result(report, "long_names")
    assert check.status is Status.WARN
    assert "MMDL.PLAN_BASE_WVR_TBL" in check.detail


def test_primary_key_missing_warns(non_cdb: DocShapes) -> None:
    non_cdb.set_rows("primary_keys", non_cdb.rows("primary_keys")[1:])
    report, _ = run(non_cdb)
    check = result(report, "primary_keys")
    assert check.status is Status.WARN
    assert CAPTURED_TABLES[0].qualified in check.detail
    assert report.ok


def test_primary_key_disabled_warns(non_cdb: DocShapes) -> None:
    non_cdb.set_value("primary_keys", "STATUS", "DISABLED", row=2)
    report, _ = run(non_cdb)
    assert result(report, "primary_keys").status is Status.WARN
    assert "disabled" in result(report, "primary_keys").detail


# -- redo, archive, undo ------------------------------------------------------------------------


def test_redo_two_small_groups_warns(cdb: DocShapes) -> None:
    cdb.set_rows("redo_logs", [[1, 1, 52428800, 1, "CURRENT"], [2, 1, 52428800, 1, "INACTIVE"]])
    report, _ = run(cdb)
    check = result(report, "redo_logs")
    assert check.status is Status.WARN
    assert "2 groups" in check.detail
    assert "under 200 MiB" in check.detail
    assert check.fix is not None
    assert "ALTER DATABASE ADD LOGFILE THREAD 1" in check.fix.sql


def test_redo_sizes_as_decimal_are_understood(cdb: DocShapes) -> None:
    # with oracledb.defaults.fetch_decimals = True, NUMBER comes back as Decimal
    cdb.set_rows("redo_logs", [[g, 1, {"$decimal": "1073741824"}, 2, "INACTIVE"] for g in (1, 2, 3)])
    report, _ = run(cdb)
    assert result(report, "redo_logs").status is Status.PASS


def test_redo_frequent_switches_warn(cdb: DocShapes) -> None:
    cdb.set_value("log_switches", "SWITCHES", 40)
    report, _ = run(cdb)
    check = result(report, "redo_logs")
    assert check.status is Status.WARN
    assert "40 log switches in one hour" in check.detail


def test_redo_without_groups_fails(cdb: DocShapes) -> None:
    cdb.set_rows("redo_logs", [])
    report, _ = run(cdb)
    assert result(report, "redo_logs").status is Status.FAIL


def test_v_log_refused_fails_with_its_grant(non_cdb: DocShapes) -> None:
    non_cdb.fail("redo_logs", 942, 'ORA-00942: table or view "SYS"."V_$LOG" does not exist')
    report, _ = run(non_cdb)
    check = result(report, "redo_logs")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert check.fix.sql == "GRANT SELECT ON SYS.V_$LOG TO WMS_CDC;"


def test_no_local_valid_archive_destination_fails(cdb: DocShapes) -> None:
    cdb.set_rows("archive_dests", [])
    report, _ = run(cdb)
    check = result(report, "archive_destination")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert "LOG_ARCHIVE_DEST_1" in check.fix.sql
    assert result(report, "archive_retention").status is Status.FAIL


def test_two_destinations_without_a_name_fail(cdb: DocShapes) -> None:
    cdb.rows("archive_dests").append([2, "LOG_ARCHIVE_DEST_2", "VALID", "LOCAL"])
    report, _ = run(cdb)
    check = result(report, "archive_destination")
    assert check.status is Status.FAIL
    assert "archive.destination.name" in check.detail


def test_two_destinations_with_the_connector_name_pass(cdb: DocShapes) -> None:
    cdb.rows("archive_dests").append([2, "LOG_ARCHIVE_DEST_2", "VALID", "LOCAL"])
    cdb.rows("archived_logs").append(
        [2, 1, 12, {"$datetime": "2026-11-20T08:00:00"}, 48000000, {"$datetime": "2026-11-20T09:30:12"}]
    )
    report, _ = run(cdb, archive_destination="LOG_ARCHIVE_DEST_2")
    assert result(report, "archive_destination").status is Status.PASS
    retention = result(report, "archive_retention")
    assert retention.status is Status.WARN  # dest 2 holds only 1.5 h
    assert "1.5 h" in retention.detail


def test_named_destination_not_found_fails(cdb: DocShapes) -> None:
    report, _ = run(cdb, archive_destination="LOG_ARCHIVE_DEST_9")
    assert result(report, "archive_destination").status is Status.FAIL


def test_archive_window_shorter_than_policy_warns(cdb: DocShapes) -> None:
    report, _ = run(cdb, min_archive_hours=96)
    check = result(report, "archive_retention")
    assert check.status is Status.WARN
    assert "80.2 h" in check.detail
    assert check.fix is not None
    assert "SYSDATE - 96/24" in check.fix.sql


def test_archive_window_long_enough_passes(cdb: DocShapes) -> None:
    report, _ = run(cdb, min_archive_hours=72)
    assert result(report, "archive_retention").status is Status.PASS


def test_no_archived_logs_on_disk_fails(cdb: DocShapes) -> None:
    cdb.set_rows("archived_logs", [])
    report, _ = run(cdb)
    assert result(report, "archive_retention").status is Status.FAIL


def test_undo_retention_default_warns_with_the_fix(cdb: DocShapes) -> None:
    cdb.set_rows("undo", [["undo_management", "AUTO"], ["undo_retention", "900"]])
    report, _ = run(cdb)
    check = result(report, "undo_retention")
    assert check.status is Status.WARN
    assert "900" in check.detail
    assert check.fix is not None
    assert check.fix.sql == "ALTER SYSTEM SET UNDO_RETENTION = 3600 SCOPE=BOTH;"


def test_undo_manual_management_warns(non_cdb: DocShapes) -> None:
    non_cdb.set_rows("undo", [["undo_management", "MANUAL"], ["undo_retention", "3600"]])
    report, _ = run(non_cdb)
    assert result(report, "undo_retention").status is Status.WARN


def test_undo_refused_fails(non_cdb: DocShapes) -> None:
    non_cdb.fail("undo", 942, 'ORA-00942: table or view "SYS"."V_$PARAMETER" does not exist')
    report, _ = run(non_cdb)
    check = result(report, "undo_retention")
    assert check.status is Status.FAIL
    assert check.fix is not None
    assert check.fix.sql == "GRANT SELECT_CATALOG_ROLE TO WMS_CDC;"


def test_heartbeat_and_signal_tables_missing_warn(cdb: DocShapes) -> None:
    cdb.set_rows("aux_tables", [])
    report, _ = run(cdb)
    check = result(report, "heartbeat_signal_tables")
    assert check.status is Status.WARN
    assert "C##WMS_CDC.WMS_CDC_HEARTBEAT" in check.detail
    assert check.fix is not None
    assert "CREATE TABLE C##WMS_CDC.WMS_CDC_HEARTBEAT" in check.fix.sql


# -- deadline ----------------------------------------------------------------------------------


def test_queries_after_the_deadline_are_reported_not_run(cdb: DocShapes) -> None:
    from wms_connector.preflight.database import OracleDatabase
    from wms_connector.preflight.runner import run_checks
    from wms_connector.preflight.target import expectations

    expect = expectations("C##WMS_CDC", "WMSPDB", stage=None)
    ticks = iter(range(1000))
    # the clock passes the deadline (5) after five queries
    report = run_checks(
        OracleDatabase(cdb.connection(expect)),
        expect,
        target="t",
        deadline=5,
        clock=lambda: float(next(ticks)),
    )
    assert result(report, "connection").status is Status.PASS
    late = result(report, "heartbeat_signal_tables")
    assert late.status is Status.FAIL
    assert "deadline" in late.detail
