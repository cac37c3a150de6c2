"""Cost estimate from the synthesized templates and the one price table."""

from __future__ import annotations

import pytest

from tests.infra.conftest import EPHEMERAL, STAGES, Synthesized
from tests.infra.helpers import connector
from wms_connector.infra.cost import estimate, load_prices, summary
from wms_connector.naming import names_for
from wms_connector.stages import Stage, settings_for


def _lines(synthesized: Synthesized, stage: str) -> dict[str, float]:
    names = names_for(Stage(stage))
    templates = [synthesized.template(names.alerts_stack), synthesized.template(names.connector_stack)]
    return {line.item: line.monthly for line in estimate(templates, load_prices())}


@pytest.mark.parametrize("stage", STAGES)
def test_fargate_cost_is_size_times_workers_times_hours(synthesized: Synthesized, stage: str) -> None:
    prices = load_prices()
    settings = settings_for(Stage(stage))
    lines = _lines(synthesized, stage)
    hours = prices["hours_per_month"] * settings.worker_count
    assert lines["Fargate vCPU"] == round(settings.task_cpu / 1024 * hours * prices["fargate_vcpu_hour"], 2)
    assert lines["Fargate memory"] == round(
        settings.task_memory_mib / 1024 * hours * prices["fargate_gb_hour"], 2
    )
    assert lines["KMS keys"] == 2 * prices["kms_key_month"]
    alarms = len(connector(synthesized, stage).find_resources("AWS::CloudWatch::Alarm"))
    assert lines["CloudWatch alarms"] == round(alarms * prices["alarm_standard_month"], 2)
    # the scheduled audit runs a few minutes a day, priced per run, not around the clock
    runs = (
        prices["assumptions"]["scheduled_task_runs_month"]
        * prices["assumptions"]["scheduled_task_hours_per_run"]
    )
    assert lines["Fargate scheduled tasks vCPU"] == round(
        settings.audit_cpu / 1024 * runs * prices["fargate_vcpu_hour"], 2
    )


def test_lambda_is_priced_where_it_exists(synthesized: Synthesized) -> None:
    assert "Lambda compute" in _lines(synthesized, EPHEMERAL)
    assert "Lambda compute" in _lines(synthesized, "main")  # every stage has the topics Lambda


def test_production_costs_more_than_dev_and_the_total_adds_up(synthesized: Synthesized) -> None:
    prices = load_prices()
    totals = {}
    for stage in ("main", "production"):
        names = names_for(Stage(stage))
        templates = [synthesized.template(names.alerts_stack), synthesized.template(names.connector_stack)]
        lines = estimate(templates, prices)
        data = summary(stage, lines, prices)
        assert data["monthly_total"] == round(sum(line.monthly for line in lines), 2)
        assert data["region"] == "us-east-1"
        totals[stage] = data["monthly_total"]
    assert totals["production"] > totals["main"] > 0


def test_price_table_documents_its_source_and_date() -> None:
    prices = load_prices()
    assert "us-east-1" in prices["_source"] and "20" in prices["_source"]
