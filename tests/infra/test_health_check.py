"""The Connect container's health check runs a program the image has, and really probes the worker.

A health check whose program is missing fails every time: after the start period ECS kills each
worker, and the deployment circuit breaker rolls the stack back.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator

import pytest
from aws_cdk.assertions import Capture, Match

from tests.infra.conftest import STAGES, Synthesized
from tests.infra.helpers import connector
from wms_connector.image.dockerfile import arg_defaults, instructions, resolve
from wms_connector.infra.connect_service import health_check_command
from wms_connector.local.paths import repo_root
from wms_connector.local.procs import free_port
from wms_connector.naming import names_for
from wms_connector.stages import Stage


def _final_base_image() -> str:
    """The final stage's base as the builder resolves it (ARG defaults: the pinned upstream image)."""
    text = (repo_root() / "runtime" / "Dockerfile").read_text()
    froms = [args.split()[0] for word, args in instructions(text) if word == "FROM"]
    return resolve(froms[-1], arg_defaults(text))


@pytest.mark.parametrize("stage", STAGES)
def test_the_health_check_runs_python3_which_the_image_has(synthesized: Synthesized, stage: str) -> None:
    command = Capture()
    connector(synthesized, stage).has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Name": names_for(Stage(stage)).connect_container,
                            "HealthCheck": {"Command": command},
                        }
                    )
                ]
            )
        },
    )
    assert command.as_array() == health_check_command()
    # The final image is on the official Python slim image: python3 is there, curl and wget are not
    # (tests/integration/test_image.py runs this very command inside the built image).
    assert command.as_array()[:2] == ["CMD", "python3"]
    assert _final_base_image().startswith("python:")


class _Root(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b'{"version": "test"}')

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def rest_root() -> Iterator[tuple[int, type[_Root]]]:
    handler = type("Root", (_Root,), {"status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def _probe(port: int) -> int:
    argv = health_check_command(port)
    assert argv[0] == "CMD"
    return subprocess.run(argv[1:], capture_output=True, timeout=30, check=False).returncode


def test_the_probe_passes_when_the_worker_answers_and_fails_otherwise(
    rest_root: tuple[int, type[_Root]],
) -> None:
    port, handler = rest_root
    assert _probe(port) == 0
    handler.status = 503
    assert _probe(port) != 0
    assert _probe(free_port()) != 0
    # A worker behind the REST credential answers the anonymous probe 401: alive.
    handler.status = 401
    assert _probe(port) == 0
