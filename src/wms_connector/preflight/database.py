"""The thin I/O shell: a ``Database`` that answers queries as rows, and its python-oracledb form.

Everything above this module sees rows (dicts keyed by Oracle's uppercase column names) or a
:class:`QueryFailed`; nothing above it imports ``oracledb``. The oracledb-backed class is the same
one the tests drive, through a recorded connection at the ``cursor.execute`` boundary.

Thin mode only (no Oracle client libraries): this module never calls ``init_oracle_client``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import oracledb

from wms_connector.preflight.model import QueryFailed
from wms_connector.preflight.queries import ensure_read_only


class Database(Protocol):
    """What the checks need from Oracle: run one read-only statement, get rows back."""

    def query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...


class RefusedError(Exception):
    """Oracle (or the driver) refused a statement; carries the code and first line as a value."""

    def __init__(self, failed: QueryFailed) -> None:
        super().__init__(str(failed))
        self.failed = failed


def describe_error(error: BaseException) -> QueryFailed:
    """Turn a driver or socket error into its code and one readable line (no traceback, no URL)."""
    if isinstance(error, oracledb.Error) and error.args and hasattr(error.args[0], "full_code"):
        info = error.args[0]
        code = str(info.full_code or (f"ORA-{info.code:05d}" if info.code else "DPY"))
        lines = [line for line in str(info.message).splitlines() if line and not line.startswith("Help:")]
        # A DPY wrapper line ("cannot connect to database (CONNECTION_ID=...)") says less than the
        # line under it (the Errno or ORA- line), so keep both, without the connection id.
        first = lines[0].split(" (CONNECTION_ID=")[0] if lines else code
        more = lines[1:3]
        return QueryFailed(code, "; ".join([first, *more]) if more else first)
    if isinstance(error, OSError):
        return QueryFailed("OS", f"{type(error).__name__}: {error}")
    return QueryFailed("ERROR", f"{type(error).__name__}: {error}")


class OracleDatabase:
    """A python-oracledb connection seen as a :class:`Database`.

    ``connection`` is anything with ``cursor()`` whose cursor has ``execute(sql, params)``,
    ``description`` and ``fetchall()``: an ``oracledb.Connection`` in production, a recorded one in
    tests. Every statement passes :func:`ensure_read_only` first.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        ensure_read_only(sql)
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, params)
            if cursor.description is None:  # ALTER SESSION: no result set
                return []
            names = [str(column[0]) for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except oracledb.Error as error:
            raise RefusedError(describe_error(error)) from None
        finally:
            cursor.close()

    def close(self) -> None:
        # Closing a broken connection must not hide the verdict.
        with contextlib.suppress(oracledb.Error):
            self._connection.close()


@dataclass(frozen=True)
class ConnectSpec:
    """Where and as whom to connect. ``password`` is read once, never printed."""

    user: str
    password: str
    host: str
    port: int
    service: str

    @property
    def shown(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.service}"

    def __repr__(self) -> str:
        return f"ConnectSpec({self.shown!r}, password=***)"


Connector = Callable[[ConnectSpec, float], Any]


def thin_connect(spec: ConnectSpec, timeout_s: float) -> Any:
    """python-oracledb thin mode; ``tcp_connect_timeout`` bounds only the TCP step."""
    return oracledb.connect(
        user=spec.user,
        password=spec.password,
        host=spec.host,
        port=spec.port,
        service_name=spec.service,
        tcp_connect_timeout=timeout_s,
    )


def open_database(
    spec: ConnectSpec,
    *,
    connect_timeout_s: float,
    call_timeout_ms: int,
    connector: Connector = thin_connect,
) -> OracleDatabase:
    """Connect within ``connect_timeout_s`` or raise :class:`RefusedError`.

    The driver's own timeout covers the TCP connect but not a listener that accepts and then
    never answers (observed: the thin handshake waits for ever), so the attempt runs in a daemon
    thread and is abandoned at the deadline.
    """
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["connection"] = connector(spec, connect_timeout_s)
        except (oracledb.Error, OSError) as error:
            outcome["error"] = describe_error(error)

    worker = threading.Thread(target=attempt, name="oracle-connect", daemon=True)
    worker.start()
    worker.join(connect_timeout_s)
    if worker.is_alive():
        raise RefusedError(
            QueryFailed("TIMEOUT", f"no answer from {spec.host}:{spec.port} within {connect_timeout_s:g} s")
        )
    if "error" in outcome:
        raise RefusedError(outcome["error"])
    connection = outcome["connection"]
    # Bounds every round trip from here on: a hung query becomes DPY-4024, not a hung command.
    connection.call_timeout = call_timeout_ms
    return OracleDatabase(connection)
