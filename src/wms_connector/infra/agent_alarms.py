"""The alarms on the connect-agent's EMF metrics, and the stage's dashboard.

Every alarm notifies the stage's alerts topic (alarm and OK), is named ``names.alarm_for(kind)``
and says in its description where the runbook section is (``naming.runbook_anchor``). Thresholds
come from the stage settings. Missing data is *not* breaching for the connector's own metrics
(only the agent whose worker runs the task emits lag; a task between workers emits nothing),
and *is* breaching for the agent heartbeat: no agent alive means no datapoint at all.

Agent heartbeat: every agent emits ``AgentHeartbeat`` once per cycle, so a minute holds about
``60 s / poll`` samples per agent. The alarm fires when fewer than ``(workers - 0.5) x`` that
arrive for three minutes: with two workers, one silent agent is enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from wms_connector.naming import AgentMetric, AlarmKind, StageNames, runbook_anchor
from wms_connector.stages import StageSettings

PERIOD = Duration.minutes(1)
GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING
BREACHING = cloudwatch.TreatMissingData.BREACHING


@dataclass(frozen=True)
class AlarmSpec:
    kind: AlarmKind
    metric: AgentMetric
    statistic: str
    comparison: cloudwatch.ComparisonOperator
    threshold: float
    evaluation_periods: int
    missing: cloudwatch.TreatMissingData
    what: str


def heartbeat_threshold(settings: StageSettings) -> float:
    per_minute = 60_000 / settings.agent_poll_interval_ms
    return (settings.worker_count - 0.5) * per_minute


def _minutes(ms: int) -> int:
    return max(1, math.ceil(ms / 60_000))


def alarm_specs(settings: StageSettings) -> tuple[AlarmSpec, ...]:
    """Every agent alarm of a stage (pure: the template tests compare against it)."""
    return (
        AlarmSpec(
            AlarmKind.CONNECTOR_FAILED,
            AgentMetric.CONNECTOR_FAILED,
            "Maximum",
            GTE,
            1,
            2,
            NOT_BREACHING,
            "the connector or its task is FAILED in Kafka Connect",
        ),
        AlarmSpec(
            AlarmKind.DISCONNECTED,
            AgentMetric.CONNECTED,
            "Minimum",
            LT,
            1,
            _minutes(settings.disconnected_alarm_ms),
            NOT_BREACHING,
            f"the connector is not connected to its database for {settings.disconnected_alarm_ms // 1000} s",
        ),
        AlarmSpec(
            AlarmKind.LAG,
            AgentMetric.LAG_MS,
            "Maximum",
            GT,
            settings.lag_alarm_ms,
            3,
            NOT_BREACHING,
            f"MilliSecondsBehindSource above {settings.lag_alarm_ms} ms for 3 minutes",
        ),
        AlarmSpec(
            AlarmKind.NO_EVENTS,
            AgentMetric.SINCE_LAST_EVENT_MS,
            "Minimum",
            GT,
            settings.stale_event_alarm_ms,
            1,
            NOT_BREACHING,
            f"no change event for more than {settings.stale_event_alarm_ms // 1000} s",
        ),
        AlarmSpec(
            AlarmKind.AGENT_HEARTBEAT_MISSING,
            AgentMetric.HEARTBEAT,
            "SampleCount",
            LT,
            heartbeat_threshold(settings),
            3,
            BREACHING,
            f"fewer agent heartbeats than {settings.worker_count} live agents send (a task or agent is gone)",
        ),
        AlarmSpec(
            AlarmKind.RESTART_BUDGET_EXHAUSTED,
            AgentMetric.BUDGET_EXHAUSTED,
            "Maximum",
            GTE,
            1,
            1,
            NOT_BREACHING,
            f"the agent spent its {settings.restart_budget} restarts per "
            f"{settings.restart_budget_window_ms // 60_000} min and stopped restarting",
        ),
        AlarmSpec(
            AlarmKind.UNRECOVERABLE,
            AgentMetric.UNRECOVERABLE,
            "Maximum",
            GTE,
            1,
            1,
            NOT_BREACHING,
            "the task failed in a way a restart cannot cure (offset lost, history lost, credentials)",
        ),
        AlarmSpec(
            AlarmKind.LONG_TRANSACTION,
            AgentMetric.LONG_TRANSACTION_AGE_MS,
            "Maximum",
            GTE,
            settings.scn_stall_ms,
            1,
            NOT_BREACHING,
            "an open Oracle transaction has held the restart point (OffsetScn) for longer than "
            f"{settings.scn_stall_ms // 60_000} min; the datapoint is its age in ms; the agent never "
            "restarts for it",
        ),
        AlarmSpec(
            AlarmKind.STALL_ESCALATED,
            AgentMetric.STALL_ESCALATED,
            "Maximum",
            GTE,
            1,
            1,
            NOT_BREACHING,
            "the task stalled again after two restarts in a row; the agent stopped restarting it",
        ),
        AlarmSpec(
            AlarmKind.RESTART_RECORD_UNWRITABLE,
            AgentMetric.RECORD_UNWRITABLE,
            "Maximum",
            GTE,
            1,
            3,
            NOT_BREACHING,
            "the agent cannot write its restart record on the task's volume (its budget holds in "
            "memory only until the agent container restarts)",
        ),
    )


class AgentAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        settings: StageSettings,
        alerts_topic: sns.ITopic,
        extra_alarms: tuple[cloudwatch.IAlarm, ...] = (),
    ) -> None:
        super().__init__(scope, id_)
        self._names = names
        dimensions = names.metric_dimensions(names.connector)
        action = cw_actions.SnsAction(alerts_topic)
        self.alarms: dict[AlarmKind, cloudwatch.Alarm] = {}
        for spec in alarm_specs(settings):
            alarm = cloudwatch.Alarm(
                self,
                spec.kind.value,
                alarm_name=names.alarm_for(spec.kind),
                alarm_description=f"{names.service}: {spec.what}. Runbook: {runbook_anchor(spec.kind)}",
                metric=self.metric(spec.metric, spec.statistic),
                threshold=spec.threshold,
                comparison_operator=spec.comparison,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.evaluation_periods,
                treat_missing_data=spec.missing,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.kind] = alarm
        self._dimensions = dimensions
        self.dashboard = self._dashboard(settings, (*self.alarms.values(), *extra_alarms))

    def metric(self, metric: AgentMetric, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self._names.metric_namespace,
            metric_name=metric.value,
            dimensions_map=self._names.metric_dimensions(self._names.connector),
            statistic=statistic,
            period=PERIOD,
        )

    def _graph(
        self,
        title: str,
        *metrics: tuple[AgentMetric, str],
        threshold: float | None = None,
        right: tuple[tuple[AgentMetric, str], ...] = (),
        marks: tuple[tuple[float, str], ...] = (),
    ) -> cloudwatch.GraphWidget:
        lines = ([(threshold, "alarm")] if threshold is not None else []) + list(marks)
        annotations = [cloudwatch.HorizontalAnnotation(value=v, label=label) for v, label in lines] or None
        return cloudwatch.GraphWidget(
            title=title,
            left=[self.metric(m, s) for m, s in metrics],
            right=[self.metric(m, s) for m, s in right] or None,
            left_annotations=annotations,
            width=8,
            height=6,
        )

    def _dashboard(
        self, settings: StageSettings, alarms: tuple[cloudwatch.IAlarm, ...]
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self._names.dashboard)
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=3)
        )
        dashboard.add_widgets(
            self._graph(
                "Lag (ms behind source)", (AgentMetric.LAG_MS, "Maximum"), threshold=settings.lag_alarm_ms
            ),
            self._graph(
                "Since last event (ms)",
                (AgentMetric.SINCE_LAST_EVENT_MS, "Minimum"),
                threshold=settings.stale_event_alarm_ms,
            ),
            self._graph(
                "Connector state",
                (AgentMetric.CONNECTOR_UP, "Minimum"),
                (AgentMetric.CONNECTED, "Minimum"),
                (AgentMetric.HEALTHY, "Minimum"),
                (AgentMetric.CONNECTOR_FAILED, "Maximum"),
            ),
        )
        dashboard.add_widgets(
            self._graph(
                "Restarts",
                (AgentMetric.RESTARTS, "Sum"),
                (AgentMetric.RESTART_COUNT, "Maximum"),
                (AgentMetric.BUDGET_EXHAUSTED, "Maximum"),
                (AgentMetric.STALL_ESCALATED, "Maximum"),
                (AgentMetric.RECORD_UNWRITABLE, "Maximum"),
            ),
            self._graph(
                "Agent heartbeats per minute",
                (AgentMetric.HEARTBEAT, "SampleCount"),
                threshold=heartbeat_threshold(settings),
            ),
            self._graph(
                "Oracle: SCN gap, oldest SCN age, archive-log headroom; queue (right)",
                (AgentMetric.SCN_GAP, "Maximum"),
                (AgentMetric.OLDEST_SCN_AGE_MS, "Maximum"),
                (AgentMetric.ARCHIVE_HEADROOM_MS, "Minimum"),
                right=((AgentMetric.QUEUE_REMAINING, "Minimum"),),
                marks=((settings.archive_log_retention_ms, "archive-log retention"),),
            ),
        )
        return dashboard
