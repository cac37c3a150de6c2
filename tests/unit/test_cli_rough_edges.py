"""What happens around a command (issue 25): signals, the version, and inputs that used to be
unclear, each refused in one line with exit 2 before anything changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wms_connector import interrupts
from wms_connector.cli import main
from wms_connector.local import runs
from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE

CLI = str(Path(sys.executable).with_name("wms-connector"))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out == f"wms-connector {version('wms-connector')}\n"


# -- signals: real signals to a real CLI process group ---------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_every_interrupting_signal_ends_a_command_as_ctrl_c_does(sig: signal.Signals, tmp_path: Path) -> None:
    """`local logs --follow` blocks until interrupted: each signal, sent to its whole process
    group, ends it through the same clean path (exit 130, one line naming the signal)."""
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True)
    (logs / "broker.log").write_text("a line\n")
    process = subprocess.Popen(
        [CLI, "local", "logs", "--follow"],
        env={**os.environ, "WMS_LOCAL_STATE": str(tmp_path / "state")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "broker | a line\n"  # it runs and follows
        os.killpg(process.pid, sig)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert err == f"interrupted ({sig.name})\n"


def test_a_second_signal_during_clean_up_does_not_cut_it_short() -> None:
    cleaned = []
    with pytest.raises(interrupts.Interrupted), interrupts.handling():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
        finally:
            os.kill(os.getpid(), signal.SIGHUP)  # while cleaning up: reported and ignored
            time.sleep(0.05)
            cleaned.append(True)
    assert cleaned == [True]


def test_the_watch_reports_the_first_death_in_one_line() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ticks = runs.start_ticks(sleeper.pid)
    assert ticks is not None
    woken = []
    item = runs.Watched("broker", sleeper.pid, "/x/broker.log", lambda: runs.same_process(sleeper.pid, ticks))
    watch = runs.Watch([item], poll_s=0.05, on_death=lambda: woken.append(True)).start()
    try:
        time.sleep(0.2)
        assert watch.failure is None and not woken
        sleeper.kill()
        sleeper.wait()
        deadline = time.monotonic() + 10
        while not woken and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watch.stop()
        sleeper.kill()
    assert woken == [True]
    assert watch.failure == f"the broker (pid {sleeper.pid}) died; its log: /x/broker.log"


def test_a_held_state_directory_is_refused_and_released_when_the_holder_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from wms_connector.local import runs\n"
            "with runs.claim(Path(sys.argv[1]), 'local run'):\n    print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(runs.ClusterBusyError, match=rf"local run` \(pid {holder.pid}, since"):
            runs.refuse_if_held(tmp_path)
        with (
            pytest.raises(runs.ClusterBusyError, match="already uses the local cluster"),
            runs.claim(tmp_path, "local run"),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    runs.refuse_if_held(tmp_path)  # the kernel released the lock with its holder


# -- inputs that were unclear --------------------------------------------------------------------


def _secrets(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "secrets.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_key_given_twice_in_a_secrets_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = EXAMPLE_SECRETS_FILE.read_text().rstrip().rstrip("}")
    text = body + ',\n  "wms/default/brokerString": "other:9094"\n}\n'
    code, _, err = _run(capsys, "secrets", "--stage", "main", "--secrets-file", str(_secrets(tmp_path, text)))
    assert code == 2
    assert "names 'wms/default/brokerString' twice" in err and err.count("\n") == 1


def test_a_duplicate_field_inside_a_secret_is_refused_without_its_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '{"wms/default/dbInfo": {"password": "s3cr3t-1", "password": "s3cr3t-2"}}'
    code, out, err = _run(
        capsys, "secrets", "--stage", "main", "--secrets-file", str(_secrets(tmp_path, text))
    )
    assert code == 2 and "'password' twice" in err and "s3cr3t" not in out + err


def test_a_utf8_bom_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _secrets(tmp_path, b"\xef\xbb\xbf" + EXAMPLE_SECRETS_FILE.read_bytes())
    code, _, err = _run(capsys, "secrets", "--stage", "main", "--secrets-file", str(path))
    assert code == 2 and "byte order mark (BOM)" in err and "not valid JSON" not in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:9092", "SSL://b-1.example.com:9094"])
def test_a_url_as_bootstrap_is_told_about_the_scheme(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "topics", "create", "--stage", "feature-x", "--bootstrap", url)
    assert code == 2
    assert "is a URL scheme" in err and url.split("://")[1] in err and "IPv6" not in err


def test_a_mistyped_runtime_cache_is_refused_before_any_download(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "cache" / "runtim"
    monkeypatch.setenv("WMS_RUNTIME_CACHE", str(typo))
    code, _, err = _run(capsys, "local", "fetch")
    assert code == 2
    assert f"WMS_RUNTIME_CACHE={typo} does not exist" in err
    assert not typo.exists() and not typo.parent.exists()


def test_cost_refuses_a_region_it_has_no_prices_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("aws_cdk")
    from wms_connector.infra import bundle

    def too_late(*_: object) -> None:
        raise AssertionError("the Lambda bundle was built before the region was refused")

    monkeypatch.setattr(bundle, "ensure_bundle", too_late)
    code, _, err = _run(capsys, "cost", "--stage", "main", "--offline", "--region", "eu-west-1")
    assert code == 2
    assert "list prices for us-east-1 only" in err and "eu-west-1" in err


@pytest.mark.parametrize("out_dir", ["/proc/wms-synth-out", "/proc/self/wms-synth-out"])
def test_an_unwritable_synth_out_is_refused_at_once(out_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("aws_cdk")
    code, _, err = _run(capsys, "synth", "--stage", "main", "--offline", "--out", out_dir)
    assert code == 2 and f"--out '{out_dir}' cannot be written" in err and "bug" not in err


def test_status_json_has_no_error_field_on_stdout_when_nothing_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        capsys, "status", "--stage", "main", "--connect-url", "http://127.0.0.1:9", "--json"
    )
    assert code == 1 and json.loads(out)["verdict"] == "worker-unreachable"
    assert err.startswith("error: Kafka Connect at http://127.0.0.1:9 does not answer")


def test_a_run_watches_its_broker_every_worker_and_its_stand_in(tmp_path: Path) -> None:
    """What `local run` watches, built from its real records: tagged processes for the broker and
    workers (as the cluster spawns them) and the stand-in by pid and start time."""
    from wms_connector.commands.local_run import watched
    from wms_connector.local import procs
    from wms_connector.local.state import ClusterState, ProcessEntry, WorkerEntry

    tag = "test-watch-tag"
    spawned = [
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", procs.tag_arg(tag)])
        for _ in range(3)
    ]
    try:
        broker, worker, standin = spawned
        state = ClusterState(
            tag=tag,
            stage="local",
            cluster_id="x",
            broker=ProcessEntry(name="broker", pid=broker.pid, port=1, log="/l/broker.log", config="c"),
            controller_port=2,
            workers=(
                WorkerEntry(
                    name="worker-0",
                    pid=worker.pid,
                    port=3,
                    log="/l/worker-0.log",
                    config="c",
                    index=0,
                    metrics_port=4,
                ),
            ),
            started_at=0.0,
        )
        record = runs.record_standin(tmp_path, standin.pid, tmp_path / "pgdata", tmp_path / "postgres.log")
        watch = runs.Watch(watched(state, record))
        assert [item.name for item in watch.items] == ["broker", "worker-0", "stand-in PostgreSQL"]
        assert watch.check() is None
        standin.kill()
        standin.wait()
        assert (
            watch.check()
            == f"the stand-in PostgreSQL (pid {standin.pid}) died; its log: {tmp_path / 'postgres.log'}"
        )
        worker.kill()
        worker.wait()
        assert watch.check() == f"the worker-0 (pid {worker.pid}) died; its log: /l/worker-0.log"
    finally:
        for process in spawned:
            process.kill()
            process.wait()
