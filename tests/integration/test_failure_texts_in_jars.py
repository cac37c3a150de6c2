"""The failure texts of tests/fixtures/oracle/failure_texts.json are in the pinned jars, and the
pinned Oracle JDBC driver renders them as recorded (a JVM reads its message bundles, builds its own
ORA-01017 and ORA-12514 exceptions, and connects to a closed loopback port for a real ORA-12541)."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any, Final

import pytest

from tests.integration.oracle_metrics.driver import HERE, ORACLE_PLUGIN
from wms_connector.agent.policy import classify
from wms_connector.connect.rest import is_unreachable_message
from wms_connector.local.fetch import FetchResult
from wms_connector.local.java import find_java
from wms_connector.local.procs import free_port

FIXTURE: Final = Path(__file__).resolve().parents[1] / "fixtures" / "oracle" / "failure_texts.json"
TEXTS: Final[dict[str, Any]] = json.loads(FIXTURE.read_text())
BY_ID: Final = {t["id"]: t for t in TEXTS["texts"]}
IN_JARS: Final = [t for t in TEXTS["texts"] if t["jar"]]


def _plugin(runtime_jars: FetchResult) -> Path:
    return runtime_jars.layout.plugins / ORACLE_PLUGIN


@pytest.mark.parametrize("text", IN_JARS, ids=[t["id"] for t in IN_JARS])
def test_each_fragment_is_a_literal_of_the_pinned_jar(
    runtime_jars: FetchResult, text: dict[str, Any]
) -> None:
    jar = _plugin(runtime_jars) / text["jar"].format(**TEXTS["versions"])
    with zipfile.ZipFile(jar) as archive:
        classes = b"".join(archive.read(c) for c in (text["class"], *text.get("extra_classes", ())))
    for fragment in text["fragments"]:
        assert fragment.encode() in classes, f"{fragment!r} is not in {jar.name}: re-read {text['source']}"


@pytest.fixture(scope="module")
def driver_says(runtime_jars: FetchResult) -> dict[str, str]:
    closed = free_port()  # nothing listens there: connection refused at once
    requests = [
        *(["bundle", t["bundle"], t["key"]] for t in IN_JARS if "bundle" in t),
        ["raise", "1017"],
        ["net", "12514", "WMSCDB", "host db.example.internal port 1521"],
        ["connect", "127.0.0.1", str(closed), "WMSCDB"],
    ]
    done = subprocess.run(
        [
            str(find_java().executable),
            "-cp",
            str(_plugin(runtime_jars) / "*"),
            str(HERE / "OracleDriverTexts.java"),
            *(word for request in requests for word in request),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    said: dict[str, str] = {}
    for line in done.stdout.splitlines():
        kind, rest = line.split(" ", 1)
        if kind == "bundle":
            bundle, key, text = rest.split(" ", 2)
            said[f"bundle {bundle} {key}"] = text
        elif kind in {"raise", "net"}:
            code, text = rest.split(" ", 1)
            said[f"{kind} {code}"] = text.replace("\\n", "\n")
        else:
            said[kind] = rest.replace("\\n", "\n")
    return said


def test_the_driver_bundles_hold_the_recorded_templates(driver_says: dict[str, str]) -> None:
    for text in IN_JARS:
        if "bundle" in text:
            assert driver_says[f"bundle {text['bundle']} {text['key']}"] == text["fragments"][0], text["id"]


def test_the_driver_renders_ora_01017_and_ora_12514_as_recorded(driver_says: dict[str, str]) -> None:
    assert driver_says["raise 1017"] == BY_ID["ora-01017-driver"]["example"]
    assert driver_says["net 12514"] == BY_ID["ora-12514"]["example"]


def test_a_real_refused_connection_is_ora_12541_as_recorded(driver_says: dict[str, str]) -> None:
    message = driver_says["connect"]
    recorded = BY_ID["ora-12541"]["example"]
    # The recorded example with its host, port and connection id made variable.
    shape = (
        re.escape(recorded)
        .replace(re.escape("db.example.internal"), r"\S+")
        .replace("1521", r"\d+")
        .replace(re.escape("dXjH5C0FQBS1YgzHMC5Png=="), r"[A-Za-z0-9+/=]+")
    )
    assert re.fullmatch(shape, message), message
    assert is_unreachable_message(message)
    assert classify(message) is None
