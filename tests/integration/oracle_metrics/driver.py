"""Start ``StreamingMetricsDriver.java`` with the pinned jars and the image's exporter, send it
commands, scrape what the exporter serves."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from wms_connector.connect.worker_config import render_properties
from wms_connector.local.java import find_java
from wms_connector.local.paths import RuntimeLayout, repo_root
from wms_connector.local.procs import free_port

HERE: Final = Path(__file__).resolve().parent
DRIVER: Final = HERE / "StreamingMetricsDriver.java"
#: The plugin directory the image and the local workers load the Oracle connector from.
ORACLE_PLUGIN: Final = "debezium-connector-oracle"
#: The first answer includes compiling the driver (single-file source launch): seconds on a loaded machine.
START_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True)
class Step:
    """One state of the timeline: the setter calls that lead to it (commands of the driver)."""

    name: str
    commands: tuple[str, ...]


class MetricsJvm:
    """One JVM holding Debezium's Oracle metrics for one connector config, with the exporter on a
    loopback port. ``send`` applies a command and returns the driver's answer."""

    def __init__(self, layout: RuntimeLayout, connector_config: dict[str, str], work: Path) -> None:
        properties = work / "connector.properties"
        properties.write_text(render_properties(connector_config))
        [agent] = sorted(layout.agent_dir.glob("jmx_prometheus_javaagent-*.jar"))
        rules = repo_root() / "runtime" / "jmx-exporter.yaml"
        self.port = free_port()
        self.stderr = work / "driver.stderr"
        command = [
            str(find_java().executable),
            "-Xmx256m",
            "-cp",
            str(layout.plugins / ORACLE_PLUGIN / "*"),
            f"-javaagent:{agent}=127.0.0.1:{self.port}:{rules}",
            str(DRIVER),
            str(properties),
        ]
        with self.stderr.open("w") as err:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )

    def send(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer.startswith("ok "):
            raise AssertionError(
                f"driver answered {answer!r} to {command!r}: {self.stderr.read_text()[-2000:]}"
            )
        return answer.removeprefix("ok ")

    def apply(self, step: Step) -> None:
        for command in step.commands:
            self.send(command)

    def scrape(self) -> str:
        deadline = time.monotonic() + 30
        while True:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("quit")
                self.process.wait(timeout=15)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=15)


def debezium_lines(page: str) -> str:
    """The ``debezium_metrics_*`` families of a page (HELP, TYPE and samples), as served."""
    keep = []
    for line in page.splitlines():
        if line.startswith(("# HELP debezium_metrics_", "# TYPE debezium_metrics_", "debezium_metrics_")):
            keep.append(line)
    return "\n".join(keep) + "\n"
