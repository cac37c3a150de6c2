"""``connect.exposition``: the exporter's page as typed values (the real page is read in
tests/integration/test_standin_pipeline.py)."""

from __future__ import annotations

import pytest

from wms_connector.connect import exposition

PAGE = """\
# HELP debezium_metrics_connected Connected (debezium.postgres<type=connector-metrics, ...>)
# TYPE debezium_metrics_connected untyped
debezium_metrics_connected{plugin="postgres",context="streaming",server="wms",} 1.0
debezium_metrics_connected{plugin="postgres",context="streaming",server="--wms--b--wms",} 0.0
debezium_metrics_millisecondsbehindsource{plugin="postgres",context="streaming",server="wms",} 42.0
debezium_metrics_millisecondssincelastevent{plugin="postgres",context="snapshot",server="wms",} 7.0
kafka_connect_connector_status{connector="wms-connector-main",status="running",} 1.0
"""


def test_parse_keeps_every_sample_with_its_labels() -> None:
    samples = exposition.parse(PAGE)
    assert [s.name for s in samples] == [
        "debezium_metrics_connected",
        "debezium_metrics_connected",
        "debezium_metrics_millisecondsbehindsource",
        "debezium_metrics_millisecondssincelastevent",
        "kafka_connect_connector_status",
    ]
    assert samples[-1].labels == {"connector": "wms-connector-main", "status": "running"}


@pytest.mark.parametrize(
    ("server", "context", "expected"),
    [
        ("wms", "streaming", {"connected": 1.0, "millisecondsbehindsource": 42.0}),
        ("wms", "snapshot", {"millisecondssincelastevent": 7.0}),
        ("--wms--b--wms", "streaming", {"connected": 0.0}),
        ("other", "streaming", {}),
    ],
)
def test_debezium_selects_one_server_and_context(
    server: str, context: str, expected: dict[str, float]
) -> None:
    assert exposition.debezium(exposition.parse(PAGE), server=server, context=context) == expected


def test_malformed_page_is_an_expected_error() -> None:
    with pytest.raises(exposition.ExpositionError, match="not Prometheus text format"):
        exposition.parse("debezium_metrics_connected{server=wms} one\n")
