"""The fetched jar tree is what the pinned list says, and it hangs together."""

from __future__ import annotations

import zipfile

import pytest

from wms_connector.local.fetch import FetchResult, manifest_problem, required_files

pytestmark = pytest.mark.integration


def test_every_required_file_is_there_and_matches_the_manifest(runtime_jars: FetchResult) -> None:
    root = runtime_jars.layout.root
    for name in required_files(runtime_jars.versions):
        assert (root / name).is_file(), name
    manifest = __import__("json").loads(runtime_jars.layout.manifest.read_text())
    assert manifest["versions"] == runtime_jars.versions
    assert manifest_problem(root, manifest["pom_sha256"], deep=True) is None


def test_debezium_was_built_against_the_pinned_kafka(runtime_jars: FetchResult) -> None:
    # Debezium's plugin archive carries the kafka-clients it was built with.
    oracle = runtime_jars.layout.plugins / "debezium-connector-oracle"
    bundled = sorted(p.name for p in oracle.glob("kafka-clients-*.jar"))
    assert bundled == [f"kafka-clients-{runtime_jars.versions['kafka']}.jar"]


def test_the_oracle_plugin_holds_exactly_the_pinned_driver(runtime_jars: FetchResult) -> None:
    oracle = runtime_jars.layout.plugins / "debezium-connector-oracle"
    drivers = sorted(p.name for p in oracle.glob("ojdbc*.jar"))
    assert drivers == [f"ojdbc11-{runtime_jars.versions['ojdbc']}.jar"]


def test_one_version_of_each_library_on_the_worker_classpath(runtime_jars: FetchResult) -> None:
    import re

    seen: dict[str, list[str]] = {}
    for jar in runtime_jars.layout.lib.glob("*.jar"):
        match = re.fullmatch(r"(.+?)-(\d[\w.\-]*)\.jar", jar.name)
        assert match, jar.name
        seen.setdefault(match.group(1), []).append(match.group(2))
    assert {name: v for name, v in seen.items() if len(v) > 1} == {}


def test_msk_iam_classes_named_by_the_worker_config_are_on_the_classpath(runtime_jars: FetchResult) -> None:
    from wms_connector.connect.worker_config import client_security_settings
    from wms_connector.stages import KafkaAuth

    settings = client_security_settings(KafkaAuth.IAM)
    wanted = {
        settings["sasl.client.callback.handler.class"],
        settings["sasl.jaas.config"].split()[0],
    }
    classes: set[str] = set()
    for jar in runtime_jars.layout.lib.glob("aws-msk-iam-auth-*.jar"):
        with zipfile.ZipFile(jar) as archive:
            classes |= {n.removesuffix(".class").replace("/", ".") for n in archive.namelist()}
    assert wanted <= classes
