"""Benchmark: synthesize all four stage kinds (main, val, production, an ephemeral branch) in one
process, with cdk-nag AwsSolutions running as a validation plugin, offline secrets.

Prints the wall-clock seconds last (goal: <= 15 s). Run with ``.venv/bin/python bench/synth.py``.
The Connect Dockerfile and the Lambda bundle are used when present; otherwise placeholders in a
temporary directory stand in (synth only fingerprints them).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

STAGES = ("main", "val", "production", "bench-branch")


def _context_dirs(root: Path) -> tuple[Path, Path]:
    from wms_connector.infra.inputs import DEFAULT_IMAGE_CONTEXT, DEFAULT_LAMBDA_BUNDLE_DIR, DOCKERFILE

    runtime, bundle = DEFAULT_IMAGE_CONTEXT, DEFAULT_LAMBDA_BUNDLE_DIR
    if not (runtime / DOCKERFILE).is_file():
        runtime = root / "image-context"
        (runtime / DOCKERFILE).parent.mkdir(parents=True)
        (runtime / DOCKERFILE).write_text("# bench placeholder\n")
    if not (bundle / "wms_connector" / "lambdas").is_dir():
        bundle = root / "lambda"
        (bundle / "wms_connector" / "lambdas").mkdir(parents=True)
    return runtime, bundle


def main() -> None:
    start = time.perf_counter()
    from wms_connector.infra.inputs import Target, load_inputs
    from wms_connector.infra.synth import synth
    from wms_connector.secrets.store import EXAMPLE_SECRETS_FILE, FileSecretsBackend
    from wms_connector.stages import Stage

    with tempfile.TemporaryDirectory(prefix="wms-bench-synth-") as tmp:
        root = Path(tmp)
        runtime, bundle = _context_dirs(root)
        backend = FileSecretsBackend(EXAMPLE_SECRETS_FILE)
        target = Target("123456789012", "us-east-1")
        inputs = [
            load_inputs(Stage(s), backend, target, image_context=runtime, lambda_bundle_dir=bundle)
            for s in STAGES
        ]
        result = synth(inputs, root / "cdk.out")
        elapsed = time.perf_counter() - start
    print(f"stacks: {len(result.templates)} ({', '.join(sorted(result.templates))})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    print(f"synth of {len(STAGES)} stages (8 stacks, cdk-nag on), one process: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
