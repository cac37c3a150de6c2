"""The stage's customer-managed KMS keys (alerts topic, log groups): one place for their policy."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct

#: Shortest window AWS allows: a wrongly scheduled deletion can still be cancelled for a week.
PENDING_WINDOW = Duration.days(7)


def customer_key(scope: Construct, *, description: str, removal_policy: RemovalPolicy) -> kms.Key:
    """A rotating customer-managed key, construct id ``Key`` under ``scope``; callers add its policy."""
    return kms.Key(
        scope,
        "Key",
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=PENDING_WINDOW,
    )
