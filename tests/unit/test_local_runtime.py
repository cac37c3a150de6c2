"""Pure parts of the local runtime and its fetch faults (Java missing/too old, Maven unreachable)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wms_connector.errors import WmsError
from wms_connector.local.broker import broker_properties, new_cluster_id
from wms_connector.local.fetch import build_manifest, fetch, manifest_problem
from wms_connector.local.java import MIN_JAVA, find_java, parse_java_major
from wms_connector.local.paths import pom_path
from wms_connector.local.pom import pinned_versions


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_292"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2-ea"', 11),
        ('openjdk version "25-ea"', 25),
        ("no version here", None),
    ],
)
def test_java_version_parsing(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def _fake_java(directory: Path, version: str) -> None:
    java = directory / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\"' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)


def test_missing_java_names_the_minimum(tmp_path: Path) -> None:
    with pytest.raises(WmsError, match=f"Java {MIN_JAVA} or newer"):
        find_java({"PATH": str(tmp_path)})


def test_old_java_is_refused(tmp_path: Path) -> None:
    _fake_java(tmp_path, "11.0.2")
    with pytest.raises(WmsError, match=r"is Java 11; Kafka 4 needs Java 17"):
        find_java({"PATH": str(tmp_path)})
    _fake_java(tmp_path, "17.0.1")
    assert find_java({"PATH": str(tmp_path)}).major == 17


def test_the_pom_pins_the_versions_debezium_36_is_built_with() -> None:
    versions = pinned_versions(pom_path().read_text())
    assert versions["kafka"] == "4.3.0"
    assert versions["debezium"].startswith("3.6.")
    assert {"ojdbc", "msk-iam-auth", "jmx-exporter"} <= set(versions)


def test_broker_is_one_kraft_node_on_loopback(tmp_path: Path) -> None:
    props = broker_properties(broker_port=1111, controller_port=2222, log_dir=tmp_path)
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:2222"
    assert props["auto.create.topics.enable"] == "false"
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_manifest_detects_change_and_damage(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    jar = tmp_path / "lib" / "a.jar"
    jar.write_bytes(b"abc")
    (tmp_path / "manifest.json").write_text(__import__("json").dumps(build_manifest(tmp_path, "h1", {})))
    assert manifest_problem(tmp_path, "h1") is None
    assert manifest_problem(tmp_path, "h2") == "runtime/pom.xml changed since the last fetch"
    jar.write_bytes(b"abd")
    assert manifest_problem(tmp_path, "h1") is None  # same size: only the deep check sees it
    assert "SHA-256" in (manifest_problem(tmp_path, "h1", deep=True) or "")
    jar.unlink()
    assert "missing" in (manifest_problem(tmp_path, "h1") or "")


def test_unreachable_maven_with_an_empty_cache_is_a_clear_error(tmp_path: Path) -> None:
    # Every repository is mirrored to a closed loopback port: Maven cannot download anything.
    settings = tmp_path / "settings.xml"
    settings.write_text(
        "<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>"
        "<url>http://127.0.0.1:9/</url></mirror></mirrors></settings>"
    )
    cache = tmp_path / "cache"
    with pytest.raises(WmsError, match="cannot reach Maven Central") as raised:
        fetch(pom_path(), cache, maven_args=["-s", str(settings)])
    assert "local fetch" in str(raised.value)
    assert not (cache / "dist").exists()
    assert os.listdir(cache) == ["m2"] or not (cache / "dist.partial").exists()
