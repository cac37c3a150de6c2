"""CloudWatch Embedded Metric Format lines (pure): one JSON line per agent cycle.

The ``awslogs`` driver sends the agent's stdout to its log group; CloudWatch turns every line that
carries an ``_aws`` member into metrics, so the agent needs no ``cloudwatch:PutMetricData``
permission. Names, namespace and dimensions come from ``naming``; the values from
:func:`cycle_metrics`, a pure function of the cycle's decision and observation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from wms_connector.agent.policy import Decision, Gate, Observation, Verdict
from wms_connector.naming import METRIC_DIMENSIONS, AgentMetric

#: CloudWatch units of each metric (EMF ``Unit``).
UNITS: Final[Mapping[AgentMetric, str]] = {
    AgentMetric.LAG_MS: "Milliseconds",
    AgentMetric.SINCE_LAST_EVENT_MS: "Milliseconds",
    AgentMetric.OLDEST_SCN_AGE_MS: "Milliseconds",
    AgentMetric.ARCHIVE_HEADROOM_MS: "Milliseconds",
    AgentMetric.LONG_TRANSACTION_AGE_MS: "Milliseconds",
}
DEFAULT_UNIT: Final = "Count"


@dataclass(frozen=True)
class Sample:
    metric: AgentMetric
    value: float


def render(*, namespace: str, dimensions: Mapping[str, str], samples: list[Sample], timestamp_ms: int) -> str:
    """One EMF line (compact JSON, no newline). ``dimensions`` must hold :data:`METRIC_DIMENSIONS`."""
    missing = [d for d in METRIC_DIMENSIONS if d not in dimensions]
    if missing:
        raise ValueError(f"EMF dimensions missing: {missing}")
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(METRIC_DIMENSIONS)],
                    "Metrics": [
                        {"Name": s.metric.value, "Unit": UNITS.get(s.metric, DEFAULT_UNIT)} for s in samples
                    ],
                }
            ],
        },
        **{d: dimensions[d] for d in METRIC_DIMENSIONS},
        **{s.metric.value: s.value for s in samples},
    }
    return json.dumps(document, separators=(",", ":"))


def cycle_metrics(
    obs: Observation,
    decision: Decision,
    *,
    restarts_issued: int,
    stale_event_ms: int,
    archive_retention_ms: int | None = None,
    record_unwritable: bool | None = None,
    now: float | None = None,
) -> list[Sample]:
    """What one agent reports for one cycle.

    Every agent reports its heartbeat, its worker's reachability and the connector's state (the
    same for all agents: alarms take the maximum). Only the agent whose worker runs the task has
    the streaming MBean, so only it reports lag, connection and SCN figures, and its restart
    record. ``MilliSecondsBehindSource`` keeps its last value on an idle source (DBZ-8885): it is
    reported only while fresh, i.e. while ``MilliSecondsSinceLastEvent`` is under the stage's
    no-event threshold. For Oracle, the headroom is the archive-log retention minus
    ``OldestScnAgeInMilliseconds``: how long until the restart point leaves the logs.

    Debezium reports ``MilliSecondsSinceLastEvent`` -1 until the task's first event; the agent then
    reports the time since it first saw the task streaming without one (``Memory.no_event_since``,
    needs ``now``), so ``no-events`` fires for a task that has produced nothing since it started.
    ``record_unwritable`` (``None``: no state file) is reported by every agent that keeps a record.
    """
    verdict = decision.assessment.verdict
    status = obs.status
    failed = status is not None and (
        status.state == "FAILED" or any(t.state == "FAILED" for t in status.tasks)
    )
    up = (
        status is not None
        and status.state == "RUNNING"
        and bool(status.tasks)
        and all(t.state == "RUNNING" for t in status.tasks)
    )
    samples = [
        Sample(AgentMetric.HEARTBEAT, 1),
        Sample(AgentMetric.WORKER_REACHABLE, float(obs.worker_reachable)),
    ]
    if obs.worker_reachable:
        samples += [
            Sample(AgentMetric.CONNECTOR_UP, float(up)),
            Sample(AgentMetric.CONNECTOR_FAILED, float(failed)),
            Sample(AgentMetric.HEALTHY, float(decision.assessment.healthy)),
            Sample(AgentMetric.UNRECOVERABLE, float(verdict is Verdict.UNRECOVERABLE)),
        ]
    if decision.assessment.owner:
        samples += [
            Sample(AgentMetric.RESTARTS, restarts_issued),
            Sample(AgentMetric.RESTART_COUNT, decision.memory.restarts.count),
            Sample(AgentMetric.BUDGET_EXHAUSTED, float(decision.gate is Gate.EXHAUSTED)),
            Sample(AgentMetric.STALL_ESCALATED, float(decision.gate is Gate.ESCALATED)),
        ]
        streaming = obs.streaming
        if obs.metrics_read and not obs.snapshot_running:
            samples.append(
                Sample(AgentMetric.CONNECTED, float(streaming is not None and streaming.connected))
            )
        if streaming is not None:
            since = streaming.ms_since_last_event
            never = decision.memory.no_event_since
            if since is None and never is not None and now is not None:
                since = max(0.0, (now - never) * 1000)
            if since is not None:
                samples.append(Sample(AgentMetric.SINCE_LAST_EVENT_MS, since))
            lag = streaming.ms_behind_source
            if lag is not None and since is not None and since < stale_event_ms:
                samples.append(Sample(AgentMetric.LAG_MS, lag))
            optional = (
                (AgentMetric.QUEUE_REMAINING, streaming.queue_remaining),
                (AgentMetric.OLDEST_SCN_AGE_MS, streaming.oldest_scn_age_ms),
                (AgentMetric.ACTIVE_TRANSACTIONS, streaming.active_transactions),
                (AgentMetric.SCN_FREEZE_COUNT, streaming.scn_freeze_count),
            )
            samples += [Sample(metric, value) for metric, value in optional if value is not None]
            if archive_retention_ms is not None and streaming.oldest_scn_age_ms is not None:
                headroom = archive_retention_ms - streaming.oldest_scn_age_ms
                samples.append(Sample(AgentMetric.ARCHIVE_HEADROOM_MS, headroom))
            if streaming.current_scn is not None and streaming.offset_scn is not None:
                samples.append(Sample(AgentMetric.SCN_GAP, streaming.current_scn - streaming.offset_scn))
            if verdict is Verdict.LONG_TRANSACTION and streaming.oldest_scn_age_ms is not None:
                samples.append(Sample(AgentMetric.LONG_TRANSACTION_AGE_MS, streaming.oldest_scn_age_ms))
    if record_unwritable is not None:
        samples.append(Sample(AgentMetric.RECORD_UNWRITABLE, float(record_unwritable)))
    return samples
