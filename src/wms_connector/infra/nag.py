"""cdk-nag AwsSolutions acknowledgements, made next to the resource that causes each finding.

cdk-nag 3 runs as a CDK validation plugin (``Validations.of(app).add_plugins``): a finding that is
not acknowledged fails synth. Each acknowledgement names one exact finding (rule id plus, for
IAM5, the action or resource it is about) on the narrowest construct, with a reason.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_logs as logs
from constructs import Construct

PACK = "AwsSolutions"


def acknowledge(construct: Construct, finding: str, reason: str) -> None:
    """``finding`` as cdk-nag prints it without the pack prefix, e.g. ``AwsSolutions-IAM5[Resource::*]``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{finding}", reason=reason))


def log_streams_pattern(group: logs.LogGroup) -> str:
    """How cdk-nag spells ``<log group ARN>:*`` in an IAM5 finding (needs an explicit env)."""
    stack = Stack.of(group)
    logical_id = stack.resolve(stack.get_logical_id(group.node.default_child))  # type: ignore[arg-type]
    return f"arn:<AWS::Partition>:logs:{stack.region}:{stack.account}:log-group:<{logical_id}>:*"
