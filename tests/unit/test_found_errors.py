"""One test per failure issue 14 found (each fails without its fix), beside the table-driven
contract in ``test_error_contract.py``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from wms_connector.cli import main
from wms_connector.connect.config_checks import check_config
from wms_connector.connect.rest import FieldError
from wms_connector.errors import WmsError
from wms_connector.local.java import find_java
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE
from wms_connector.stages import Stage, StageError, stage_for_branch

CLI = str(Path(sys.executable).with_name("wms-connector"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def secrets_file(tmp_path: Path, **overrides: Any) -> Path:
    data = json.loads(EXAMPLE_SECRETS_FILE.read_text())
    data.update({k.replace("__", "/"): v for k, v in overrides.items()})
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(data))
    return path


# --- High --------------------------------------------------------------------------------------


def test_preflight_help_shows_the_dsn_syntax_literally(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preflight", "--help")
    assert code == 0
    assert "user[/password]@host:port/service" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "--stage", "main"],
        ["config", "--stage", "main", "--json"],
        ["secrets", "--stage", "main"],
        ["preflight", "--stage", "main"],
        ["local", "run", "--source", "oracle"],
    ],
)
def test_no_aws_region_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: no AWS region") and err.count("\n") == 1


def test_a_bad_aws_endpoint_variable_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMS_AWS_ENDPOINT_URL", "notaurl")
    code, _, err = run(capsys, "secrets", "--stage", "main")
    assert code == 2
    assert "WMS_AWS_ENDPOINT_URL='notaurl'" in err


@pytest.mark.parametrize("command", ["secrets", "config", "preflight", "synth", "cost"])
@pytest.mark.parametrize(
    ("content", "said"),
    [(b"\xff\xfe{}", "not UTF-8"), (b"[" * 100_000, "nests JSON too deeply"), (b"{", "not valid JSON")],
)
def test_unreadable_secrets_files_are_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, content: bytes, said: str
) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    code, _, err = run(capsys, command, "--stage", "main", "--secrets-file", str(path))
    assert code == 2
    assert said in err and str(path) in err


def test_nested_json_inside_a_secret_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = secrets_file(tmp_path, wms__default__dbInfo="[" * 100_000)
    code, out, _ = run(capsys, "secrets", "--stage", "main", "--secrets-file", str(path), "--json")
    assert code == 2
    assert "nests JSON too deeply" in {r["name"]: r for r in json.loads(out)}["dbInfo"]["problem"]


@pytest.mark.parametrize(
    ("overrides", "secret"),
    [
        ({"wms__default__brokerString": "[/x]:9092"}, "brokerString"),
        ({"wms__default__brokerString": "[bold]:9092"}, "brokerString"),
        (
            {
                "wms__default__vpc": {
                    "id": "vpc-0123456789abcdef0",
                    "private_subnets": ["subnet-[/red]"],
                    "availability_zones": ["a"],
                }
            },
            "vpc",
        ),
    ],
)
def test_secret_values_with_markup_are_refused_not_rendered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, overrides: dict[str, Any], secret: str
) -> None:
    path = secrets_file(tmp_path, **overrides)
    code, out, err = run(capsys, "secrets", "--stage", "main", "--secrets-file", str(path))
    assert code == 2
    assert f"secrets not usable: {secret}" in err
    value = json.dumps(next(iter(overrides.values())))
    for fragment in ("[/x]", "[bold]", "subnet-[/red]"):
        if fragment in value:
            assert fragment not in out + err  # the value itself is never shown


def test_shape_errors_name_the_position_never_the_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = secrets_file(
        tmp_path,
        wms__default__brokerString="SECRETBROKERHOST",
        wms__default__vpc={
            "id": "vpc-0123456789abcdef0",
            "private_subnets": ["subnet-SECRETSUBNET"],
            "availability_zones": ["a"],
        },
    )
    code, out, err = run(capsys, "secrets", "--stage", "main", "--secrets-file", str(path), "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 2
    assert "entry 1: the port is missing" in rows["brokerString"]["problem"]
    assert "entry 1 is not a subnet id" in rows["vpc"]["problem"]
    assert "SECRET" not in out + err


def test_worker_config_output_must_be_a_file_in_an_existing_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = ["worker-config", "--stage", "main", "--bootstrap", "b:9094", "--advertised-host", "h"]
    base += ["--plugin-path", "/p"]
    code, _, err = run(capsys, *base, "--output", str(tmp_path))
    assert code == 2 and "is a directory" in err
    code, _, err = run(capsys, *base, "--output", str(tmp_path / "new" / "w.properties"))
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "new").exists()  # no directory created silently
    code, _, _ = run(capsys, *base, "--output", str(tmp_path / "w.properties"))
    assert code == 0 and "bootstrap.servers=b:9094" in (tmp_path / "w.properties").read_text()


def test_synth_out_must_not_be_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "f"
    file.write_text("x")
    code, _, err = run(capsys, "synth", "--stage", "main", "--offline", "--out", str(file))
    assert code == 2 and "is not a directory" in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc", "http://[::1", "notaurl"])
def test_connect_url_is_checked_before_any_request(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = run(capsys, "config", "--stage", "main", "--offline", "--validate", "--connect-url", url)
    assert code == 2 and repr(url) in err


# --- Medium ------------------------------------------------------------------------------------


def test_an_unreachable_broker_is_one_line_within_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code, _, err = run(capsys, "topics", "create", "--stage", "feature-x", "--bootstrap", "127.0.0.1:9")
    assert code == 1
    assert time.monotonic() - started < 10
    assert err.count("\n") == 1 and "no broker of 127.0.0.1:9 accepts a connection" in err
    assert "KafkaError{" not in err and "FAIL" not in err


def test_ctrl_c_while_a_broker_does_not_answer_exits_130_promptly() -> None:
    with socket.socket() as silent:  # accepts connections, never answers a Kafka request
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        argv = [CLI, "topics", "create", "--stage", "feature-x", "--bootstrap", f"127.0.0.1:{port}"]
        process = subprocess.Popen([*argv, "--dry-run"], stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert time.monotonic() - sent < 5
    assert "Traceback" not in err and "interrupted" in err


@pytest.mark.parametrize("password", ["1", "wms", "wms-connector"])
def test_a_short_password_does_not_flag_unrelated_settings(password: str) -> None:
    config = {
        "database.password": "${env:ORACLE_PASSWORD}",
        "tasks.max": "1",
        "topic.prefix": "wms",
        "name": "wms-connector-main-oracle",
    }
    assert [p for p in check_config(config, known_secrets=[password]) if "known secret" in p.message] == []
    leaked = check_config({**config, "database.url": f"jdbc:oracle:thin:u/{password}@h"}, [password])
    flagged = [p.key for p in leaked if "known secret" in p.message]
    # Long enough to search for: found where it really is; too short: a warning, never a false error.
    assert flagged == (["database.url"] if len(password) >= 8 else [])
    assert all(password not in p.message for p in leaked)


def test_the_standin_refusal_counts_as_the_database_connection() -> None:
    message = (
        "Error while validating connector config: Connection to 127.0.0.1:5432 refused. Check that the "
        "hostname and port are correct and that the postmaster is accepting TCP/IP connections."
    )
    assert FieldError("database.hostname", message).is_connection_error


def test_stage_default_is_reserved_and_never_derived_from_a_branch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(StageError, match="reserved"):
        Stage("default")
    assert stage_for_branch("default").name != "default"
    code, out, _ = run(capsys, "stage-for-branch", "default")
    assert code == 0 and out.strip() != "default" and Stage(out.strip()).is_ephemeral


def test_synth_with_a_secrets_file_needs_an_explicit_target(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    path = secrets_file(tmp_path)
    code, _, err = run(capsys, "synth", "--stage", "val", "--secrets-file", str(path), "--out", str(tmp_path))
    assert code == 2 and "--account/--region" in err


def test_local_logs_of_an_unknown_name_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "broker.log").write_text("x\n")
    monkeypatch.setenv("WMS_LOCAL_STATE", str(tmp_path))
    code, _, err = run(capsys, "local", "logs", "nosuch")
    assert code == 2 and "have: broker" in err


# --- Low ---------------------------------------------------------------------------------------


def test_the_topics_group_stage_reaches_its_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "topics", "--stage", "feature-x", "create", "--bootstrap", "127.0.0.1:9")
    assert code == 1 and "missing --stage" not in err and "no broker of 127.0.0.1:9" in err


def test_heap_opts_honours_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker-config", "--stage", "production", "--heap-opts", "--json")
    assert code == 0 and json.loads(out)["heap_opts"].startswith("-Xm")


def test_stage_for_branch_does_not_suggest_an_option_it_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stage-for-branch", "123")
    assert code == 2 and "pass --stage explicitly" not in err


def test_a_wrong_java_home_is_reported(tmp_path: Path) -> None:
    with pytest.raises(WmsError, match="JAVA_HOME="):
        find_java({"JAVA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})


def test_plan_lists_the_lambda_log_groups_every_stage_has(capsys: pytest.CaptureFixture[str]) -> None:
    # Since the topics resource runs for every stage (issue 13), every stage has the topics and
    # redeploy Lambdas' log groups; the former branch-only /topic-cleanup group is gone.
    for stage in ("main", "feature-x"):
        _, out, _ = run(capsys, "plan", "--stage", stage, "--json")
        groups = json.loads(out)["names"]["log_groups"]
        assert [g.rsplit("/", 1)[1] for g in groups] == ["connect", "agent", "topics", "redeploy"]


# --- the boundary itself -----------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_without_its_message_and_debug_shows_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import wms_connector.commands.foundation as foundation

    def broken(_: Any) -> Any:
        raise RuntimeError("s3cr3t-value")

    monkeypatch.setattr(foundation, "build_plan", broken)
    code = main(["plan", "--stage", "main"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1 and "unexpected RuntimeError" in err and "--debug" in err
    assert "s3cr3t-value" not in err and "Traceback" not in err
    assert main(["plan", "--stage", "main", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_ctrl_c_in_a_command_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import wms_connector.commands.foundation as foundation

    def interrupted(_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(foundation, "build_plan", interrupted)
    assert main(["plan", "--stage", "main"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_the_topics_table_keeps_every_column_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wms_connector import output

    monkeypatch.setattr(output.console, "_width", 80)
    code, out, _ = run(capsys, "topics", "--stage", "feature-x")
    # Too wide for a table at 80 columns: every column still shows, as a list (test_output_widths).
    assert code == 0 and all(f"\n{word}: " in out for word in ("role", "partitions", "RF"))
    assert "retention.ms=" in out
