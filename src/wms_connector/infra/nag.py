"""cdk-nag AwsSolutions and checkov acknowledgements, made next to the resource that causes each finding.

cdk-nag 3 runs as a CDK validation plugin (``Validations.of(app).add_plugins``): a finding that is
not acknowledged fails synth. Each acknowledgement names one exact finding (rule id plus, for
IAM5, the action or resource it is about) on the narrowest construct, with a reason.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

PACK = "AwsSolutions"


def acknowledge(construct: Construct, finding: str, reason: str) -> None:
    """``finding`` as cdk-nag prints it without the pack prefix, e.g. ``AwsSolutions-IAM5[Resource::*]``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{finding}", reason=reason))


def log_streams_pattern(group: logs.LogGroup) -> str:
    """How cdk-nag spells ``<log group ARN>:*`` in an IAM5 finding (needs an explicit env)."""
    stack = Stack.of(group)
    logical_id = stack.resolve(stack.get_logical_id(group.node.default_child))  # type: ignore[arg-type]
    return f"arn:<AWS::Partition>:logs:{stack.region}:{stack.account}:log-group:<{logical_id}>:*"


#: The checkov checks this project runs (``make checkov-deps``; tests/infra/test_checkov.py).
CHECKOV_CHECK = re.compile(r"^CKV2?_AWS_\d+$")


def checkov_skip(construct: IConstruct, check: str, reason: str) -> None:
    """Acknowledge one checkov finding on ``construct``'s own CloudFormation resource.

    checkov reads ``Metadata.checkov.skip`` (``[{id, comment}]``) from the template, so the
    acknowledgement travels with the resource it is about; the reason is its comment."""
    if not CHECKOV_CHECK.match(check):
        raise ValueError(f"not a checkov AWS check id: {check!r}")
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    metadata = resource.get_metadata("checkov") or {}
    skips = [s for s in metadata.get("skip", []) if s.get("id") != check]
    resource.add_metadata("checkov", {**metadata, "skip": [*skips, {"id": check, "comment": reason}]})
