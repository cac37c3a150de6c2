"""MSK IAM permissions of the workers, only for stages with ``kafka_auth = iam``.

The MSK cluster's name and UUID are not in ``brokerString``, so the cluster part of each ARN is
``*/*``; the topic and group parts are the stage's own names, so a stage can only touch its own
topics and groups. cdk-nag reports each of these ARNs (IAM5, wildcard); each is acknowledged
one by one with that reason, by the same call that grants it (:func:`grant_stage_msk_access`,
:func:`grant_topics_msk_access`).
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

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
#: Exactly-once source delivery (KIP-618): each task's transactional producer, the leader's
#: transactional config-topic writes, and the zombie fencing a new task does.
_TRANSACTION_ACTIONS = ("kafka-cluster:AlterTransactionalId", "kafka-cluster:DescribeTransactionalId")

#: Statement id -> actions, for the workers (:func:`msk_resources`) and the topics Lambda.
_MSK_ACTIONS = {
    "MskConnect": _CLUSTER_ACTIONS,
    "MskStageTopics": _TOPIC_ACTIONS,
    "MskStageGroups": _GROUP_ACTIONS,
    "MskStageTransactions": _TRANSACTION_ACTIONS,
}
_TOPICS_ACTIONS = {
    "MskConnect": ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"),
    "MskManageStageTopics": (
        "kafka-cluster:CreateTopic",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:AlterTopicDynamicConfiguration",
    ),
    # Ephemeral stages only (topics_resources leaves these out for a named stage).
    "MskDeleteStageTopics": ("kafka-cluster:DeleteTopic",),
    "MskDescribeStageGroup": ("kafka-cluster:DescribeGroup",),
}
#: The scheduled audit reads (never writes): the data topics and Connect's offsets topic.
_AUDIT_ACTIONS: dict[str, tuple[str, ...]] = {
    "MskConnect": ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"),
    "MskReadStageTopics": ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"),
    "MskAuditGroups": ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"),
}
_WILDCARD_CLUSTER = (
    "MSK IAM ARNs need the cluster name and UUID, which brokerString does not carry; the "
    "topic/group part is this stage's own name, so the {who} cannot reach another stage"
)


def _arn_base(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:kafka:{region}:{account}"


def msk_resources(names: StageNames, *, partition: str, region: str, account: str) -> dict[str, list[str]]:
    """Statement id -> resource ARNs of the workers' grant (pure)."""
    base = _arn_base(partition, region, account)
    return {
        "MskConnect": [f"{base}:cluster/*/*"],
        "MskStageTopics": [f"{base}:topic/*/*/{topic}" for topic in sorted(names.all_topics)],
        # Connect's group, Debezium's schema-history consumer (its group starts with topic.prefix),
        # and the agents' hold reader (never joined, but librdkafka looks up its coordinator).
        "MskStageGroups": [
            f"{base}:group/*/*/{names.group_id}",
            f"{base}:group/*/*/{names.topic_prefix}*",
            f"{base}:group/*/*/{names.hold_reader_group}",
        ],
        # Connect's transactional ids all start with the group id: <group>-<connector>-<task> for
        # the tasks, <group>-leader for the leader's config-topic writes.
        "MskStageTransactions": [f"{base}:transactional-id/*/*/{names.group_id}-*"],
    }


def topics_resources(names: StageNames, *, partition: str, region: str, account: str) -> dict[str, list[str]]:
    """What the topics Lambda touches: the stage's topics (create, configure; delete only for an
    ephemeral stage) and, ephemeral only, its Connect group (describe, before deleting)."""
    base = _arn_base(partition, region, account)
    topics = [f"{base}:topic/*/*/{topic}" for topic in sorted(names.all_topics)]
    granted = {"MskConnect": [f"{base}:cluster/*/*"], "MskManageStageTopics": topics}
    if names.stage.is_ephemeral:
        granted["MskDeleteStageTopics"] = topics
        granted["MskDescribeStageGroup"] = [f"{base}:group/*/*/{names.group_id}"]
    return granted


def audit_resources(names: StageNames, *, partition: str, region: str, account: str) -> dict[str, list[str]]:
    """What the scheduled audit reads: the data topics and the offsets topic; its own groups."""
    base = _arn_base(partition, region, account)
    read = sorted([*names.data_topics.values(), names.offsets_topic])
    return {
        "MskConnect": [f"{base}:cluster/*/*"],
        "MskReadStageTopics": [f"{base}:topic/*/*/{topic}" for topic in read],
        "MskAuditGroups": [f"{base}:group/*/*/{names.audit_consumer_group_prefix}*"],
    }


def grant_audit_msk_access(role: iam.Role, names: StageNames) -> None:
    """The audit task's read-only access (stages with ``kafka_auth = iam``)."""
    _grant(role, names, audit_resources, _AUDIT_ACTIONS, who="audit")


def grant_stage_msk_access(role: iam.Role, names: StageNames) -> None:
    """The workers' access to the stage's topics and groups (stages with ``kafka_auth = iam``)."""
    _grant(role, names, msk_resources, _MSK_ACTIONS, who="grant")


def grant_topics_msk_access(role: iam.Role, names: StageNames) -> None:
    """The topics Lambda's access: create/configure the stage's topics (delete: ephemeral only)."""
    _grant(role, names, topics_resources, _TOPICS_ACTIONS, who="topics Lambda")


_Resources = Callable[..., dict[str, list[str]]]


def _grant(
    role: iam.Role, names: StageNames, resources: _Resources, actions: dict[str, tuple[str, ...]], *, who: str
) -> None:
    """One statement per id, then cdk-nag's IAM5 acknowledged ARN by ARN (a blanket
    acknowledgement would also hide an ARN added later)."""
    stack = Stack.of(role)
    granted = resources(names, partition=stack.partition, region=stack.region, account=stack.account)
    for sid, arns in granted.items():
        role.add_to_policy(iam.PolicyStatement(sid=sid, actions=list(actions[sid]), resources=arns))
    # cdk-nag prints the partition pseudo-parameter as NAG_PARTITION inside the ARNs it reports.
    reported = resources(names, partition=NAG_PARTITION, region=stack.region, account=stack.account)
    for arns in reported.values():
        for arn in arns:
            acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn}]", _WILDCARD_CLUSTER.format(who=who))
