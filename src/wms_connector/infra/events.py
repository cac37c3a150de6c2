"""EventBridge rules: ECS tells the alerts topic when a worker stops or the service errs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

#: Deployments stop old tasks with this reason; those stops are expected, not alerts.
DEPLOYMENT_STOP_REASON_PREFIX = "Scaling activity initiated by"


class ServiceEvents(Construct):
    """Two rules on the stage's cluster: unexpected task stops, and service/deployment errors."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_arn: str,
        task_stopped_rule_name: str,
        service_errors_rule_name: str,
        alerts_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id_)
        self.task_stopped = events.Rule(
            self,
            "TaskStopped",
            rule_name=task_stopped_rule_name,
            description="a Connect worker task stopped outside a deployment",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={
                    "clusterArn": [cluster_arn],
                    "lastStatus": ["STOPPED"],
                    "stoppedReason": [{"anything-but": {"prefix": DEPLOYMENT_STOP_REASON_PREFIX}}],
                },
            ),
            targets=[targets.SnsTopic(alerts_topic)],
        )
        self._acknowledge_imported_topic(self.task_stopped)
        self.service_errors = events.Rule(
            self,
            "ServiceErrors",
            rule_name=service_errors_rule_name,
            description="the Connect service or one of its deployments reported an error",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Service Action", "ECS Deployment State Change"],
                detail={"clusterArn": [cluster_arn], "eventType": ["ERROR"]},
            ),
            targets=[targets.SnsTopic(alerts_topic)],
        )
        self._acknowledge_imported_topic(self.service_errors)

    @staticmethod
    def _acknowledge_imported_topic(rule: events.Rule) -> None:
        Validations.of(rule).acknowledge(
            Acknowledgment(
                id="Annotation::@aws-cdk/aws-events:ruleUnresolvedEnvironment",
                reason="the target topic is the alerts stack's export (an ImportValue): same account and "
                "region as the rule, which CDK cannot see through the token",
            )
        )
