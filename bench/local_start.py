"""Benchmark: `wms-connector local up` until both workers are in the group and REST is ready.

Warm jar cache (fetched first, outside the timing), fresh state directory per run (so every run
formats the broker storage too), two workers. Each run is `local up` as a subprocess, timed from
the command to its return (it returns only once the broker answers, every worker's /health is 200
and the broker lists every worker in the Connect group), then `local down --wipe`.

Usage: .venv/bin/python bench/local_start.py [RUNS]   (prints the median last)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).parent / "wms-connector")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    subprocess.run([CLI, "local", "fetch"], check=True, stdout=subprocess.DEVNULL)
    figures = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="wms-bench-local-") as state:
            env = {**os.environ, "WMS_LOCAL_STATE": state}
            started = time.monotonic()
            subprocess.run(
                [CLI, "local", "up", "--workers", "2", "--stage", "bench-local", "--json"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            elapsed = time.monotonic() - started
            subprocess.run([CLI, "local", "down", "--wipe"], check=True, env=env, stdout=subprocess.DEVNULL)
        figures.append(elapsed)
        print(f"run {run + 1}: {elapsed:.1f} s")
    print(f"machine: {os.cpu_count()} cores; runs: {', '.join(f'{f:.1f}' for f in figures)}")
    print(
        f"local up -> 2 workers in group, REST ready (median of {runs}): {statistics.median(figures):.1f} s"
    )


if __name__ == "__main__":
    main()
