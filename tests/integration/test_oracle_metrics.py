"""Debezium 3.6.1's own Oracle LogMiner metrics, without a database, through the image's exporter.

A JVM (``oracle_metrics/StreamingMetricsDriver.java``) builds the objects ``OracleConnectorTask``
builds for metrics from the connector config our builder derives for production (the LogMiner
adapter's ``LogMinerStreamingChangeEventSourceMetrics`` and the snapshot metrics of
``OracleChangeEventSourceMetricsFactory``), registers them as the coordinator does, and drives their
setters through the states the connect-agent judges. The same JMX exporter agent and rules file as
the image serve them; the agent's parser (``connect.exposition``) and policy run on that page.

Each state's page (its ``debezium_metrics_*`` lines) is kept in
``tests/fixtures/oracle/debezium_metrics/<state>.prom``; the agent's timelines take their Oracle values
from there. A page that differs from its file fails; ``WMS_RECORD_ORACLE_METRICS=1`` rewrites them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from tests.integration.oracle_metrics.driver import MetricsJvm, Step, debezium_lines
from wms_connector.agent.policy import (
    ConnectorStatus,
    Memory,
    Observation,
    Policy,
    RestartTask,
    Streaming,
    TaskStatus,
    Verdict,
    decide,
)
from wms_connector.connect import exposition
from wms_connector.connect.connector_config import OracleSource, build_config
from wms_connector.kafka.client import KafkaAuth
from wms_connector.local.fetch import FetchResult
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import Stage, settings_for

FIXTURES: Final = Path(__file__).resolve().parents[1] / "fixtures" / "oracle" / "debezium_metrics"
RECORD_ENV: Final = "WMS_RECORD_ORACLE_METRICS"
STAGE: Final = Stage("production")
SERVER: Final = names_for(STAGE).topic_prefix
#: The ObjectNames Debezium 3.6.1 registers for an Oracle connector (io.debezium.metrics.Metrics
#: .metricName: context first, then server; no task key), in the order the exporter reads them.
EXPECTED_NAMES: Final = {
    f"debezium.oracle:type=connector-metrics,context=streaming,server={SERVER}",
    f"debezium.oracle:type=connector-metrics,context=snapshot,server={SERVER}",
}
#: Attribute values that depend on the wall clock when the page is served (milliseconds).
TIME_DEPENDENT: Final = (
    "millisecondsbehindsource",
    "millisecondssincelastevent",
    "oldestscnageinmilliseconds",
    "snapshotdurationinseconds",
)
TIME_TOLERANCE: Final = 60_000.0
#: MXBean open types the exporter turns into samples (strings, arrays and tables it skips).
EXPORTED_TYPES: Final = frozenset(
    {"int", "long", "double", "boolean", "java.lang.Long", "java.lang.Integer", "java.lang.Double"}
    | {"java.lang.Boolean", "java.math.BigInteger", "java.math.BigDecimal"}
)

#: The states, in timeline order. SCNs are realistic magnitudes (a busy database is at ~1e10;
#: doubles hold SCNs exactly up to 2**53).
STEPS: Final = (
    Step("00-snapshot", ("register", "snapshot started")),
    Step(
        "01-streaming",
        (
            "snapshot completed",
            "connected true",
            "current-scn 12000000500",
            "offset-scn 12000000480",
            "commit-scn 12000000490",
            "oldest-scn empty",
            "active-transactions 0",
            "event WMS.PLAN_BASE_WVR_TBL 800 12000000490 0a001b00c2030000",
        ),
    ),
    Step(
        "02-scn-advancing",
        (
            "current-scn 12000001500",
            "offset-scn 12000001480",
            "commit-scn 12000001490",
            "event MMDL.PLAN_WVR_RVSN_TBL 600 12000001490 0b000400d1070000",
        ),
    ),
    # Mining does not progress (no open transaction holds the low watermark): the offset stays where
    # it was while the database's SCN moves on.
    Step("03-offset-flat", ("current-scn 12000090000",)),
    # A long transaction (opened 15 min ago at the offset) holds the low watermark; Debezium's offset
    # activity monitor counts a freeze.
    Step(
        "04-transaction-open",
        (
            "current-scn 12000095000",
            "offset-scn 12000094000",
            "active-transactions 1",
            "oldest-scn 12000094000 900000",
            "scn-freeze",
        ),
    ),
    Step("05-disconnected", ("connected false",)),
    # The coordinator unregisters the MBeans when the task stops (e.g. while Connect retries it).
    Step("06-unregistered", ("unregister",)),
)


@dataclass(frozen=True)
class Run:
    pages: dict[str, str]
    names: set[str]
    classes: tuple[str, str]
    attributes: dict[str, tuple[str, bool]]


@pytest.fixture(scope="module")
def run(runtime_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    db = DbInfo.model_validate(
        {"host": "db.invalid", "port": 1521, "db": "WMSCDB", "pdb_name": "WMSPDB", "user": "c##wms_cdc"}
        | {"password": "never-used"}
    )
    config = build_config(STAGE, OracleSource(db), "127.0.0.1:9", KafkaAuth.PLAINTEXT)
    jvm = MetricsJvm(runtime_jars.layout, config, tmp_path_factory.mktemp("oracle-metrics"))
    try:
        classes = tuple(jvm.send("class").removeprefix("class ").split())
        pages: dict[str, str] = {}
        names: set[str] = set()
        attributes: dict[str, tuple[str, bool]] = {}
        for step in STEPS:
            jvm.apply(step)
            if step.name == "02-scn-advancing":
                names = set(jvm.send("names").split()[1:])
                for item in jvm.send("attributes").split()[1:]:
                    name, kind, value = item.rsplit(":", 2)
                    attributes[name] = (kind, value == "set")
            pages[step.name] = jvm.scrape()
        yield Run(pages, names, (classes[0], classes[1]), attributes)
    finally:
        jvm.close()


def _streaming(page: str) -> Streaming | None:
    return Streaming.from_attributes(exposition.debezium(exposition.parse(page), server=SERVER))


def _snapshot_running(page: str) -> bool:
    snapshot = exposition.debezium(exposition.parse(page), server=SERVER, context=exposition.SNAPSHOT)
    return snapshot.get("snapshotrunning", 0.0) >= 1.0


def test_the_connector_builds_logminer_metrics_under_the_names_our_rules_match(run: Run) -> None:
    assert run.classes == (
        "io.debezium.connector.oracle.logminer.LogMinerStreamingChangeEventSourceMetrics",
        "io.debezium.pipeline.metrics.DefaultSnapshotChangeEventSourceMetrics",
    )
    assert run.names == EXPECTED_NAMES


def test_every_numeric_attribute_of_the_logminer_mbean_reaches_the_page(run: Run) -> None:
    """The rules' Oracle pattern, proven attribute by attribute: nothing numeric is dropped, nothing
    lands under other labels."""
    samples = exposition.parse(run.pages["02-scn-advancing"])
    served = {
        s.name.removeprefix(exposition.DEBEZIUM_PREFIX)
        for s in samples
        if s.labels == {"plugin": "oracle", "context": "streaming", "server": SERVER}
    }
    exported = {
        name.lower()
        for name, (kind, has_value) in run.attributes.items()
        if kind in EXPORTED_TYPES and has_value
    }
    assert served == exported
    # The agent's Oracle signals are among them.
    assert {"offsetscn", "currentscn", "oldestscnageinmilliseconds", "numberofactivetransactions"} <= served
    assert {"scnfreezecount", "connected", "millisecondsbehindsource", "millisecondssincelastevent"} <= served
    # Debezium's own labels only: no sample of an Oracle bean escapes the rule under another name.
    assert all(s.labels.get("plugin") == "oracle" for s in samples if s.name.startswith("debezium_"))


def test_the_agent_reads_each_state(run: Run) -> None:
    pages = run.pages
    assert _snapshot_running(pages["00-snapshot"])
    assert not _snapshot_running(pages["01-streaming"])
    streaming = _streaming(pages["01-streaming"])
    assert streaming is not None and streaming.connected
    assert (streaming.current_scn, streaming.offset_scn) == (12000000500, 12000000480)
    assert streaming.active_transactions == 0
    # OldestScn is -1 with an empty transaction cache; its age is 0 (no open transaction).
    assert streaming.oldest_scn_age_ms == 0
    assert streaming.ms_behind_source is not None and 800 <= streaming.ms_behind_source < 800 + TIME_TOLERANCE
    assert streaming.queue_remaining == 8192
    flat = _streaming(pages["03-offset-flat"])
    assert flat is not None and (flat.current_scn, flat.offset_scn) == (12000090000, 12000001480)
    open_tx = _streaming(pages["04-transaction-open"])
    assert open_tx is not None
    assert (open_tx.active_transactions, open_tx.scn_freeze_count) == (1, 1)
    assert (
        open_tx.oldest_scn_age_ms is not None
        and 900_000 <= open_tx.oldest_scn_age_ms < 900_000 + TIME_TOLERANCE
    )
    disconnected = _streaming(pages["05-disconnected"])
    assert disconnected is not None and not disconnected.connected
    assert _streaming(pages["06-unregistered"]) is None


def test_the_agent_judges_the_timeline(run: Run) -> None:
    """The policy on what the exporter served, with production's thresholds and a fake clock."""
    settings = settings_for(STAGE)
    policy = Policy.from_settings(settings)
    stall_s = settings.scn_stall_ms / 1000
    unhealthy_s = settings.restart_after_unhealthy_ms / 1000
    own = "10.0.1.5:8083"
    status = ConnectorStatus("RUNNING", own, (TaskStatus(0, "RUNNING", own),))
    timeline = (
        (0.0, "00-snapshot", {Verdict.SNAPSHOT}),
        (60.0, "01-streaming", {Verdict.HEALTHY}),
        (120.0, "02-scn-advancing", {Verdict.HEALTHY}),
        (120.0 + stall_s, "03-offset-flat", {Verdict.STALLED}),
        (200.0 + stall_s, "05-disconnected", {Verdict.DISCONNECTED}),
        (201.0 + stall_s, "06-unregistered", {Verdict.DISCONNECTED}),
        (201.0 + stall_s + unhealthy_s, "06-unregistered", {Verdict.STALLED}),
    )
    memory = Memory()
    for now, state, expected in timeline:
        page = run.pages[state]
        observation = Observation(True, status, True, _streaming(page), _snapshot_running(page))
        decision = decide(observation, memory, own, now, policy)
        assert decision.assessment.verdict in expected, (state, decision.assessment)
        if state == "03-offset-flat":
            assert decision.actions == (RestartTask(0),)
        memory = decision.memory


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in exposition.parse(text)}


