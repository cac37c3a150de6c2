"""Opt-in (``make test-oracle``): the DBA's scripts of ``docs/sql`` on a fresh database.

First of the Oracle suite: the application's schemas and tables are created, then a DBA account
runs ``docs/sql`` for this kind of database (CDB or non-CDB) statement by statement, exactly as
written (SQL*Plus commands aside). A second run must not fail (a DBA re-running a script after a
partial failure): only Oracle's "already exists" errors are tolerated.
"""

from __future__ import annotations

import pytest

from tests.integration.oracle_dba import apply_scripts, create_application_tables, log_mode
from tests.integration.oracle_optin import needs_oracle, oracle_target

pytestmark = needs_oracle


def test_the_database_is_in_archivelog_mode() -> None:
    mode = log_mode(oracle_target())
    if mode != "ARCHIVELOG":
        pytest.fail(
            f"LOG_MODE is {mode}: apply docs/sql/common/01_archivelog.sql with SQL*Plus as SYSDBA first "
            "(it restarts the instance; .github/workflows/oracle.yml does it inside the container)"
        )


def test_the_dba_scripts_apply_to_a_fresh_database_and_again() -> None:
    target = oracle_target()
    create_application_tables(target)
    first = apply_scripts(target)
    assert first[0] == "common/02_database_supplemental_logging.sql"
    assert apply_scripts(target) == first
