"""How long the day-2 procedures take on the real local cluster (STAND-IN source), one line each.

Starts its own local cluster (broker + 2 Connect workers), the STAND-IN PostgreSQL and the
stand-in connector, seeds a table, then runs the real ``wms-connector ops`` commands in the order
an operator would (each leaves the connector RUNNING for the next), ``--yes --json``, timing each
from the command's start to its exit:

stop, resume, pause + resume, restart, snapshot of one table with ``--follow`` (until the
snapshot is seen completing), offsets reset ``--to-snapshot`` (until the new snapshot shows),
offsets restore of the saved file, recover-history.

Usage::

    /work/bin/cluster-slot .venv/bin/python bench/operations.py [--rows N]

Prints the machine and load first, one line per procedure (with the load when it ran) last.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import load, machine, start_cluster, start_standin
from wms_connector.cli import main as main_cli
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV, PostgresStandIn
from wms_connector.connect.rest import BackOff, HttpConnectApi
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.pipeline import ensure_local_topics, register_fresh, wait_running
from wms_connector.local.workload import Change, Op, apply, waiver_row
from wms_connector.naming import CAPTURED_TABLES
from wms_connector.stages import Stage

STAGE = Stage("bench-operations")
TABLE = CAPTURED_TABLES[0]


def ops(cluster: LocalCluster, log: Path, *args: str) -> tuple[int, dict[str, Any], float]:
    """``wms-connector ops ARGS`` against the cluster: (exit code, its --json answer, seconds)."""
    common = ["--stage", STAGE.name, "--source", "standin", "--connect-url", cluster.rest_urls[0]]
    common += ["--json", "--audit-log", str(log)]
    lifecycle = args[0] in ("stop", "resume", "pause", "restart")
    if not lifecycle and args[:2] != ("offsets", "show"):
        common += ["--bootstrap", cluster.bootstrap]
    if args[0] == "snapshot" or args[:2] == ("offsets", "reset"):
        common += [a for url in cluster.metrics_urls for a in ("--metrics-url", url)]
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main_cli(["ops", *args, *common])
    elapsed = time.monotonic() - started
    text = out.getvalue().strip()
    return code, (json.loads(text) if text else {}), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows in the snapshotted table")
    args = parser.parse_args()
    os.environ.setdefault(STANDIN_PASSWORD_ENV, secrets.token_urlsafe(16))
    print(machine())
    print(f"start: {load()}")
    lines: list[str] = []
    with ExitStack() as stack:
        standin = start_standin(stack)
        cluster = start_cluster(stack, STAGE, 2)
        api = HttpConnectApi(cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=12))
        stack.callback(api.close)
        ensure_local_topics(cluster.bootstrap, STAGE)
        with standin.connect() as conn:
            for key in range(1, args.rows + 1):
                apply(conn, Change(TABLE, Op.CREATE, key, waiver_row(TABLE, key)))
        source = PostgresStandIn(standin.host, standin.port, standin.dbname, standin.user)
        name = register_fresh(api, STAGE, source, cluster.bootstrap)
        wait_running(api, name)
        work = Path(tempfile.mkdtemp(prefix="wms-bench-ops-"))
        log = work / "operations.log"
        saved = work / "offsets.json"
        steps: list[tuple[str, tuple[str, ...]]] = [
            ("stop", ("stop",)),
            ("resume", ("resume",)),
            ("pause", ("pause",)),
            ("resume after pause", ("resume",)),
            ("restart", ("restart",)),
            (
                f"snapshot of {TABLE.qualified} ({args.rows} rows) --follow",
                ("snapshot", TABLE.qualified, "--follow"),
            ),
            (
                "offsets reset --to-snapshot",
                ("offsets", "reset", "--to-snapshot", "--save-to", str(saved), "--yes"),
            ),
            ("offsets restore", ("offsets", "restore", str(saved), "--yes")),
            ("recover-history", ("recover-history", "--yes")),
        ]
        for label, step in steps:
            code, answer, elapsed = ops(cluster, log, *step)
            if code != 0:
                print(f"error: {label} exited {code}: {answer}", file=sys.stderr)
                return 1
            lines.append(f"{label}: {elapsed:.1f} s ({load()})")
            if step[0] not in ("stop", "pause"):  # the next step resumes those
                wait_running(api, name)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
