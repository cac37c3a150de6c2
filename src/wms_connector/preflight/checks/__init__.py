"""One pure function per requirement: query answers in, a PASS / WARN / FAIL verdict out.

Nothing here talks to Oracle. Each function receives the rows (or the :class:`QueryFailed`) the
runner got, and the :class:`Expectations` of the stage, and says what is wrong and how to fix it.
The fix SQL is cut from ``docs/sql`` (see :mod:`fixes`), with the user and PDB filled in.

Where Debezium is lenient the preflight is not: a captured table without ALL COLUMNS
supplemental logging, or a column name over 30 characters, only makes Debezium log a warning
and then silently lose data, so both are FAIL here.
"""

from wms_connector.preflight.checks.common import (
    BASE_SYSTEM_PRIVILEGES,
    CDB_SYSTEM_PRIVILEGES,
    MAX_NAME_LENGTH,
    OPTIONAL_SYSTEM_PRIVILEGES,
    REQUIRED_OBJECT_PRIVILEGES,
    REQUIRED_ROLES,
)
from wms_connector.preflight.checks.database import (
    check_cdb,
    check_connection,
    check_database_supplemental_logging,
    check_log_mode,
)
from wms_connector.preflight.checks.logs import (
    check_archive_destinations,
    check_archive_retention,
    check_redo_logs,
    check_undo_retention,
    chosen_destination,
)
from wms_connector.preflight.checks.privileges import (
    check_object_privileges,
    check_roles,
    check_system_privileges,
)
from wms_connector.preflight.checks.tables import (
    check_heartbeat_signal_tables,
    check_long_names,
    check_primary_keys,
    check_table_access,
    check_table_supplemental_logging,
)

__all__ = [
    "BASE_SYSTEM_PRIVILEGES",
    "CDB_SYSTEM_PRIVILEGES",
    "MAX_NAME_LENGTH",
    "OPTIONAL_SYSTEM_PRIVILEGES",
    "REQUIRED_OBJECT_PRIVILEGES",
    "REQUIRED_ROLES",
    "check_archive_destinations",
    "check_archive_retention",
    "check_cdb",
    "check_connection",
    "check_database_supplemental_logging",
    "check_heartbeat_signal_tables",
    "check_log_mode",
    "check_long_names",
    "check_object_privileges",
    "check_primary_keys",
    "check_redo_logs",
    "check_roles",
    "check_system_privileges",
    "check_table_access",
    "check_table_supplemental_logging",
    "check_undo_retention",
    "chosen_destination",
]
