"""The CLI's error contract, for every command the app has (enumerated from the app itself, so
commands added later are covered): bad input exits 2 with the value named and nothing changed;
arbitrary text never produces a traceback or an exit code outside {0, 1, 2}.

Sandbox: cwd, HOME and the local state are temporary directories; the local runtime's repository
root is an empty directory (so nothing can fetch jars or start a JVM); AWS clients point at a
closed loopback port (``tests/conftest.py``); name resolution is refused for anything but loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wms_connector.cli import build_command, main, walk
from wms_connector.commands import params

ROOT = build_command()
#: Every runnable command (leaves of the tree), by path.
LEAVES: dict[tuple[str, ...], Any] = {
    path: cmd for path, cmd in walk(ROOT) if path and not getattr(cmd, "commands", None)
}
CLOSED = "127.0.0.1:9"
REPO = Path(__file__).resolve().parents[2]  # the discard port: nothing listens on loopback there

#: Arguments that make a command valid apart from the option under test, and that never reach
#: a network address or start a process: --offline for AWS, a closed loopback port for brokers.
BASELINE: dict[tuple[str, ...], list[str]] = {
    ("config",): ["--stage", "main", "--offline"],
    # An explicit (placeholder) bundle: a branch stage never builds the real one here.
    ("cost",): ["--stage", "main", "--offline", "--lambda-bundle", "bundle"],
    ("synth",): ["--stage", "main", "--offline", "--lambda-bundle", "bundle"],
    ("secrets",): ["--stage", "main", "--offline"],
    ("preflight",): ["--dsn", "u@127.0.0.1:9/s", "--timeout", "5"],
    ("topics", "create"): ["--stage", "feature-x", "--bootstrap", CLOSED, "--dry-run"],
    ("topics", "delete"): ["--stage", "feature-x", "--bootstrap", CLOSED, "--dry-run"],
    ("worker-config",): [
        "--stage",
        "main",
        "--bootstrap",
        CLOSED,
        "--advertised-host",
        "127.0.0.1",
        "--plugin-path",
        "p",
    ],
    ("stage-for-branch",): ["feature/x"],
    # One cycle against closed loopback ports, never the loop that runs until SIGTERM.
    ("agent",): [
        "--stage",
        "main",
        "--once",
        "--connect-url",
        "http://127.0.0.1:9",
        "--metrics-url",
        "http://127.0.0.1:9/metrics",
        "--worker-id",
        "127.0.0.1:9",
        "--healthz-port",
        "0",
        "--state-file",
        "agent-state.json",
    ],
    ("status",): ["--stage", "main", "--connect-url", "http://127.0.0.1:9"],
    # The operations: a closed worker URL, exporter and broker (never a default localhost port).
    **{
        ("ops", *path): ["--stage", "main", "--connect-url", "http://127.0.0.1:9", *extra]
        for path, extra in (
            (("stop",), ["--bootstrap", CLOSED]),
            (("resume",), ["--bootstrap", CLOSED]),
            (("pause",), ["--bootstrap", CLOSED]),
            (("restart",), ["--bootstrap", CLOSED]),
            (("recover-history",), ["--bootstrap", CLOSED]),
            (("offsets", "restore"), ["a-file", "--bootstrap", CLOSED]),
            (("offsets", "show"), ["--metrics-url", "http://127.0.0.1:9/metrics"]),
            (("offsets", "reset"), ["--metrics-url", "http://127.0.0.1:9/metrics", "--bootstrap", CLOSED]),
            (
                ("snapshot",),
                [
                    "MMDL.PLAN_BASE_WVR_TBL",
                    "--metrics-url",
                    "http://127.0.0.1:9/metrics",
                    "--bootstrap",
                    CLOSED,
                ],
            ),
            (
                ("drop-transaction",),
                ["0a001b00c4050000", "--metrics-url", "http://127.0.0.1:9/metrics", "--bootstrap", CLOSED],
            ),
        )
    },
    ("verify",): [
        "--stage",
        "main",
        "--connect-url",
        "http://127.0.0.1:9",
        "--metrics-url",
        "http://127.0.0.1:9/metrics",
        "--bootstrap",
        CLOSED,
        "--timeout",
        "1",
    ],
}

#: Commands the arbitrary-text test never runs: a valid value would do real, slow work that is not
#: about input (``image build`` builds the image with a Docker daemon; its --bases is checked
#: before anything starts, by the table above and tests/unit/test_image_cli.py).
NOT_RUN_WITH_ARBITRARY_TEXT: frozenset[tuple[str, ...]] = frozenset({("image", "build")})


def option_names(cmd: Any) -> set[str]:
    return {opt for p in cmd.params for opt in p.opts}


def baseline(path: tuple[str, ...], cmd: Any) -> list[str]:
    """The known baseline, or for a command this file has never seen: --stage main and --offline
    when it has them (the boundary and parameter types must hold for it all the same)."""
    if path in BASELINE:
        return list(BASELINE[path])
    names = option_names(cmd)
    args = ["--stage", "main"] if "--stage" in names else []
    return args + (["--offline"] if "--offline" in names else [])


def parser_of(param: Any) -> Callable[[Any], Any] | None:
    info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
    return getattr(info, "parser", None)


def long_opt(param: Any) -> str:
    return max(param.opts, key=len)


# --- bad-input classes, per parameter type -----------------------------------------------------


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home, work, empty = tmp_path / "home", tmp_path / "work", tmp_path / "no-repo"
    for directory in (home, work, empty):
        directory.mkdir()
    (work / "a-dir").mkdir()
    (work / "a-file").write_text("x")
    (work / "bundle" / "wms_connector" / "lambdas").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WMS_LOCAL_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("WMS_REPO_ROOT", str(empty))
    monkeypatch.setenv("WMS_RUNTIME_CACHE", str(tmp_path / "cache"))
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            allowed = ipaddress.ip_address(name.strip("[]")).is_loopback
        except ValueError:
            allowed = name == "localhost"
        if not allowed:
            raise socket.gaierror(f"test sandbox: no name resolution for {name!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield tmp_path


#: Bad values for each parameter type (the parser function of the option), with the reason.
BAD_VALUES: dict[str, list[str]] = {
    "bootstrap": [
        "127.0.0.1:99999",  # port out of range (connected elsewhere before)
        "127.0.0.1:abc",  # non-numeric port (was port 0)
        "localhost",  # no port (silently became 9092)
        ":9092",  # no host (switched to TLS)
        "a:1,b:2,,c:3",  # empty entry
        "[bold]:9092",  # markup, not a host
        "",
    ],
    "host": ["", "a host", "[x]", "-bad-"],
    "http_url": [
        "notaurl",
        "http://127.0.0.1:abc",
        "http://[::1",
        "ftp://127.0.0.1",
        "http://127.0.0.1:99999",
    ],
    "port": ["99999", "-1", "0", "abc", ""],
    "port_or_zero": ["99999", "-1", "abc", ""],
    "count": ["0", "-1", "x", "1.5"],
    "not_negative": ["-1", "x"],
    "seconds": ["nan", "inf", "-1", "0", "abc", ""],
    "seconds_or_zero": ["nan", "-1", "x"],
    "duration": ["0", "-5m", "soon", "nanh", "inf", ""],
    "existing_file": ["a-dir", "", "does-not-exist.json"],
    "existing_dir": ["a-file", "", "does-not-exist"],
    "new_file": ["a-dir", "no/such/dir/f.properties", ""],
    "out_dir": ["a-file", ""],
}
BAD_STAGES = ["Main", "default", "a--b", "x-", "", "a" * 37, "[/x]"]


def _cases() -> list[Any]:
    cases = []
    for path, cmd in LEAVES.items():
        for param in cmd.params:
            if not param.opts[0].startswith("-"):
                continue
            parse = parser_of(param)
            values = BAD_VALUES.get(parse.__name__, []) if parse else []
            if param.name == "stage":
                values = BAD_STAGES
            for value in values:
                name = f"{' '.join(path)} {long_opt(param)}={value!r}"
                cases.append(pytest.param(path, long_opt(param), value, id=name))
    return cases


CASES = _cases()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize(("path", "option", "value"), CASES)
def test_bad_input_exits_2_naming_the_value_and_changing_nothing(
    sandbox: Path, capsys: pytest.CaptureFixture[str], path: tuple[str, ...], option: str, value: str
) -> None:
    cmd = LEAVES[path]
    before = _files(sandbox)
    args = [*path, *baseline(path, cmd)]
    if option == "--stage":
        # The stage is checked first of all: no other option is needed to be refused.
        args = [*path, *(["--offline"] if "--offline" in option_names(cmd) else [])]
    code = main([*args, f"{option}={value}"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in out + err
    if value:
        assert repr(value) in err or value in err
    assert _files(sandbox) == before


def test_every_command_is_covered() -> None:
    """The table reaches every command: a command without a typed option still gets --stage or
    the property test below; one with a typed option of a type without bad values fails here."""
    typed = {
        parser_of(p).__name__  # type: ignore[union-attr]
        for cmd in LEAVES.values()
        for p in cmd.params
        if parser_of(p) is not None
    }
    assert typed <= set(BAD_VALUES), typed - set(BAD_VALUES)
    assert set(params.PARSERS) == set(BAD_VALUES)
    assert len(CASES) >= 100


# --- arbitrary text ------------------------------------------------------------------------------


def _reaches_outside(parse: Callable[[Any], Any] | None, option: str, text: str) -> bool:
    """True when ``text`` is a valid value that would connect to a non-loopback address or write
    outside the sandbox (those are not what this test is about)."""
    if text.startswith("/") or ".." in text or text.startswith("~"):
        return True
    if parse is params.bootstrap:
        # Any valid list would be dialled (a loopback port may belong to someone else's broker).
        try:
            params.bootstrap(text)
        except Exception:
            return False
        return True
    return option == "--dsn" and "@" in text


OPTIONS = [
    (path, long_opt(p), parser_of(p))
    for path, cmd in LEAVES.items()
    if path not in NOT_RUN_WITH_ARBITRARY_TEXT
    for p in cmd.params
    if p.opts[0].startswith("-") and not getattr(p, "is_flag", False)
]


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.sampled_from(OPTIONS), text=st.text(max_size=40))
def test_arbitrary_text_to_any_option_never_tracebacks(
    sandbox: Path, capsys: pytest.CaptureFixture[str], choice: Any, text: str
) -> None:
    path, option, parse = choice
    assume("\x00" not in text and not _reaches_outside(parse, option, text))
    repo_before = sorted(REPO.iterdir())
    code = main([*path, *baseline(path, LEAVES[path]), f"{option}={text}"])
    out, err = capsys.readouterr()
    assert sorted(REPO.iterdir()) == repo_before  # nothing written into the checkout
    assert code in (0, 1, 2), (path, option, text, err)
    assert "Traceback" not in out + err
