"""What a stage derives to, as plain data: the ``plan`` a person reads before deploying (pure)."""

from __future__ import annotations

from typing import Any

from wms_connector.kafka.topics import topic_specs
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import ALL_SECRETS
from wms_connector.stages import Stage, settings_for


def topic_roles(stage: Stage) -> list[dict[str, str]]:
    """Every topic the stage owns with its role, in the order of ``StageNames.all_topics``.

    Read from ``topics.topic_specs`` (the one derivation of topics); data topics also name their table.
    """
    rows = []
    for spec in topic_specs(stage):
        row = {"name": spec.name, "role": spec.role.value}
        if spec.table is not None:
            row["table"] = spec.table
        rows.append(row)
    return rows


def build_plan(stage: Stage) -> dict[str, Any]:
    """Everything derived for ``stage``. The JSON form of this is a documented, stable contract."""
    names = names_for(stage)
    settings = settings_for(stage)
    return {
        "stage": stage.name,
        "kind": stage.kind.value,
        "topic_namespace": names.topic_namespace,
        "sizing": {
            "task_cpu": settings.task_cpu,
            "task_memory_mib": settings.task_memory_mib,
            "connect_cpu": settings.connect_cpu,
            "connect_memory_mib": settings.connect_memory_mib,
            "heap_mib": settings.heap_mib,
            "agent_cpu": settings.agent_cpu,
            "agent_memory_mib": settings.agent_memory_mib,
            "worker_count": settings.worker_count,
        },
        "alarms": {
            "lag_alarm_ms": settings.lag_alarm_ms,
            "stale_event_alarm_ms": settings.stale_event_alarm_ms,
            "disconnected_alarm_ms": settings.disconnected_alarm_ms,
            "restart_after_unhealthy_ms": settings.restart_after_unhealthy_ms,
            "restart_budget": settings.restart_budget,
            "restart_budget_window_ms": settings.restart_budget_window_ms,
            "agent_poll_interval_ms": settings.agent_poll_interval_ms,
        },
        "kafka": {
            "replication_factor": settings.replication_factor,
            "data_topic_partitions": settings.data_topic_partitions,
            "data_retention_ms": settings.data_retention_ms,
            "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        },
        "log_retention_days": settings.log_retention_days,
        "retain_on_destroy": settings.retain_on_destroy,
        "names": {
            "service_prefix": names.service_prefix,
            "stacks": [names.alerts_stack, names.connector_stack],
            "cluster": names.cluster,
            "service": names.service,
            "task_family": names.task_family,
            "connector": names.connector,
            "group_id": names.group_id,
            "topic_prefix": names.topic_prefix,
            "metric_namespace": names.metric_namespace,
            "alarm_prefix": names.alarm_prefix,
            "alerts_topic": names.alerts_topic,
            "dashboard": names.dashboard,
            "log_groups": [
                names.connect_log_group,
                names.agent_log_group,
                names.topics_log_group,
                names.redeploy_log_group,
            ],
            "task_role": names.task_role,
            "execution_role": names.execution_role,
            "agent_container": names.agent_container,
            "rest_credential_secret": names.rest_credential_secret,
        },
        "topics": topic_roles(stage),
        "secrets": [
            {"name": spec.name, "required": spec.required, "paths": list(names.secret_paths(spec.name))}
            for spec in ALL_SECRETS
        ],
    }
