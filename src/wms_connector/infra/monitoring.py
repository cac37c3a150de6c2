"""The alarm that needs no agent metric: fewer running workers than desired (Container Insights),
where missing data counts as breaching, because a stage with no task at all emits no datapoint.
The agent's alarms and the dashboard are in ``agent_alarms.py``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from wms_connector.naming import AlarmKind, StageNames, runbook_anchor

CONTAINER_INSIGHTS_NAMESPACE = "ECS/ContainerInsights"
#: Three one-minute periods: a replacement task after a crash normally runs within that.
RUNNING_TASKS_EVALUATION_PERIODS = 3


class ServiceAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: StageNames,
        cluster_name: str,
        service_name: str,
        desired_count: int,
        alerts_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id_)
        self._topic = alerts_topic
        running = cloudwatch.Metric(
            namespace=CONTAINER_INSIGHTS_NAMESPACE,
            metric_name="RunningTaskCount",
            dimensions_map={"ClusterName": cluster_name, "ServiceName": service_name},
            statistic="Minimum",
            period=Duration.minutes(1),
        )
        self.running_tasks = cloudwatch.Alarm(
            self,
            "RunningTasksBelowDesired",
            alarm_name=names.alarm_for(AlarmKind.RUNNING_TASKS_BELOW_DESIRED),
            alarm_description=(
                f"fewer than {desired_count} Connect workers running in {service_name}. "
                f"Runbook: {runbook_anchor(AlarmKind.RUNNING_TASKS_BELOW_DESIRED)}"
            ),
            metric=running,
            threshold=desired_count,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=RUNNING_TASKS_EVALUATION_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self._notify(self.running_tasks)

    def _notify(self, alarm: cloudwatch.Alarm) -> None:
        action = cw_actions.SnsAction(self._topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
