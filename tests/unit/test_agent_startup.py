"""Start-up of the agent: a metadata endpoint that answers late is waited for (reported, with
back-off), a missing environment key exits at once with one line, SIGTERM ends the waiting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wms_connector.agent.identity import METADATA_ENV, own_worker_id
from wms_connector.agent.startup import (
    STARTUP_BACKOFF_S,
    StartupStoppedError,
    TransientStartupError,
    retry_startup,
    startup_delay_s,
)
from wms_connector.cli import main
from wms_connector.errors import InputError

METADATA = Path(__file__).parent.parent / "data" / "ecs_container_metadata_v4.json"
TASK_IP = json.loads(METADATA.read_text())["Networks"][0]["IPv4Addresses"][0]


class Waits(threading.Event):
    """A stop event whose waits return at once and are recorded (the back-off, without sleeping)."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.waited: list[float] = []
        self.stop_after = stop_after

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(float(timeout or 0))
        if self.stop_after is not None and len(self.waited) >= self.stop_after:
            self.set()
        return self.is_set()


@pytest.fixture
def late_metadata() -> Iterator[tuple[str, list[int]]]:
    """An ECS metadata endpoint that answers 503 to its first three requests, then the document."""
    served: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(1)
            if len(served) <= 3:
                self.send_error(503)
                return
            body = METADATA.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/abc", served
    finally:
        server.shutdown()
        server.server_close()


def test_a_late_metadata_endpoint_is_retried_with_backoff_and_reported(
    late_metadata: tuple[str, list[int]],
) -> None:
    uri, served = late_metadata
    logs: list[Mapping[str, Any]] = []
    stop = Waits()
    worker = retry_startup(
        lambda: own_worker_id({METADATA_ENV: uri}, 8083), what="ECS task metadata", log=logs.append, stop=stop
    )
    assert worker == f"{TASK_IP}:8083"
    assert len(served) == 4
    assert stop.waited == [1.0, 2.0, 4.0]
    assert [(e["event"], e["attempt"], e["retry_in_s"]) for e in logs] == [
        ("startup-retry", 1, 1.0),
        ("startup-retry", 2, 2.0),
        ("startup-retry", 3, 4.0),
    ]
    assert all("did not answer" in str(e["message"]) for e in logs)


def test_the_backoff_is_capped() -> None:
    assert [startup_delay_s(n) for n in range(1, 9)] == [*STARTUP_BACKOFF_S, 30.0, 30.0]


def test_sigterm_while_waiting_ends_start_up() -> None:
    def never() -> str:
        raise TransientStartupError("the ECS task metadata endpoint did not answer (ConnectError)")

    stop = Waits(stop_after=2)
    with pytest.raises(StartupStoppedError):
        retry_startup(never, what="ECS task metadata", log=lambda _: None, stop=stop)
    assert stop.waited == [1.0, 2.0]


def test_a_missing_environment_key_is_not_retried() -> None:
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        return own_worker_id({}, 8083)

    with pytest.raises(InputError, match=f"{METADATA_ENV} is not set"):
        retry_startup(step, what="ECS task metadata", log=lambda _: None, stop=Waits())
    assert calls == [1]


def test_the_agent_command_exits_with_one_line_on_a_missing_environment_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "WMS_STANDIN_HOST", METADATA_ENV):
        monkeypatch.delenv(key, raising=False)
    argv = ["agent", "--stage", "main", "--source", "standin", "--once", "--worker-id", "127.0.0.1:9"]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1, err
    assert "KAFKA_BOOTSTRAP_SERVERS" in err and "Traceback" not in err
