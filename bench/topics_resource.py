"""Benchmark: the topics custom resource's broker work on the real local broker.

For fresh stages, times the handler's Create (plan + create every topic of the stage, and wait
until each is listed), then an Update on the same topics (plan only: everything is ok), then the
ephemeral Delete (refuse-if-connected check, delete, wait until gone). The Lambda's timeout is
5 minutes; these figures are the local floor (one broker, RF 1), MSK adds network round trips.

Usage: .venv/bin/python bench/topics_resource.py [RUNS]   (prints the medians last)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import ExitStack

from _common import machine, start_cluster
from wms_connector.kafka.admin import TopicAdmin, delete_stage_topics, reconcile_topics
from wms_connector.kafka.topics import topic_specs
from wms_connector.stages import KafkaAuth, Stage


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    create, update, delete = [], [], []
    with ExitStack() as stack:
        cluster = start_cluster(stack, Stage("bench-topics"), workers=1)
        admin = TopicAdmin.connect(cluster.bootstrap, KafkaAuth.PLAINTEXT)
        for run in range(runs):
            stage = Stage(f"bench-topics-{run}")
            specs = topic_specs(stage, replication_factor=1)
            started = time.monotonic()
            result = reconcile_topics(admin, specs, dry_run=False, refuse_unsafe=True)
            create.append(time.monotonic() - started)
            assert not result.failed and not result.unfixable
            started = time.monotonic()
            reconcile_topics(admin, specs, dry_run=False, refuse_unsafe=True)
            update.append(time.monotonic() - started)
            started = time.monotonic()
            assert delete_stage_topics(admin, stage, dry_run=False).ok
            delete.append(time.monotonic() - started)
            figures = f"create {create[-1]:.2f} s, update {update[-1]:.2f} s, delete {delete[-1]:.2f} s"
            print(f"run {run + 1}: {figures}")
    print(machine(), f"load average {os.getloadavg()}")
    print(
        f"topics resource, {len(specs)} topics (median of {runs}): create {statistics.median(create):.2f} s, "
        f"update {statistics.median(update):.2f} s, delete {statistics.median(delete):.2f} s"
    )


if __name__ == "__main__":
    main()
