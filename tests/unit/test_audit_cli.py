"""``wms-connector audit``: bad input is one line and exit 2, before anything connects."""

from __future__ import annotations

import pytest

from wms_connector.audit.run import snapshotting, tables_named, wait_passed
from wms_connector.cli import main
from wms_connector.errors import InputError
from wms_connector.naming import names_for
from wms_connector.stages import Stage

BOOTSTRAP = ["--bootstrap", "127.0.0.1:9"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "Main", *BOOTSTRAP], "invalid stage"),
        (["--stage", "main", "--source", "mysql", *BOOTSTRAP], "--source 'mysql' is not oracle or standin"),
        (["--stage", "main", "--source", "standin", *BOOTSTRAP], "needs --standin-dsn"),
        (
            ["--stage", "main", "--source", "standin", *BOOTSTRAP, "--standin-dsn", "host=h password=x"],
            "must not hold the password",
        ),
        (["--stage", "main", "--table", "WMS.NOPE", *BOOTSTRAP], "--table WMS.NOPE is not a captured table"),
        (["--stage", "main", "--wait", "-1", *BOOTSTRAP], "--wait"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "password=x" not in err


def test_tables_are_chosen_by_name_case_insensitively() -> None:
    topics = names_for(Stage("main")).data_topics
    chosen = tables_named(topics, ["wms.plan_base_wvr_tbl"])
    assert [t.qualified for t in chosen] == ["WMS.PLAN_BASE_WVR_TBL"]
    assert tables_named(topics, []) == dict(topics)
    with pytest.raises(InputError):
        tables_named(topics, ["X.Y"])


@pytest.mark.parametrize(
    ("offset", "running"),
    [
        ({"snapshot": True, "last_snapshot_record": False, "lsn": 1}, True),
        ({"snapshot": "INITIAL", "lsn": 1}, True),
        ({"snapshot": True, "last_snapshot_record": True, "lsn": 1}, False),
        ({"lsn": 5, "txId": 3, "messageType": "COMMIT"}, False),
        ({"snapshot": False, "lsn": 5}, False),
    ],
)
def test_a_snapshot_still_running_is_told_from_a_streaming_offset(
    offset: dict[str, object], running: bool
) -> None:
    assert snapshotting(offset) is running


def test_waiting_for_the_point_gives_up_with_exit_2_and_the_last_offset() -> None:
    now = [0.0]
    offsets = ({"lsn": n} for n in range(1, 100))

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(Exception, match=r"'lsn': 5\}.*within 2 s") as error:
        wait_passed(
            lambda: next(offsets), lambda o: False, 2, what="the point", clock=lambda: now[0], sleep=sleep
        )
    assert getattr(error.value, "exit_code", None) == 2
    passed = wait_passed(
        lambda: {"lsn": 9}, lambda o: o["lsn"] == 9, 2, what="p", clock=lambda: 0.0, sleep=sleep
    )
    assert passed == {"lsn": 9}


def test_a_quiet_database_passes_only_once_every_captured_change_is_behind_the_offset() -> None:
    from wms_connector.audit.standin import quiet_between

    captured = "blkref #0: rel 1663/16384/16390 fork main blk 0"
    other = "blkref #0: rel 1663/16384/99999 fork main blk 0"
    records = [
        (700, "Heap", "INSERT", captured, 100),
        (700, "Heap", "UPDATE", captured, 105),
        (700, "Transaction", "COMMIT", "", 110),
        (701, "Heap", "UPDATE", other, 120),
        (701, "Transaction", "COMMIT", "", 130),  # after, but wrote no captured table
    ]
    assert quiet_between(records, {16390}, 700, 105)  # the offset is 700's last captured change
    assert not quiet_between(records, {16390}, 700, 100)  # 700's second change still to come
    late = [*records, (702, "Heap", "DELETE", captured, 140), (702, "Transaction", "COMMIT", "", 150)]
    assert not quiet_between(late, {16390}, 700, 105)  # 702 committed after 700 and is captured
    interleaved = [(703, "Heap", "INSERT", captured, 90), *records, (703, "Transaction", "COMMIT", "", 115)]
    assert not quiet_between(interleaved, {16390}, 700, 105)  # wrote earlier, committed after 700
    running = [*records, (704, "Heap", "INSERT", captured, 140)]  # never committed by the point
    assert quiet_between(running, {16390}, 700, 105)


def test_a_differing_report_prints_its_keys_then_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from wms_connector.audit.compare import Mismatch, TableResult
    from wms_connector.audit.run import AuditReport
    from wms_connector.commands.audit import AuditDiffersError, finish

    report = AuditReport("main", "c", {"kind": "oracle-scn", "scn": 42, "time": "t"}, {})
    report.tables = [
        TableResult("WMS.T", 3, 3, 1, 1, 1, [7], ["[red]x"], [Mismatch(9, ("AMT",))]),
        TableResult("MMDL.T", 2, 2),
    ]
    with pytest.raises(AuditDiffersError, match=r"WMS\.T") as error:
        finish(
            report, as_json=False, emf=True, namespace="ns", dimensions={"Stage": "main", "Connector": "c"}
        )
    assert error.value.exit_code == 1
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert [(e["Table"], e["AuditMissing"]) for e in emf] == [("WMS.T", 1), ("MMDL.T", 0)]
    flat = "".join(c for c in out if not c.isspace() and c != "│")  # the samples column wraps
    assert "missing7" in flat and "mismatched9(AMT)" in flat and "[red]x" in flat  # never markup
    assert "verdict DIFFER" in out and "scn 42" in out
