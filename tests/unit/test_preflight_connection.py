"""Connection failures are one clear FAIL line, never a traceback; real driver errors where possible."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import oracledb
import pytest

from tests.unit.oracle_doc_shapes import oracle_error
from wms_connector.local.procs import free_port
from wms_connector.preflight.database import ConnectSpec, describe_error
from wms_connector.preflight.model import Status
from wms_connector.preflight.runner import preflight
from wms_connector.preflight.target import expectations

EXPECT = expectations("C##WMS_CDC", "WMSPDB", stage=None)


def closed_port() -> int:
    """A loopback port nobody listens on (free now: bound, then released)."""
    return free_port()


def spec(port: int) -> ConnectSpec:
    return ConnectSpec("C##WMS_CDC", "wrong-or-right-not-real", "127.0.0.1", port, "WMSCDB")


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """Accepts TCP connections and never says a word (a hung listener or a black-holing proxy)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()  # the abandoned driver thread sees EOF and ends
    server.close()


def test_connection_refused_is_a_fail_line_from_the_real_driver() -> None:
    port = closed_port()
    report = preflight(spec(port), EXPECT, timeout_s=10)
    assert len(report.results) == 1
    check = report.results[0]
    assert check.id == "connection"
    assert check.status is Status.FAIL
    assert f"connection refused by 127.0.0.1:{port}" in check.detail
    assert "DPY-6005" in check.detail
    assert "wrong-or-right-not-real" not in check.detail
    assert not report.ok


def test_listener_that_never_answers_fails_at_the_deadline(silent_listener: int) -> None:
    report = preflight(spec(silent_listener), EXPECT, timeout_s=1)
    check = report.results[0]
    assert check.status is Status.FAIL
    assert f"no answer from 127.0.0.1:{silent_listener} within 1 s" in check.detail


def test_wrong_password_is_explained() -> None:
    def connector(_spec: ConnectSpec, _timeout: float) -> object:
        raise oracle_error(1017, "ORA-01017: invalid credential or not authorized; logon denied")

    report = preflight(spec(1521), EXPECT, timeout_s=5, connector=connector)
    check = report.results[0]
    assert check.status is Status.FAIL
    assert check.detail.startswith(
        "C##WMS_CDC@127.0.0.1:1521/WMSCDB: wrong user name or password for C##WMS_CDC"
    )
    assert "ORA-01017" in check.detail
    assert "Help:" not in check.detail


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            12514,
            "ORA-12514: Cannot connect to database. Service WMSCDB is not registered",
            "does not know service",
        ),
        (28000, "ORA-28000: The account is locked.", "is locked"),
        (28001, "ORA-28001: the password has expired", "has expired"),
        (12541, "ORA-12541: Cannot connect. No listener at host 127.0.0.1 port 1521.", "no listener there"),
    ],
)
def test_other_logon_errors_are_explained(code: int, message: str, expected: str) -> None:
    def connector(_spec: ConnectSpec, _timeout: float) -> object:
        raise oracle_error(code, message)

    check = preflight(spec(1521), EXPECT, timeout_s=5, connector=connector).results[0]
    assert check.status is Status.FAIL
    assert expected in check.detail
    assert f"ORA-{code:05d}" in check.detail


def test_name_resolution_failure_is_a_fail_line() -> None:
    def connector(_spec: ConnectSpec, _timeout: float) -> object:
        raise socket.gaierror(-2, "Name or service not known")  # what thin mode lets through for a bad host

    check = preflight(spec(1521), EXPECT, timeout_s=5, connector=connector).results[0]
    assert check.status is Status.FAIL
    assert "Name or service not known" in check.detail


def test_describe_error_keeps_the_code_and_drops_the_help_url() -> None:
    failed = describe_error(oracle_error(942, 'ORA-00942: table or view "SYS"."V_$LOG" does not exist'))
    assert failed.code == "ORA-00942"
    assert failed.message == 'ORA-00942: table or view "SYS"."V_$LOG" does not exist'
    assert failed.is_missing_privilege


def test_describe_error_on_a_real_refused_connection() -> None:
    with pytest.raises(oracledb.Error) as caught:
        oracledb.connect(user="u", password="p", host="127.0.0.1", port=closed_port(), service_name="X")
    failed = describe_error(caught.value)
    assert failed.code == "DPY-6005"
    assert "CONNECTION_ID" not in failed.message
    assert "Connection refused" in failed.message
