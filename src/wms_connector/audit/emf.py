"""The audit's CloudWatch metrics as EMF lines (pure): one line per audited table.

Each line carries two dimension sets: ``Stage, Connector, Table`` (which table differs, for the
dashboard) and ``Stage, Connector`` (the stage's roll-up, which the alarm watches with the
``Maximum`` statistic, so any table above zero alarms). The scheduled task prints them on stdout;
its ``awslogs`` driver turns them into metrics without ``cloudwatch:PutMetricData``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from wms_connector.audit.compare import TableResult
from wms_connector.naming import AUDIT_TABLE_DIMENSION, METRIC_DIMENSIONS, AuditMetric


def audit_emf_lines(
    results: Sequence[TableResult], *, namespace: str, dimensions: Mapping[str, str], timestamp_ms: int
) -> list[str]:
    missing = [d for d in METRIC_DIMENSIONS if d not in dimensions]
    if missing:
        raise ValueError(f"EMF dimensions missing: {missing}")
    lines = []
    for result in results:
        values = {
            AuditMetric.MISSING: result.missing,
            AuditMetric.EXTRA: result.extra,
            AuditMetric.MISMATCHED: result.mismatched,
        }
        document: dict[str, object] = {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [
                            [*METRIC_DIMENSIONS, AUDIT_TABLE_DIMENSION],
                            list(METRIC_DIMENSIONS),
                        ],
                        "Metrics": [{"Name": m.value, "Unit": "Count"} for m in values],
                    }
                ],
            },
            **{d: dimensions[d] for d in METRIC_DIMENSIONS},
            AUDIT_TABLE_DIMENSION: result.table,
            **{m.value: v for m, v in values.items()},
        }
        lines.append(json.dumps(document, separators=(",", ":")))
    return lines
