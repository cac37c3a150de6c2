"""What to connect to and what to expect: from ``dbInfo`` (``--stage``) or from ``--dsn``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from pydantic import SecretStr

from wms_connector.errors import InputError
from wms_connector.preflight.database import ConnectSpec
from wms_connector.preflight.model import Expectations
from wms_connector.preflight.queries import identifier
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import Stage, settings_for

#: Where ``--dsn user@host:port/service`` (no password in it) takes the password from.
PASSWORD_ENV: Final = "WMS_ORACLE_PASSWORD"

#: Without a stage (``--dsn``), the archive window required: a working day.
DEFAULT_ARCHIVE_HOURS: Final = 24.0

_ADDRESS: Final = re.compile(
    r"^(?P<host>\[[0-9A-Fa-f:]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})/(?P<service>[A-Za-z0-9._$#-]+)$"
)


def parse_dsn(dsn: str, environ: Mapping[str, str]) -> ConnectSpec:
    """``user/password@host:port/service`` or ``user@host:port/service`` with the password in the env."""
    credentials, at, address = dsn.rpartition("@")
    if not at:
        # No '@': rpartition put the whole DSN, password included, in ``address``. Show only
        # what lies before the first '/', which is the user when a password follows it.
        user, slash, _ = dsn.partition("/")
        shown = f"{user}/***" if slash else user
        raise InputError(
            f"--dsn {shown!r} is not user[/password]@host:port/service: it has no '@' "
            "(e.g. c##dbzuser@db.example.com:1521/ORCLCDB)"
        )
    user, slash, password = credentials.partition("/")
    match = _ADDRESS.match(address)
    shown = f"{user or '?'}@{address}"
    if not user or match is None:
        if slash and match is None:
            # A password may hold '@': then what follows its last '@' is part of the password
            # (e.g. 'u/p@ss' with the host forgotten), so the address is not echoed.
            shown = f"{user or '?'}/***@..."
        raise InputError(
            f"--dsn {shown!r} is not user[/password]@host:port/service: the part after the last '@' "
            "must be host:port/service (e.g. c##dbzuser@db.example.com:1521/ORCLCDB)"
        )
    if not slash:
        password = environ.get(PASSWORD_ENV, "")
        if not password:
            raise InputError(f"--dsn {shown!r} has no password: put it after 'user/' or in ${PASSWORD_ENV}")
    elif not password:
        raise InputError(f"--dsn {shown!r} has an empty password")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise InputError(f"--dsn {shown!r}: port {port} is not between 1 and 65535")
    return ConnectSpec(user, password, match["host"].strip("[]"), port, match["service"])


def dsn_has_password(dsn: str) -> bool:
    """Whether ``dsn`` carries a password inline (``user/password@...``)."""
    credentials, at, _ = dsn.rpartition("@")
    return bool(at) and "/" in credentials


def spec_from_db_info(db_info: DbInfo, password: SecretStr) -> ConnectSpec:
    """Debezium connects to ``database.dbname`` (the CDB root service for a CDB), and so do we.

    ``password``: from ``dbPassword`` (or a legacy ``dbInfo``), ``secrets.store.resolve_password``."""
    return ConnectSpec(db_info.user, password.get_secret_value(), db_info.host, db_info.port, db_info.db)


def archive_hours_for(stage: Stage | None) -> float:
    """Hours of archived redo the stage's database keeps: one setting
    (``StageSettings.archive_log_retention_ms``) for preflight, the agent and the dashboard."""
    if stage is None:
        return DEFAULT_ARCHIVE_HOURS
    return settings_for(stage).archive_log_retention_hours


def expectations(
    user: str,
    pdb_name: str | None,
    *,
    stage: Stage | None,
    min_archive_hours: float | None = None,
    min_undo_seconds: int = 3600,
    archive_destination: str | None = None,
) -> Expectations:
    if pdb_name is not None:
        try:
            pdb_name = identifier(pdb_name)
        except ValueError as error:
            raise InputError(f"PDB name: {error}") from None
    if min_undo_seconds < 0:
        raise InputError(f"--min-undo-seconds {min_undo_seconds} must not be negative")
    hours = archive_hours_for(stage) if min_archive_hours is None else min_archive_hours
    if hours < 0:
        raise InputError(f"--min-archive-hours {hours} must not be negative")
    return Expectations(
        user=user,
        pdb_name=pdb_name,
        min_archive_hours=hours,
        min_undo_seconds=min_undo_seconds,
        archive_destination=archive_destination,
    )
