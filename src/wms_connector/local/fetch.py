"""Fetch the pinned jars: run Maven on ``runtime/pom.xml`` into the cache, once, and verify.

Maven checks every download against the repository checksums (the POM sets
``checksumPolicy=fail``). We then record a manifest (versions, size and SHA-256 of every file)
keyed by the POM's own hash: a later fetch with the same POM only re-checks the files against it
and never calls Maven, so ``local up`` works offline once the cache is warm.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from wms_connector.errors import WmsError
from wms_connector.local.java import find_java
from wms_connector.local.paths import RuntimeLayout, require_chosen_cache
from wms_connector.local.pom import pinned_versions

MANIFEST_FORMAT: Final = 1
#: Words in Maven's output that mean it could not reach a repository.
_NETWORK_SIGNS: Final = (
    "Could not transfer",
    "UnknownHostException",
    "Unknown host",
    "Connection refused",
    "Network is unreachable",
    "connect timed out",
    "Connect to ",
    "No route to host",
)
_REQUIRED: Final = (
    "lib/kafka_2.13-{kafka}.jar",
    "lib/connect-runtime-{kafka}.jar",
    "plugins/debezium-connector-oracle/debezium-connector-oracle-{debezium}.jar",
    "plugins/debezium-connector-oracle/ojdbc11-{ojdbc}.jar",
    "plugins/debezium-connector-postgres/debezium-connector-postgres-{debezium}.jar",
    "plugins/kafka-connect-file/connect-file-{kafka}.jar",
    "lib/aws-msk-iam-auth-{msk-iam-auth}.jar",
    "agent/jmx_prometheus_javaagent-{jmx-exporter}.jar",
)


@dataclass(frozen=True)
class FetchResult:
    layout: RuntimeLayout
    versions: dict[str, str]
    downloaded: bool
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def required_files(versions: dict[str, str]) -> tuple[str, ...]:
    """The files a complete layout must hold for these pinned versions."""
    return tuple(item.format(**versions) for item in _REQUIRED)


def build_manifest(root: Path, pom_sha256: str, versions: dict[str, str]) -> dict[str, Any]:
    files = {
        str(path.relative_to(root)): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.name != "manifest.json"
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    }
    return {"format": MANIFEST_FORMAT, "pom_sha256": pom_sha256, "versions": versions, "files": files}


def manifest_problem(root: Path, pom_sha256: str, *, deep: bool = False) -> str | None:
    """Why the layout at ``root`` is not a complete fetch of this POM, or ``None`` when it is."""
    manifest_file = root / "manifest.json"
    if not manifest_file.is_file():
        return "no manifest (never fetched, or interrupted)"
    try:
        manifest = json.loads(manifest_file.read_text())
    except json.JSONDecodeError:
        return "unreadable manifest"
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("pom_sha256") != pom_sha256:
        return "runtime/pom.xml changed since the last fetch"
    for name, entry in manifest["files"].items():
        path = root / name
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return f"{name} is missing or has the wrong size"
        if deep and _sha256(path) != entry["sha256"]:
            return f"{name} does not match its recorded SHA-256"
    return None


def _maven() -> str:
    found = shutil.which("mvn")
    if found is None:
        raise WmsError(
            "Maven (`mvn`) is not installed: it fetches the pinned Kafka/Debezium jars of "
            "runtime/pom.xml; install it (e.g. `apt-get install maven`)"
        )
    return found


def fetch(
    pom: Path,
    cache: Path,
    *,
    maven_args: Sequence[str] = (),
    verify: bool = False,
    dist: str = "dist",
    required: Sequence[str] | None = None,
) -> FetchResult:
    """Make ``cache/<dist>`` hold exactly the jars of ``pom``. Idempotent; Maven runs only when needed.

    ``required`` lists the files the layout must hold (default: the runtime's, from the pinned
    versions). Another POM (the tests' JDBC sink, ``tests/sink/pom.xml``) gets its own ``dist``
    and shares the Maven repository ``cache/m2``."""
    pom, cache = pom.resolve(), cache.resolve()
    pom_bytes = pom.read_bytes()
    pom_sha256 = hashlib.sha256(pom_bytes).hexdigest()
    versions = pinned_versions(pom_bytes.decode("utf-8"))
    layout = RuntimeLayout(cache / dist)
    if manifest_problem(layout.root, pom_sha256, deep=verify) is None:
        count = len(json.loads(layout.manifest.read_text())["files"])
        return FetchResult(layout, versions, downloaded=False, files=count)

    require_chosen_cache(cache)
    java = find_java()
    maven = _maven()
    repo = cache / "m2"
    partial = cache / f"{dist}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    command = [
        maven,
        "-B",
        "--no-transfer-progress",
        "-f",
        str(pom),
        "package",
        f"-Dmaven.repo.local={repo}",
        f"-Druntime.dir={partial}",
        *maven_args,
    ]
    env = {**os.environ, "JAVA_HOME": str(java.executable.resolve().parent.parent)}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        output = result.stdout + result.stderr
        errors = [line for line in output.splitlines() if "[ERROR]" in line][:3]
        detail = " | ".join(line.replace("[ERROR]", "").strip() for line in errors) or output[-500:]
        if any(sign in output for sign in _NETWORK_SIGNS):
            raise WmsError(
                f"cannot reach Maven Central to fetch the pinned jars of {pom}, and the jar cache "
                f"{repo} does not hold them yet. Connect to the network (or a Maven mirror in "
                f"~/.m2/settings.xml) and run `wms-connector local fetch` again. Maven said: {detail}"
            )
        raise WmsError(f"`mvn package` on {pom} failed (exit {result.returncode}): {detail}")
    wanted = required_files(versions) if required is None else tuple(required)
    missing = [name for name in wanted if not (partial / name).is_file()]
    if missing:
        raise WmsError(f"Maven finished but the layout lacks {', '.join(missing)}; check {pom}")
    manifest = build_manifest(partial, pom_sha256, versions)
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(layout.root, ignore_errors=True)
    partial.rename(layout.root)
    return FetchResult(layout, versions, downloaded=True, files=len(manifest["files"]))
