"""``wms-alerts-S``: the alerts topic, deployed first and exported for the connector stack."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from wms_connector.infra.alerts import AlertsTopic
from wms_connector.infra.inputs import StageInputs


class AlertsStack(Stack):
    """Kept apart from the connector so alert routing survives a broken connector deployment."""

    def __init__(self, scope: Construct, *, inputs: StageInputs, **kwargs: Any) -> None:
        names = inputs.names
        super().__init__(scope, names.alerts_stack, stack_name=names.alerts_stack, **kwargs)
        self.alerts = AlertsTopic(
            self,
            "Alerts",
            topic_name=names.alerts_topic,
            emails=inputs.secrets.alert_emails.value.addresses,
            account=inputs.target.account,
            removal_policy=inputs.removal_policy,
        )
        CfnOutput(
            self,
            "TopicArn",
            value=self.alerts.topic.topic_arn,
            export_name=names.alerts_topic_export,
            description="alerts topic of the stage (imported by the connector stack)",
        )
        CfnOutput(
            self,
            "KeyArn",
            value=self.alerts.key.key_arn,
            export_name=names.alerts_key_export,
            description="KMS key of the alerts topic (publishers need kms:GenerateDataKey on it)",
        )
