"""Production's topology locally (pure parts): the nodes' properties and the leader bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from wms_connector.connect.worker_config import WorkerEndpoint, worker_config
from wms_connector.errors import InputError, WmsError
from wms_connector.kafka.topics import TOPIC_COMPRESSION, TopicRole, topic_specs
from wms_connector.local.broker import (
    CONTROLLER_NODE_ID,
    broker_properties,
    cluster_broker_properties,
    controller_properties,
    replication_for,
)
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.drill import DrillName, DrillResult, max_stall
from wms_connector.local.failover import count_delivery
from wms_connector.local.leaders import PartitionInfo, busiest_leader, lagging, led_by
from wms_connector.local.paths import RuntimeLayout
from wms_connector.stages import Stage


@pytest.mark.parametrize(("brokers", "rf"), [(1, 1), (2, 2), (3, 3), (5, 3)])
def test_replication_follows_the_broker_count_up_to_productions_three(brokers: int, rf: int) -> None:
    assert replication_for(brokers) == rf


def test_three_brokers_are_broker_only_nodes_with_one_controller_quorum(tmp_path: Path) -> None:
    controller = controller_properties(controller_port=9000, log_dir=tmp_path / "c")
    assert controller["process.roles"] == "controller"
    assert controller["controller.quorum.voters"] == f"{CONTROLLER_NODE_ID}@127.0.0.1:9000"
    assert controller["listeners"] == "CONTROLLER://127.0.0.1:9000"
    seen_ports = set()
    for node in (1, 2, 3):
        props = cluster_broker_properties(
            node_id=node,
            broker_port=9000 + node,
            controller_port=9000,
            brokers=3,
            log_dir=tmp_path / str(node),
        )
        assert props["process.roles"] == "broker"
        assert props["node.id"] == str(node)
        assert props["controller.quorum.voters"] == controller["controller.quorum.voters"]
        # MSK's three-AZ defaults: internal topics at RF 3, two in-sync replicas per acks=all write.
        assert props["default.replication.factor"] == "3"
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["transaction.state.log.replication.factor"] == "3"
        assert props["transaction.state.log.min.isr"] == "2"
        assert props["min.insync.replicas"] == "2"
        assert props["auto.create.topics.enable"] == "false"
        seen_ports.add(props["listeners"])
    assert len(seen_ports) == 3
    with pytest.raises(ValueError, match="node_id 4"):
        cluster_broker_properties(node_id=4, broker_port=1, controller_port=2, brokers=3, log_dir=tmp_path)


def test_one_broker_keeps_replication_one(tmp_path: Path) -> None:
    props = broker_properties(broker_port=1, controller_port=2, log_dir=tmp_path)
    assert props["default.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"


@pytest.mark.parametrize("brokers", [0, 6])
def test_a_broker_count_out_of_range_is_refused_before_anything_starts(tmp_path: Path, brokers: int) -> None:
    cluster = LocalCluster(tmp_path / "state", RuntimeLayout(tmp_path / "jars"))
    with pytest.raises(InputError, match=f"--brokers must be 1 to 5 \\(got {brokers}\\)"):
        cluster.up(Stage("it-three"), 1, brokers=brokers)
    assert not (tmp_path / "state" / "data").exists()


def _p(partition: int, leader: int, isr: tuple[int, ...] = (1, 2, 3)) -> PartitionInfo:
    return PartitionInfo("t", partition, leader, (1, 2, 3), isr)


def test_the_busiest_leader_is_the_one_leading_most_partitions() -> None:
    assert busiest_leader([_p(0, 2), _p(1, 3), _p(2, 2)]) == 2
    assert busiest_leader([_p(0, 3), _p(1, 1)]) == 1  # a tie: the lowest id
    assert led_by([_p(0, 2), _p(1, 3)], 3) == [_p(1, 3)]
    with pytest.raises(WmsError, match="no partition has a leader"):
        busiest_leader([_p(0, -1)])


def test_lagging_partitions_are_leaderless_or_under_replicated() -> None:
    healthy, behind, leaderless = _p(0, 1), _p(1, 2, (2, 3)), _p(2, -1, ())
    assert lagging([healthy, behind, leaderless]) == [behind, leaderless]
    assert lagging([healthy, _p(3, 1, (3, 2, 1))]) == []  # ISR order does not matter


def test_max_stall_is_the_longest_wait_for_a_committed_change() -> None:
    # Steady: each change read 0.2 s after its commit.
    steady_commits = {k: float(k) for k in range(5)}
    assert max_stall(steady_commits, {k: k + 0.2 for k in range(5)}) == pytest.approx(0.2)
    # Keys 2 and 3 committed at 2 s and 3 s, all read at 7.5 s (a stalled leader).
    arrived = {0: 0.2, 1: 1.2, 2: 7.5, 3: 7.5, 4: 7.6}
    assert max_stall(steady_commits, arrived) == pytest.approx(5.5)
    # A quiet source is not a stall: nothing committed between 1 s and 60 s.
    assert max_stall({0: 0.0, 1: 60.0}, {0: 0.1, 1: 61.0}) == pytest.approx(1.0)
    # Lost keys are ignored here (counted as lost).
    assert max_stall({0: 0.0, 1: 1.0}, {0: 0.3}) == pytest.approx(0.3)
    assert max_stall({}, {}) == 0.0


def test_the_drill_line_has_the_issues_shape() -> None:
    delivery = count_delivery([1, 2, 3], [1, 2, 2, 3])
    result = DrillResult(DrillName.ROLLING_RESTART, delivery, 4.21, 0, 0)
    assert result.line() == (
        "drill rolling-restart: lost 0, duplicated 1, max stall 4.2 s, task failures 0, agent restarts 0"
    )
    assert not result.clean
    assert DrillResult(DrillName.BROKER_HANG, count_delivery([1], [1]), 0.2, 0, 1).clean


@pytest.mark.parametrize("stage", ["main", "val", "production", "feature-x"])
def test_change_events_are_batched_and_compressed_with_zstd_end_to_end(stage: str) -> None:
    props = worker_config(Stage(stage), WorkerEndpoint("b:9092", "10.0.0.1"), ("/plugins",))
    assert props["producer.compression.type"] == TOPIC_COMPRESSION == "zstd"
    assert int(props["producer.batch.size"]) >= 65_536
    assert 0 < int(props["producer.linger.ms"]) <= 50
    for spec in topic_specs(Stage(stage)):
        expected = TOPIC_COMPRESSION if spec.role is TopicRole.DATA else None
        assert spec.config.get("compression.type") == expected, spec.name