def _header(step: Step) -> str:
    return (
        "# What runtime/jmx-exporter.yaml serves for Debezium's Oracle metrics in this state (generated by\n"
        "# tests/integration/test_oracle_metrics.py; do not edit: WMS_RECORD_ORACLE_METRICS=1 rewrites it).\n"
        f"# State {step.name}: the driver commands {'; '.join(step.commands)}\n"
        f"# Time-dependent values (served at record time; compared within {TIME_TOLERANCE:.0f} ms): "
        f"{', '.join(TIME_DEPENDENT)}\n"
    )


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_each_state_matches_its_recorded_page(run: Run, step: Step) -> None:
    served = debezium_lines(run.pages[step.name])
    path = FIXTURES / f"{step.name}.prom"
    if os.environ.get(RECORD_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_header(step) + served)
    recorded = path.read_text()
    assert recorded.startswith(_header(step)), f"{path} is stale: rerun with {RECORD_ENV}=1"
    now, then = _values(served), _values(recorded)
    assert set(now) == set(then), f"{path}: other samples served; rerun with {RECORD_ENV}=1 and review"
    for key, value in now.items():
        attribute = key[0].removeprefix(exposition.DEBEZIUM_PREFIX)
        if attribute.startswith(TIME_DEPENDENT) and value >= 0 and then[key] >= 0:
            assert abs(value - then[key]) <= TIME_TOLERANCE, (key, value, then[key])
        else:
            assert value == then[key], (path.name, key, value, then[key])
