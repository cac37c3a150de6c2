"""MSK IAM permissions of the workers (``kafka_auth = iam``) and of the topics Lambda.

With the stage's ``mskClusterArn`` secret, every ARN names that cluster (``cluster/NAME/UUID``
and ``topic|group|transactional-id/NAME/UUID/...``): a role of one stage cannot reach another
cluster of the account, even where two named stages share topic names by design. Without it
(``brokerString`` carries no cluster name or UUID) the cluster part is ``*/*``, any MSK cluster of
the account and region, and synth warns for a named stage (:func:`cluster_scope_warning`).

The topic, group and transactional-id parts are the stage's own names, exactly: Connect's group,
Debezium's schema-history and signal consumer groups (never a prefix, which for a named stage
would match an unrelated ``wms-reporting``). Transactional ids are the tasks' ``<group.id>-*``
(Connect chooses the suffix, ``-<connector>-<task>``) and the leader's exact
``connect-cluster-<group.id>`` (``names.leader_transactional_id``). cdk-nag reports each ARN that holds a
wildcard (IAM5); each is acknowledged one by one, by the same call that grants it.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from wms_connector.infra.nag import acknowledge
from wms_connector.naming import StageNames
from wms_connector.secrets.shapes import MskCluster

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
    "no mskClusterArn secret for this stage: MSK IAM ARNs need the cluster name and UUID, which "
    "brokerString does not carry; the topic/group part is this stage's own name"
)
_WILDCARD_SUFFIX = (
    "the suffix is chosen at run time (the Connect tasks' transactional ids -<connector>-<task>; the "
    "audit's per-run consumer group); the prefix is this stage's own name on this stage's cluster"
)


def cluster_scope_warning(names: StageNames, cluster: MskCluster | None) -> str | None:
    """What synth says when a named stage's MSK grants cannot name its cluster (``None``: nothing)."""
    if cluster is not None or names.stage.is_ephemeral:
        return None
    paths = " or ".join(names.secret_paths("mskClusterArn"))
    return (
        f"stage {names.stage.name!r} has no mskClusterArn secret ({paths}): its MSK IAM grants name every "
        "cluster of the account and region (cluster/*/*), and named stages share topic names, so this "
        "stage's roles may write another named stage's topics on any MSK cluster of the account; store "
        "the cluster's ARN there to scope them"
    )


def _scope(partition: str, region: str, account: str, cluster: MskCluster | None) -> tuple[str, str]:
    """``(ARN base, cluster path)``: the cluster's own when known, else any cluster (``*/*``)."""
    if cluster is None:
        return f"arn:{partition}:kafka:{region}:{account}", "*/*"
    return f"arn:{partition}:kafka:{cluster.region}:{cluster.account}", cluster.cluster_path


def msk_resources(
    names: StageNames, *, partition: str, region: str, account: str, cluster: MskCluster | None = None
) -> dict[str, list[str]]:
    """Statement id -> resource ARNs of the workers' grant (pure)."""
    base, path = _scope(partition, region, account, cluster)
    groups = (
        names.group_id,
        names.schema_history_consumer_group,
        names.signal_consumer_group,
        names.hold_reader_group,
    )
    return {
        "MskConnect": [f"{base}:cluster/{path}"],
        "MskStageTopics": [f"{base}:topic/{path}/{topic}" for topic in sorted(names.all_topics)],
        # Connect's group, Debezium's schema-history and Kafka-signal consumers, and the agents'
        # hold reader (never joined, but librdkafka looks up its coordinator): exact names.
        "MskStageGroups": [f"{base}:group/{path}/{group}" for group in groups],
        # Connect's transactional ids: <group>-<connector>-<task> for the tasks, and
        # connect-cluster-<group> for the leader's config-topic writes (issue 23: the leader's id
        # was missed before; tests/integration/test_kafka_mtls.py grants these and nothing else).
        "MskStageTransactions": [
            f"{base}:transactional-id/{path}/{names.group_id}-*",
            f"{base}:transactional-id/{path}/{names.leader_transactional_id}",
        ],
    }


def topics_resources(
    names: StageNames, *, partition: str, region: str, account: str, cluster: MskCluster | None = None
) -> dict[str, list[str]]:
    """What the topics Lambda touches: the stage's topics (create, configure; delete only for an
    ephemeral stage) and, ephemeral only, its Connect group (describe, before deleting)."""
    base, path = _scope(partition, region, account, cluster)
    topics = [f"{base}:topic/{path}/{topic}" for topic in sorted(names.all_topics)]
    granted = {"MskConnect": [f"{base}:cluster/{path}"], "MskManageStageTopics": topics}
    if names.stage.is_ephemeral:
        granted["MskDeleteStageTopics"] = topics
        granted["MskDescribeStageGroup"] = [f"{base}:group/{path}/{names.group_id}"]
    return granted


def audit_resources(
    names: StageNames, *, partition: str, region: str, account: str, cluster: MskCluster | None = None
) -> dict[str, list[str]]:
    """What the scheduled audit reads: the data topics and the offsets topic; its own groups (one
    per run, all under the stage's audit prefix)."""
    base, path = _scope(partition, region, account, cluster)
    read = sorted([*names.data_topics.values(), names.offsets_topic])
    return {
        "MskConnect": [f"{base}:cluster/{path}"],
        "MskReadStageTopics": [f"{base}:topic/{path}/{topic}" for topic in read],
        "MskAuditGroups": [f"{base}:group/{path}/{names.audit_consumer_group_prefix}*"],
    }


def grant_audit_msk_access(role: iam.Role, names: StageNames, cluster: MskCluster | None = None) -> None:
    """The audit task's read-only access (stages with ``kafka_auth = iam``)."""
    _grant(role, names, audit_resources, _AUDIT_ACTIONS, cluster)


def grant_stage_msk_access(role: iam.Role, names: StageNames, cluster: MskCluster | None = None) -> None:
    """The workers' access to the stage's topics and groups (stages with ``kafka_auth = iam``)."""
    _grant(role, names, msk_resources, _MSK_ACTIONS, cluster)


def grant_topics_msk_access(role: iam.Role, names: StageNames, cluster: MskCluster | None = None) -> None:
    """The topics Lambda's access: create/configure the stage's topics (delete: ephemeral only)."""
    _grant(role, names, topics_resources, _TOPICS_ACTIONS, cluster)


_Resources = Callable[..., dict[str, list[str]]]


def _grant(
    role: iam.Role,
    names: StageNames,
    resources: _Resources,
    actions: dict[str, tuple[str, ...]],
    cluster: MskCluster | None,
) -> None:
    """One statement per id, then cdk-nag's IAM5 acknowledged ARN by ARN for the ARNs that hold a
    wildcard (a blanket acknowledgement would also hide an ARN added later)."""
    stack = Stack.of(role)
    granted = resources(
        names, partition=stack.partition, region=stack.region, account=stack.account, cluster=cluster
    )
    for sid, arns in granted.items():
        role.add_to_policy(iam.PolicyStatement(sid=sid, actions=list(actions[sid]), resources=arns))
    # cdk-nag prints the partition pseudo-parameter as NAG_PARTITION inside the ARNs it reports.
    reported = resources(
        names, partition=NAG_PARTITION, region=stack.region, account=stack.account, cluster=cluster
    )
    for arns in reported.values():
        for arn in (a for a in arns if "*" in a):
            reason = _WILDCARD_CLUSTER if cluster is None else _WILDCARD_SUFFIX
            acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn}]", reason)
