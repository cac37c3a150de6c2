"""MSK IAM permissions of the workers, only for stages with ``kafka_auth = iam``.

The MSK cluster's name and UUID are not in ``brokerString``, so the cluster part of each ARN is
``*/*``; the topic and group parts are the stage's own names, so a stage can only touch its own
topics and groups. cdk-nag reports each of these ARNs (IAM5, wildcard); each is acknowledged
one by one with that reason (:func:`acknowledge_msk_resources`).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from wms_connector.infra.nag import acknowledge
from wms_connector.naming import StageNames

#: How cdk-nag prints the partition pseudo-parameter inside an ARN.
NAG_PARTITION = "<AWS::Partition>"

_CLUSTER_ACTIONS = (
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeCluster",
    "kafka-cluster:WriteDataIdempotently",
)
_TOPIC_ACTIONS = (
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:DescribeTopicDynamicConfiguration",
    "kafka-cluster:ReadData",
    "kafka-cluster:WriteData",
)
_GROUP_ACTIONS = ("kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup")

#: Statement id -> actions, for the workers (:func:`msk_resources`) and the cleanup Lambda.
_MSK_ACTIONS = {
    "MskConnect": _CLUSTER_ACTIONS,
    "MskStageTopics": _TOPIC_ACTIONS,
    "MskStageGroups": _GROUP_ACTIONS,
}
_CLEANUP_ACTIONS = {
    "MskConnect": ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"),
    "MskDeleteStageTopics": ("kafka-cluster:DescribeTopic", "kafka-cluster:DeleteTopic"),
    "MskDescribeStageGroup": ("kafka-cluster:DescribeGroup",),
}
_WILDCARD_CLUSTER = (
    "MSK IAM ARNs need the cluster name and UUID, which brokerString does not carry; the "
    "topic/group part is this stage's own name, so the {who} cannot reach another stage"
)


def _arn_base(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:kafka:{region}:{account}"


def _statements(
    resources: dict[str, list[str]], actions: dict[str, tuple[str, ...]]
) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(sid=sid, actions=list(actions[sid]), resources=arns)
        for sid, arns in resources.items()
    ]


def _acknowledge(role: Construct, resources: dict[str, list[str]], *, who: str) -> None:
    """Acknowledge cdk-nag's IAM5 for each ARN, one by one (a blanket one would hide a new ARN)."""
    for arns in resources.values():
        for arn in arns:
            acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn}]", _WILDCARD_CLUSTER.format(who=who))


def msk_resources(names: StageNames, *, partition: str, region: str, account: str) -> dict[str, list[str]]:
    """Statement id -> resource ARNs (pure)."""
    base = _arn_base(partition, region, account)
    return {
        "MskConnect": [f"{base}:cluster/*/*"],
        "MskStageTopics": [f"{base}:topic/*/*/{topic}" for topic in sorted(names.all_topics)],
        # Connect's group, and Debezium's schema-history consumer (its group starts with topic.prefix).
        "MskStageGroups": [f"{base}:group/*/*/{names.group_id}", f"{base}:group/*/*/{names.topic_prefix}*"],
    }


def msk_iam_statements(
    names: StageNames, *, partition: str, region: str, account: str
) -> list[iam.PolicyStatement]:
    return _statements(
        msk_resources(names, partition=partition, region=region, account=account), _MSK_ACTIONS
    )


def acknowledge_msk_resources(role: Construct, names: StageNames, *, region: str, account: str) -> None:
    resources = msk_resources(names, partition=NAG_PARTITION, region=region, account=account)
    _acknowledge(role, resources, who="grant")


def cleanup_resources(
    names: StageNames, *, partition: str, region: str, account: str
) -> dict[str, list[str]]:
    """What the topic-cleanup Lambda touches: the stage's topics (delete) and Connect group (describe)."""
    base = _arn_base(partition, region, account)
    return {
        "MskConnect": [f"{base}:cluster/*/*"],
        "MskDeleteStageTopics": [f"{base}:topic/*/*/{topic}" for topic in sorted(names.all_topics)],
        "MskDescribeStageGroup": [f"{base}:group/*/*/{names.group_id}"],
    }


def cleanup_iam_statements(
    names: StageNames, *, partition: str, region: str, account: str
) -> list[iam.PolicyStatement]:
    resources = cleanup_resources(names, partition=partition, region=region, account=account)
    return _statements(resources, _CLEANUP_ACTIONS)


def acknowledge_cleanup_resources(role: Construct, names: StageNames, *, region: str, account: str) -> None:
    resources = cleanup_resources(names, partition=NAG_PARTITION, region=region, account=account)
    _acknowledge(role, resources, who="cleanup")
