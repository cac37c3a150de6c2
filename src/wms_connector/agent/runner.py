"""The agent on a background thread, for ``local run`` (``make run``): same cycle, one status line."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from wms_connector.agent.loop import Agent
from wms_connector.naming import AgentMetric


def status_line(agent: Agent) -> str:
    """One line a person reads: verdict, reason, lag, restarts."""
    report = agent.last
    if report is None:
        return "agent: starting"
    values = json.loads(report.emf)
    lag = values.get(AgentMetric.LAG_MS.value)
    parts = [
        f"agent: {report.decision.assessment.verdict.value} ({report.decision.assessment.reason})",
        f"lag {lag:g} ms" if lag is not None else "lag -",
        f"restarts {report.decision.memory.restarts.count}",
    ]
    if report.hold.hands_off:
        parts.append(report.hold.describe(report.at))
    return ", ".join(parts)


@dataclass
class BackgroundAgent:
    agent: Agent
    poll_s: float
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> BackgroundAgent:
        self._thread = threading.Thread(
            target=self.agent.run, args=(self._stop, self.poll_s), name="connect-agent", daemon=True
        )
        self._thread.start()
        return self

    def status_line(self) -> str:
        return status_line(self.agent)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
