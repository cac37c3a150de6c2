"""The worker's Prometheus JMX exporter page, read as typed values (pure).

``runtime/jmx-exporter.yaml`` turns Debezium's connector MBeans into
``debezium_metrics_<attribute>{plugin, context, server}`` (attribute lowercased, e.g.
``millisecondsbehindsource``) and Connect's connector/task states into one gauge per state. The
agent and ``verify`` read the page over HTTP (their shells) and hand its text here; parsing uses
``prometheus_client``'s own parser rather than a hand-written one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from prometheus_client.parser import text_string_to_metric_families

from wms_connector.errors import WmsError

DEBEZIUM_PREFIX: Final = "debezium_metrics_"
#: Debezium's MBean contexts: ``streaming`` carries lag and connection, ``snapshot`` the snapshot.
STREAMING: Final = "streaming"
SNAPSHOT: Final = "snapshot"


class ExpositionError(WmsError):
    """The metrics page is not Prometheus text exposition format."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def parse(text: str) -> tuple[Sample, ...]:
    """Every sample on the page, in page order; raises :class:`ExpositionError` on malformed text."""
    try:
        return tuple(
            Sample(sample.name, dict(sample.labels), float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        )
    except ValueError as error:
        # The parser's message quotes the offending line, which is our own worker's output.
        raise ExpositionError(f"the metrics page is not Prometheus text format: {error}") from None


def debezium(samples: Iterable[Sample], *, server: str, context: str = STREAMING) -> dict[str, float]:
    """Debezium's attributes for one connector (``server`` = its ``topic.prefix``) and context.

    Keys are the lowercased MBean attribute names (``connected``, ``millisecondsbehindsource``,
    ``millisecondssincelastevent``, ``queueremainingcapacity``, ``offsetscn`` ...). An empty dict
    means the connector's task has not registered its MBean on this worker (not running here).
    """
    return {
        sample.name.removeprefix(DEBEZIUM_PREFIX): sample.value
        for sample in samples
        if sample.name.startswith(DEBEZIUM_PREFIX)
        and sample.labels.get("server") == server
        and sample.labels.get("context") == context
    }
