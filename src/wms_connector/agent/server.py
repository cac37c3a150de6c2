"""``/healthz`` of the agent, for the ECS container health check.

It reflects the agent (its last cycle is recent) and the worker (its REST API answered in that
cycle), never the database: a lost Oracle is the alarms' business, and an unhealthy agent must not
be a reason to replace a worker that is fine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wms_connector.agent.loop import CycleReport

HEALTHZ = "/healthz"


def healthz(last: CycleReport | None, now: float, max_age_s: float) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, body)``: 200 when a cycle finished within ``max_age_s`` and reached the worker."""
    if last is None:
        return 503, {"agent": "starting", "worker_reachable": None}
    age = now - last.at
    worker = last.observation.worker_reachable
    ok = age <= max_age_s and worker
    record = last.decision.memory.restarts
    body = {
        "agent": "ok" if age <= max_age_s else "stuck",
        "last_cycle_age_s": round(age, 1),
        "worker_reachable": worker,
        "verdict": last.decision.assessment.verdict.value,
        "reason": last.decision.assessment.reason,
        "restart_count": record.count,
        "restarts_in_window": len(record.recent),
        "last_restart": record.last_restart,
        "gate": last.decision.gate.value if last.decision.gate else None,
        "hold": last.hold.to_json(now),
        "reconcile": last.reconcile,
    }
    return (200 if ok else 503), body


class HealthServer:
    """A tiny HTTP server on its own thread; ``report`` returns the latest cycle."""

    def __init__(
        self, host: str, port: int, report: Callable[[], CycleReport | None], max_age_s: float
    ) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != HEALTHZ:
                    self.send_error(404)
                    return
                status, body = healthz(owner.report(), time.time(), owner.max_age_s)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.report = report
        self.max_age_s = max_age_s
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="healthz", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
