"""Benchmark: the Connect image: build from no cache, warm rebuild, size, `docker run` to REST ready.

- cold: `docker build --no-cache` of this checkout (bases present; the Maven download of every
  jar and the pip install included). With --cold-bases the local Debian bases are first removed
  from the cache and the engine, so their mmdebstrap build is timed too (as on a fresh machine).
- warm: a rebuild after one source file changed (a copy of the context with a touched module):
  only the Python package layer and what follows run again.
- size: the image's uncompressed size as the engine reports it.
- ready: `docker run` (host network, against a local broker) until GET /health is 200; median.

Usage: .venv/bin/python bench/image.py [RUNS] [--cold-bases]   (prints the ready median last)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _common import machine, start_cluster
from wms_connector.image.bases import RECIPES
from wms_connector.image.build import bases_cache_dir, build_image, context_inputs
from wms_connector.image.engine import Engine, docker_state_dir, ensure_engine
from wms_connector.local.cluster import worker_healthy
from wms_connector.local.paths import repo_root
from wms_connector.local.procs import free_port
from wms_connector.stages import Stage

STAGE = Stage("bench-image")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f}"


def _drop_local_bases(engine: Engine) -> None:
    for recipe in RECIPES:
        for tarball in bases_cache_dir().glob(f"{recipe.name}-*.tar"):
            tarball.unlink()
        listed = engine.run(["image", "ls", "--quiet", f"wms-local-base/{recipe.name}"]).stdout.split()
        if listed:
            engine.run(["image", "rm", "--force", *listed], check=False)


def _copy_context(root: Path, target: Path) -> Path:
    for path in context_inputs(root):
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, target / path)
    return target


def _run_to_ready(engine: Engine, tag: str, bootstrap: str) -> float:
    port = free_port()
    name = f"wms-bench-image-{port}"
    env = {
        "WMS_STAGE": STAGE.name,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "WMS_ADVERTISED_HOST": "127.0.0.1",
        "WMS_LISTEN_HOST": "127.0.0.1",
        "WMS_REST_PORT": str(port),
        "WMS_KAFKA_AUTH": "plaintext",
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        "WMS_TOPIC_REPLICATION_FACTOR": "1",
        "JMX_EXPORTER_PORT": f"127.0.0.1:{free_port()}",
    }
    argv = ["run", "--detach", "--rm", "--name", name, "--network", "host"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    started = time.monotonic()
    engine.run([*argv, tag])
    try:
        while not worker_healthy(f"http://127.0.0.1:{port}"):
            if time.monotonic() - started > 300:
                raise SystemExit("the container's worker was not ready in 300 s")
            time.sleep(0.2)
        return time.monotonic() - started
    finally:
        engine.run(["stop", "--time", "20", name], check=False)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(args[0]) if args else 3
    root = repo_root()
    print(machine())
    with ExitStack() as stack:
        engine = ensure_engine(docker_state_dir(root))
        stack.callback(engine.stop)
        if "--cold-bases" in sys.argv:
            _drop_local_bases(engine)
        print(f"before the cold build: {_load()}")
        cold = build_image(engine, root, no_cache=True, say=print)
        print(
            f"cold build (--no-cache{', bases too' if '--cold-bases' in sys.argv else ''}): "
            f"{cold.seconds:.1f} s; {_load()}"
        )
        with tempfile.TemporaryDirectory(prefix="wms-bench-image-") as tmp:
            context = _copy_context(root, Path(tmp))
            module = context / "src" / "wms_connector" / "__init__.py"
            module.write_text(module.read_text() + "\n# bench: a changed source file\n")
            warm = build_image(engine, context, say=print)
        print(f"warm rebuild after a source change: {warm.seconds:.1f} s; {_load()}")
        engine.run(["image", "rm", warm.tag], check=False)
        print(
            f"image {cold.tag}: {cold.size_bytes / 1e6:.0f} MB{' (local bases)' if cold.local_bases else ''}"
        )
        cluster = start_cluster(stack, STAGE, 1)
        figures = [_run_to_ready(engine, cold.tag, cluster.bootstrap) for _ in range(runs)]
        print("docker run to REST ready: " + ", ".join(f"{f:.1f}" for f in figures) + f" s; {_load()}")
        print(f"docker run to REST ready, median of {runs}: {statistics.median(figures):.1f} s")


if __name__ == "__main__":
    main()
