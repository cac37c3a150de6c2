"""How fast the preflight reaches a verdict, and that its deadlines hold.

1. A full run (16 checks) over the documented answer shapes of a ready CDB
   (tests/fixtures/oracle/preflight_doc_shapes): the preflight's own cost, without
   network round trips (against a real database add one round trip per statement; the count is printed).
2. A refused connection (real python-oracledb thin driver, closed loopback port).
3. A listener that accepts and never answers, with ``--timeout 2``: the verdict must come at ~2 s.

Usage: ``.venv/bin/python bench/preflight_bench.py [--runs 200]``. Prints the figures last.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.oracle_doc_shapes import DocShapes

from wms_connector.preflight.database import ConnectSpec
from wms_connector.preflight.runner import preflight
from wms_connector.preflight.target import expectations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    expect = expectations("C##WMS_CDC", "WMSPDB", stage=None)
    shapes = DocShapes("cdb_ready")
    spec = ConnectSpec("C##WMS_CDC", "bench-not-a-password", "127.0.0.1", 1521, "WMSCDB")

    durations, statements = [], 0
    for _ in range(args.runs):
        connection = shapes.connection(expect)
        start = time.perf_counter()
        report = preflight(spec, expect, timeout_s=30, connector=lambda _s, _t, c=connection: c)
        durations.append(time.perf_counter() - start)
        assert report.ok
        statements = len(connection.executed)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    start = time.perf_counter()
    refused = preflight(ConnectSpec("u", "p", "127.0.0.1", closed, "X"), expect, timeout_s=10)
    refused_s = time.perf_counter() - start
    assert not refused.ok

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    start = time.perf_counter()
    silent = preflight(ConnectSpec("u", "p", "127.0.0.1", server.getsockname()[1], "X"), expect, timeout_s=2)
    silent_s = time.perf_counter() - start
    server.close()
    assert "no answer" in silent.results[0].detail

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"statements per run (CDB): {statements}")
    print(
        f"full run over documented answer shapes: p50 {statistics.median(durations) * 1000:.1f} ms, "
        f"max {max(durations) * 1000:.1f} ms over {args.runs} runs; "
        f"refused connection verdict: {refused_s * 1000:.1f} ms; "
        f"silent listener verdict with a 2 s deadline: {silent_s:.2f} s"
    )


if __name__ == "__main__":
    main()
