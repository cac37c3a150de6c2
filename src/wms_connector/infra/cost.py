"""Monthly cost estimate of a stage, read from its synthesized templates (pure).

Every price comes from ``prices.json`` (one documented table); every count from the template:
ECS service ``DesiredCount`` x its task's ``Cpu``/``Memory`` for Fargate (a task definition no
service runs, the scheduled audit, is priced per run from the assumptions), log groups, alarms, KMS
keys, Lambda functions, SNS topics. Volumes a template cannot know (log GB, invocations) are the
``assumptions`` in the same file. No NAT gateway or VPC endpoint is created by our stacks, so
none is priced (the VPC is shared and paid for elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

PRICES_FILE: Final = Path(__file__).resolve().parent / "prices.json"


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float


def _resources(templates: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [r for t in templates for r in t.get("Resources", {}).values() if r.get("Type") == kind]


def _line(item: str, quantity: float, unit: str, unit_price: float) -> CostLine:
    return CostLine(item, round(quantity, 4), unit, unit_price, round(quantity * unit_price, 2))


def _ref(value: Any) -> str | None:
    """The logical id a ``{"Ref": id}`` names (``None`` for anything else)."""
    return str(value["Ref"]) if isinstance(value, Mapping) and "Ref" in value else None


def estimate(templates: Iterable[Mapping[str, Any]], prices: Mapping[str, Any]) -> list[CostLine]:
    """One line per priced thing; the total is the sum of ``monthly``."""
    temps = list(templates)
    assume = prices["assumptions"]
    hours = float(prices["hours_per_month"])
    task_defs = {
        logical_id: r
        for t in temps
        for logical_id, r in t.get("Resources", {}).items()
        if r.get("Type") == "AWS::ECS::TaskDefinition"
    }
    services = _resources(temps, "AWS::ECS::Service")
    tasks = sum(int(s["Properties"].get("DesiredCount", 1)) for s in services)
    served = {_ref(s["Properties"].get("TaskDefinition")): s for s in services}
    vcpu_hours = gb_hours = scheduled_vcpu_hours = scheduled_gb_hours = 0.0
    per_run = float(assume["scheduled_task_runs_month"]) * float(assume["scheduled_task_hours_per_run"])
    for logical_id, task_def in task_defs.items():
        cpu = int(task_def["Properties"]["Cpu"]) / 1024
        gb = int(task_def["Properties"]["Memory"]) / 1024
        service = served.get(logical_id)
        if service is not None:
            running = int(service["Properties"].get("DesiredCount", 1)) * hours
            vcpu_hours, gb_hours = vcpu_hours + cpu * running, gb_hours + gb * running
        else:
            scheduled_vcpu_hours += cpu * per_run
            scheduled_gb_hours += gb * per_run
    lines = [
        _line("Fargate vCPU", vcpu_hours, "vCPU-hour", prices["fargate_vcpu_hour"]),
        _line("Fargate memory", gb_hours, "GB-hour", prices["fargate_gb_hour"]),
        _line("Logs ingestion", tasks * assume["log_gb_per_task_month"], "GB", prices["logs_ingest_gb"]),
    ]
    if scheduled_vcpu_hours:
        lines += [
            _line(
                "Fargate scheduled tasks vCPU", scheduled_vcpu_hours, "vCPU-hour", prices["fargate_vcpu_hour"]
            ),
            _line("Fargate scheduled tasks memory", scheduled_gb_hours, "GB-hour", prices["fargate_gb_hour"]),
        ]
    clusters = _resources(temps, "AWS::ECS::Cluster")
    insights = [
        c
        for c in clusters
        for s in c["Properties"].get("ClusterSettings", [])
        if s.get("Name") == "containerInsights" and s.get("Value") in ("enabled", "enhanced")
    ]
    if insights:
        metrics = (
            len(insights) * assume["container_insights_metrics_per_cluster"]
            + len(services) * assume["container_insights_metrics_per_service"]
        )
        lines.append(
            _line("Container Insights metrics", metrics, "metric-month", prices["custom_metric_month"])
        )
        lines.append(
            _line(
                "Container Insights log events",
                tasks * assume["container_insights_log_gb_per_task_month"],
                "GB",
                prices["logs_ingest_gb"],
            )
        )
    alarms = _resources(temps, "AWS::CloudWatch::Alarm")
    lines.append(_line("CloudWatch alarms", len(alarms), "alarm-month", prices["alarm_standard_month"]))
    keys = _resources(temps, "AWS::KMS::Key")
    lines.append(_line("KMS keys", len(keys), "key-month", prices["kms_key_month"]))
    functions = _resources(temps, "AWS::Lambda::Function")
    if functions:
        gb_seconds = sum(
            int(f["Properties"].get("MemorySize", 128))
            / 1024
            * assume["lambda_invocations_month"]
            * assume["lambda_seconds_per_invocation"]
            for f in functions
        )
        lines.append(_line("Lambda compute", gb_seconds, "GB-second", prices["lambda_gb_second"]))
        lines.append(
            _line(
                "Lambda requests",
                len(functions) * assume["lambda_invocations_month"],
                "request",
                prices["lambda_request"],
            )
        )
    topics = _resources(temps, "AWS::SNS::Topic")
    if topics:
        lines.append(
            _line(
                "SNS e-mail notifications",
                assume["alert_emails_month"],
                "e-mail",
                prices["sns_email_notification"],
            )
        )
    if task_defs:
        lines.append(
            _line("ECR image storage", assume["image_gb"], "GB-month", prices["ecr_storage_gb_month"])
        )
    return lines


def summary(stage: str, lines: list[CostLine], prices: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--json`` shape (stable): stage, region, currency, lines, total, price source."""
    return {
        "stage": stage,
        "region": prices["region"],
        "currency": prices["currency"],
        "lines": [asdict(line) for line in lines],
        "monthly_total": round(sum(line.monthly for line in lines), 2),
        "prices_source": prices["_source"],
    }
