"""The operations' pure core (tables, signals, state verdicts, steps, offsets files, the ECS Exec
invocation, the audit line) by tables, and ``--remote`` against moto's ECS server."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wms_connector.cli import main
from wms_connector.commands import ops_common
from wms_connector.errors import InputError, WmsError
from wms_connector.naming import CAPTURED_TABLES, names_for
from wms_connector.operations import positions, remote, signals
from wms_connector.operations.audit import audit_line, audit_record
from wms_connector.operations.procedures import (
    Action,
    ConnectorState,
    history_recreation_refusal,
    lifecycle_verdict,
    recovery_overrides,
    recovery_verdict,
    reset_steps,
    streaming_verdict,
)
from wms_connector.operations.tables import catalog, data_collection, resolve_tables
from wms_connector.stages import Stage

NAMES = names_for(Stage("main"))
BRANCH = names_for(Stage("feature-x"))
MMDL_BASE = CAPTURED_TABLES[0]


# -- tables -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["MMDL.PLAN_BASE_WVR_TBL", "mmdl.plan_base_wvr_tbl", " MMDL.Plan_Base_Wvr_Tbl "]
)
def test_a_captured_table_is_resolved_in_any_case(typed: str) -> None:
    assert resolve_tables([typed]) == (MMDL_BASE,)


def test_repeats_collapse_and_the_order_given_is_kept() -> None:
    tables = resolve_tables(["WMS.PLAN_WVR_RVSN_TBL", "MMDL.PLAN_BASE_WVR_TBL", "wms.plan_wvr_rvsn_tbl"])
    assert [t.qualified for t in tables] == ["WMS.PLAN_WVR_RVSN_TBL", "MMDL.PLAN_BASE_WVR_TBL"]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("MMDL.PLAN_BASE_WVR_TBX", "did you mean MMDL.PLAN_BASE_WVR_TBL"),
        ("PLAN_BASE_WVR_TBL", "in more than one schema"),
        ("SYS.DUAL", "not captured"),
        ("", "not captured"),
    ],
)
def test_anything_else_is_refused_naming_the_value(typed: str, said: str) -> None:
    with pytest.raises(InputError, match=said) as caught:
        resolve_tables([typed])
    assert repr(typed) in str(caught.value)


def test_no_table_is_refused() -> None:
    with pytest.raises(InputError, match="at least one table"):
        resolve_tables([])


@pytest.mark.parametrize(
    ("source", "config", "expected"),
    [
        (
            "oracle",
            {"database.dbname": "ORCLCDB", "database.pdb.name": "ORCLPDB1"},
            "ORCLPDB1.MMDL.PLAN_BASE_WVR_TBL",
        ),
        ("oracle", {"database.dbname": "WMSDB"}, "WMSDB.MMDL.PLAN_BASE_WVR_TBL"),
        ("standin", {"database.dbname": "wms"}, "MMDL.PLAN_BASE_WVR_TBL"),
    ],
)
def test_data_collection_is_the_table_id_debezium_matches(
    source: str, config: dict[str, str], expected: str
) -> None:
    assert data_collection(MMDL_BASE, catalog(source, config)) == expected


def test_an_oracle_config_without_a_database_name_is_refused() -> None:
    with pytest.raises(InputError, match=r"database\.dbname"):
        catalog("oracle", {})


# -- signals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("names", [NAMES, BRANCH])
def test_the_snapshot_signal_is_keyed_by_topic_prefix_on_the_stage_signal_topic(names: Any) -> None:
    signal = signals.execute_snapshot(names, [MMDL_BASE], None, signals.SnapshotKind.BLOCKING, "id-1")
    assert signal.topic == names.signal_topic
    assert signal.key == names.topic_prefix
    assert json.loads(signal.value()) == {
        "id": "id-1",
        "type": "execute-snapshot",
        "data": {"data-collections": ["MMDL.PLAN_BASE_WVR_TBL"], "type": "BLOCKING"},
    }
    stop = signals.stop_snapshot(names, [MMDL_BASE], "PDB", signals.SnapshotKind.INCREMENTAL, "id-2")
    assert json.loads(stop.value())["data"] == {
        "data-collections": ["PDB.MMDL.PLAN_BASE_WVR_TBL"],
        "type": "INCREMENTAL",
    }


def test_incremental_needs_signal_data_collection() -> None:
    assert "signal.data.collection" in (signals.incremental_refusal({}) or "")
    assert signals.incremental_refusal({"signal.data.collection": "DB.C##DBZ.WMS_CDC_SIGNAL"}) is None


@pytest.mark.parametrize(
    ("source", "version", "config", "refused"),
    [
        ("oracle", "3.6.1.Final", {"database.connection.adapter": "logminer"}, None),
        ("oracle", "3.4.0.Beta1", {}, None),
        ("oracle", "3.3.1.Final", {}, "added in 3.4.0"),
        ("oracle", None, {}, "cannot tell"),
        ("oracle", "3.6.1.Final", {"database.connection.adapter": "logminer_unbuffered"}, "buffered"),
        ("standin", "3.6.1.Final", {}, "Oracle"),
    ],
)
def test_drop_transaction_is_refused_where_debezium_cannot_do_it(
    source: str, version: str | None, config: dict[str, str], refused: str | None
) -> None:
    reason = signals.drop_transaction_refusal(source, version, config)
    assert (reason is None) if refused is None else (refused in (reason or ""))


def test_a_transaction_id_is_16_hex_digits_lowercased() -> None:
    assert signals.transaction_id(" 0A001B00C4050000 ") == "0a001b00c4050000"
    signal = signals.drop_transaction(NAMES, "0a001b00c4050000", "id")
    assert json.loads(signal.value())["data"] == {"transaction-id": "0a001b00c4050000"}
    for bad in ("", "xyz", "0a001b00c405000", "0a001b00c4050000; rm"):
        with pytest.raises(InputError):
            signals.transaction_id(bad)


# -- state verdicts -----------------------------------------------------------------------------------


def state(connector: str, *tasks: str) -> ConnectorState:
    return ConnectorState(connector, tasks)


@pytest.mark.parametrize(
    ("action", "current", "go", "already"),
    [
        (Action.STOP, state("RUNNING", "RUNNING"), True, False),
        (Action.STOP, state("FAILED", "FAILED"), True, False),
        (Action.STOP, state("STOPPED"), False, True),
        (Action.STOP, state("UNASSIGNED"), False, False),
        (Action.PAUSE, state("RUNNING", "RUNNING"), True, False),
        (Action.PAUSE, state("STOPPED"), False, False),
        (Action.PAUSE, state("PAUSED", "PAUSED"), False, True),
        (Action.RESUME, state("STOPPED"), True, False),
        (Action.RESUME, state("PAUSED", "PAUSED"), True, False),
        (Action.RESUME, state("RUNNING", "RUNNING"), False, True),
        (Action.RESUME, state("RUNNING", "FAILED"), False, False),
        (Action.RESTART, state("RUNNING", "FAILED"), True, False),
        (Action.RESTART, state("STOPPED"), False, False),
        (Action.RESTART, state("PAUSED", "PAUSED"), False, False),
    ],
)
def test_lifecycle_verdicts(action: Action, current: ConnectorState, go: bool, already: bool) -> None:
    verdict = lifecycle_verdict(action, current)
    assert (verdict.go, verdict.already) == (go, already)
    assert verdict.go or verdict.reason


def test_signals_need_a_running_task() -> None:
    assert streaming_verdict(Action.SNAPSHOT, state("RUNNING", "RUNNING")).go
    for other in (state("PAUSED", "PAUSED"), state("RUNNING", "FAILED"), state("STOPPED"), state("RUNNING")):
        assert not streaming_verdict(Action.SNAPSHOT, other).go


def test_recovery_is_refused_when_half_done_or_not_running() -> None:
    overrides = recovery_overrides("oracle")
    assert overrides == {"snapshot.mode": "recovery"}
    assert recovery_overrides("standin") == {"snapshot.mode": "no_data"}
    assert recovery_verdict(state("FAILED", "FAILED"), {"snapshot.mode": "initial"}, overrides).go
    assert not recovery_verdict(state("RUNNING", "RUNNING"), {"snapshot.mode": "recovery"}, overrides).go
    assert not recovery_verdict(state("STOPPED"), {"snapshot.mode": "initial"}, overrides).go


def test_only_the_history_topic_of_a_stopped_connector_may_be_recreated() -> None:
    stopped, running = state("STOPPED"), state("RUNNING", "RUNNING")
    assert history_recreation_refusal(NAMES, NAMES.schema_history_topic, stopped) is None
    assert history_recreation_refusal(NAMES, NAMES.schema_history_topic, running)
    for other in (NAMES.data_topic(MMDL_BASE), NAMES.offsets_topic, BRANCH.schema_history_topic):
        assert history_recreation_refusal(NAMES, other, stopped)


def test_the_reset_steps_name_the_file_and_the_topic() -> None:
    steps = "\n".join(reset_steps(NAMES, NAMES.connector, "saved.json"))
    assert "saved.json" in steps and NAMES.schema_history_topic in steps and "KIP-875" in steps


# -- offsets files ------------------------------------------------------------------------------------

ANSWER = {"offsets": [{"partition": {"server": "wms"}, "offset": {"scn": "123", "commit_scn": "120"}}]}


def test_positions_show_the_oracle_fields_and_the_standin_commit_time() -> None:
    [oracle] = positions.positions(ANSWER)
    assert oracle.fields == {"scn": "123", "commit_scn": "120"}
    standin = {
        "offsets": [{"partition": {"server": "x"}, "offset": {"lsn": 42, "ts_usec": 1_700_000_000_000_000}}]
    }
    [pg] = positions.positions(standin)
    assert pg.fields["lsn"] == 42 and pg.committed_at == "2023-11-14 22:13:20 UTC"
    assert positions.metrics_view({"millisecondsbehindsource": 5.0, "oldestscnageinmilliseconds": 7.0}) == {
        "lag_ms": 5.0,
        "oldest_open_transaction_age_ms": 7.0,
    }


def test_a_saved_file_restores_only_to_its_own_connector() -> None:
    content = positions.saved("main", NAMES.connector, ANSWER, by="me@host", now=1.0)
    entries = positions.read_saved(content, stage="main", connector=NAMES.connector, source="f.json")
    assert positions.alter_body(entries) == {"offsets": ANSWER["offsets"]}
    assert positions.same_positions(entries, positions.entries(ANSWER))
    with pytest.raises(InputError, match="not of"):
        positions.read_saved(
            content, stage="val", connector=names_for(Stage("val")).connector, source="f.json"
        )
    with pytest.raises(InputError, match="not an offsets file"):
        positions.read_saved({"offsets": []}, stage="main", connector=NAMES.connector, source="f.json")
    empty = positions.saved("main", NAMES.connector, {"offsets": []}, by="me", now=1.0)
    with pytest.raises(InputError, match="no offset"):
        positions.read_saved(empty, stage="main", connector=NAMES.connector, source="f.json")


# -- audit ------------------------------------------------------------------------------------------


def test_the_audit_line_is_one_json_line_with_who_what_when_result() -> None:
    record = audit_record(
        by="ana@laptop",
        command="snapshot",
        stage="main",
        connector=NAMES.connector,
        started=0.0,
        ended=1.5,
        result="refused",
        exit_code=2,
        detail={"error": "line one\nline two"},
    )
    line = audit_line(record)
    assert "\n" not in line
    assert json.loads(line) | {} == record | {"at": "1970-01-01T00:00:00.000000Z"}
    assert {"by", "command", "at", "result"} <= set(record)


# -- --remote -----------------------------------------------------------------------------------------


def inner_command(argv: list[str]) -> list[str]:
    """The words of ``--command`` after the exit-status wrapper (``sh -c WRAPPER sh ...``)."""
    words = shlex.split(argv[argv.index("--command") + 1])
    assert words[:2] == ["sh", "-c"] and words[3] == "sh", words
    return words[4:]


def test_inner_args_drop_remote_and_the_operator_machine_options() -> None:
    args = [
        "ops",
        "stop",
        "--stage",
        "main",
        "--remote",
        "--connect-url",
        "http://x:1",
        "--region=eu-west-1",
        "--yes",
    ]
    assert remote.inner_args(args) == ["ops", "stop", "--stage", "main", "--yes"]


def test_exec_argv_targets_the_agent_container_of_the_stage_cluster() -> None:
    argv = remote.exec_argv(NAMES, "arn:aws:ecs:r:1:task/c/abc", ["ops", "snapshot", "MMDL.X Y"], "eu-west-1")
    assert argv[:3] == ["aws", "ecs", "execute-command"]
    assert argv[argv.index("--cluster") + 1] == NAMES.cluster
    assert argv[argv.index("--container") + 1] == NAMES.agent_container == "connect-agent"
    assert "--interactive" in argv
    assert inner_command(argv) == ["wms-connector", "ops", "snapshot", "MMDL.X Y"]
    with pytest.raises(WmsError, match="no RUNNING task"):
        remote.choose_task([], NAMES)


@pytest.fixture
def moto_ecs(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WMS_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    ecs = boto3.client("ecs", region_name="us-east-1", endpoint_url=moto_endpoint)
    ecs.create_cluster(clusterName=NAMES.cluster)
    # moto's server answers 500 for an awsvpc task (no ENI DNS name), so the task definition here
    # is a plain one: what is tested is which cluster/service is asked and what is run in it.
    ecs.register_task_definition(
        family=NAMES.task_family,
        containerDefinitions=[
            {"name": NAMES.connect_container, "image": "connect", "memory": 2816},
            {"name": NAMES.agent_container, "image": "connect", "memory": 256},
        ],
    )
    task = ecs.run_task(
        cluster=NAMES.cluster,
        taskDefinition=NAMES.task_family,
        launchType="FARGATE",
    )["tasks"][0]["taskArn"]
    yield task
    ecs.delete_cluster(cluster=NAMES.cluster)


def test_remote_runs_the_same_command_in_the_agent_container_of_a_running_task(
    moto_ecs: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[list[str]] = []

    def fake_session(argv: list[str]) -> int:
        ran.append(argv)
        return 0

    monkeypatch.setattr(ops_common.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(ops_common, "relay_session", fake_session)
    code = main(
        [
            "ops",
            "snapshot",
            "mmdl.plan_base_wvr_tbl",
            "--stage",
            "main",
            "--follow",
            "--remote",
            "--connect-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
        ]
    )
    assert code == 0, capsys.readouterr().err
    [argv] = ran
    assert argv[argv.index("--task") + 1] == moto_ecs
    assert argv[argv.index("--container") + 1] == "connect-agent"
    assert inner_command(argv) == [
        "wms-connector",
        "ops",
        "snapshot",
        "--stage",
        "main",
        "mmdl.plan_base_wvr_tbl",
        "--follow",
    ]


def test_remote_without_the_session_manager_plugin_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ops_common.shutil, "which", lambda tool: "/usr/bin/aws" if tool == "aws" else None)
    code = main(["ops", "stop", "--stage", "main", "--remote"])
    err = capsys.readouterr().err
    assert code == 2
    assert "session-manager-plugin" in err and "aws (" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_refusal_writes_one_audit_line_to_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ops.log"
    code = main(["ops", "snapshot", "SYS.DUAL", "--stage", "main", "--audit-log", str(log)])
    assert code == 2
    [line] = log.read_text().splitlines()
    record = json.loads(line)
    assert record["result"] == "refused" and record["command"] == "snapshot" and record["by"]
    assert "audit: " in capsys.readouterr().err


# -- --remote: the exit status through ECS Exec, and the task that runs the connector -----------------


def test_the_wrapper_relays_the_commands_exit_status_and_output_for_real() -> None:
    """The --command words run as ECS Exec runs them (no shell of its own): ``sh`` does the rest."""
    argv = remote.exec_argv(NAMES, "arn:aws:ecs:r:1:task/c/abc", ["x"], None)
    words = shlex.split(argv[argv.index("--command") + 1])
    program = "import os, sys; print('prompt? ', end=''); print(os.environ['WMS_OPS_IN_TASK']); sys.exit(3)"
    words[4:] = [sys.executable, "-c", program]
    shown: list[str] = []
    assert ops_common.relay_session(words, shown.append) == 3
    assert "".join(shown) == "prompt? 1\n"


def test_a_session_that_ends_without_the_marker_has_no_status() -> None:
    shown: list[str] = []
    assert ops_common.relay_session(["sh", "-c", "echo cut short; exit 0"], shown.append) is None
    assert "".join(shown) == "cut short\n"


@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60),
    st.integers(0, 255),
    st.sampled_from(["\n", "\r\n"]),
    st.lists(st.integers(0, 120), max_size=8),
)
def test_the_relay_passes_any_output_through_whole_in_any_chunks(
    output: str, status: int, newline: str, cuts: list[int]
) -> None:
    assume(remote.EXIT_MARKER not in output)
    # Without a terminal a bare CR before the wrapper's LF reads as one CRLF (a CR is lost: cosmetic);
    # ECS Exec sessions have a terminal, where the wrapper's own line end is CRLF.
    assume(not (newline == "\n" and output.endswith("\r")))
    # what the session shows: the output, the wrapper's echo, the marker line, the plugin's goodbye
    session = f"{output}{newline}{remote.EXIT_MARKER}{status}{newline}{newline}Exiting session{newline}"
    shown: list[str] = []
    relay = remote.ExitRelay(shown.append)
    start = 0
    for cut in sorted(min(c, len(session)) for c in cuts):
        relay.feed(session[start:cut])
        start = max(start, cut)
    relay.feed(session[start:])
    assert relay.close() == status
    assert "".join(shown) == f"{output}{newline}Exiting session{newline}"


@pytest.fixture
def two_tasks(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.setenv("WMS_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr(ops_common.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    ecs = boto3.client("ecs", region_name="us-east-1", endpoint_url=moto_endpoint)
    ecs.create_cluster(clusterName=NAMES.cluster)
    for stale in ecs.list_tasks(cluster=NAMES.cluster)["taskArns"]:  # the moto server is shared
        ecs.stop_task(cluster=NAMES.cluster, task=stale)
    ecs.register_task_definition(
        family=NAMES.task_family,
        containerDefinitions=[{"name": NAMES.agent_container, "image": "connect", "memory": 256}],
    )
    tasks = ecs.run_task(
        cluster=NAMES.cluster, taskDefinition=NAMES.task_family, count=2, launchType="FARGATE"
    )["tasks"]
    yield sorted(t["taskArn"] for t in tasks)
    for task in tasks:
        ecs.stop_task(cluster=NAMES.cluster, task=task["taskArn"])
    ecs.delete_cluster(cluster=NAMES.cluster)


def sessions_answering(monkeypatch: pytest.MonkeyPatch, answers: list[int | None]) -> list[str]:
    """Fake ECS Exec sessions: each answers the next status; returns the tasks they ran in."""
    tasks: list[str] = []

    def session(argv: list[str]) -> int | None:
        tasks.append(argv[argv.index("--task") + 1])
        return answers[len(tasks) - 1]

    monkeypatch.setattr(ops_common, "relay_session", session)
    return tasks


def test_remote_tries_the_next_task_when_the_connector_runs_on_its_worker(
    two_tasks: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tried = sessions_answering(monkeypatch, [remote.OTHER_TASK, 0])
    code = main(["ops", "snapshot", "MMDL.PLAN_BASE_WVR_TBL", "--follow", "--stage", "main", "--remote"])
    assert code == 0
    assert tried == two_tasks
    assert "trying the next task" in capsys.readouterr().err


def test_remote_returns_the_commands_own_status_without_trying_further(
    two_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = sessions_answering(monkeypatch, [2, 0])
    assert main(["ops", "stop", "--stage", "main", "--remote"]) == 2
    assert tried == two_tasks[:1]


def test_remote_without_an_exit_status_fails_and_says_where_to_look(
    two_tasks: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions_answering(monkeypatch, [None])
    assert main(["ops", "stop", "--stage", "main", "--remote"]) == 1
    err = capsys.readouterr().err
    assert "without the command's exit status" in err and NAMES.exec_log_group in err


def test_other_task_from_every_task_is_returned_as_it_is(
    two_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = sessions_answering(monkeypatch, [remote.OTHER_TASK, remote.OTHER_TASK])
    assert main(["ops", "snapshot", "MMDL.PLAN_BASE_WVR_TBL", "--follow", "--stage", "main", "--remote"]) == 4
    assert tried == two_tasks
