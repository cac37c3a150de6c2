"""The alerts stack: encrypted, TLS-only topic, one subscription per address, exports."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import STAGES, Synthesized
from tests.infra.helpers import alerts
from wms_connector.naming import names_for
from wms_connector.stages import Stage


@pytest.mark.parametrize("stage", STAGES)
def test_topic_is_kms_encrypted_and_tls_only(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    template = alerts(synthesized, stage)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": names.alerts_topic, "KmsMasterKeyId": Match.any_value()}
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("stage", STAGES)
def test_one_email_subscription_per_address(synthesized: Synthesized, stage: str) -> None:
    addresses = synthesized.inputs[stage].secrets.alert_emails.value.addresses
    template = alerts(synthesized, stage)
    template.resource_count_is("AWS::SNS::Subscription", len(addresses))
    for address in addresses:
        template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": address})


def test_production_mails_its_own_recipients() -> None:
    # The example file overrides alertEmails for production: the stage path wins over the default.
    from wms_connector.secrets.shapes import ALERT_EMAILS
    from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE, FileSecretsBackend, resolve

    resolved = resolve(Stage("production"), ALERT_EMAILS, FileSecretsBackend(EXAMPLE_SECRETS_FILE))
    assert resolved.path == "wms/production/alertEmails"
    assert len(resolved.value.addresses) == 2


@pytest.mark.parametrize("stage", STAGES)
def test_topic_and_key_are_exported_for_the_connector_stack(synthesized: Synthesized, stage: str) -> None:
    names = names_for(Stage(stage))
    template = alerts(synthesized, stage)
    template.has_output("*", {"Export": {"Name": names.alerts_topic_export}})
    template.has_output("*", {"Export": {"Name": names.alerts_key_export}})
    # AWS services publish only on behalf of this account
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {
                                    "Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]
                                },
                                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                            }
                        )
                    ]
                )
            }
        },
    )
