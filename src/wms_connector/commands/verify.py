"""``verify``: exit 0 only when the stage really works (the verdict is ``wms_connector.verify``).

This is the I/O shell: it reads the Connect REST status, each worker's JMX exporter page, the
broker's topic metadata and the end offsets of the heartbeat and data topics, and asks the pure
verdict, again every :data:`POLL_S` seconds until every check passes or the timeout runs out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import httpx
import typer
from rich.table import Table
from rich.text import Text

from wms_connector.aws import default_region
from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    KafkaAuthOption,
    KafkaRegionOption,
    MetricsUrlsOption,
    SecretsFileOption,
    StageBootstrapOption,
    StageOption,
    WorkerUrlOption,
    parse_stage,
)
from wms_connector.commands.status import local_dir, running_local
from wms_connector.connect.exposition import ExpositionError, parse
from wms_connector.connect.rest import BackOff, ConnectRestError, HttpConnectApi
from wms_connector.connect.rest_auth import credential_from_env
from wms_connector.errors import InputError, WmsError
from wms_connector.kafka.admin import TopicAdmin
from wms_connector.kafka.client import default_auth
from wms_connector.kafka.topics import TopicRole
from wms_connector.local.broker import replication_for
from wms_connector.local.cluster import LOCAL_SIZING
from wms_connector.naming import names_for
from wms_connector.output import console, emit, err_console, markup, show_table, styled
from wms_connector.secrets.shapes import BROKER_STRING, DB_INFO
from wms_connector.secrets.store import backend_for, resolve
from wms_connector.stages import Stage, settings_for
from wms_connector.verify import (
    DEFAULT_SNAPSHOT_TIMEOUT_S,
    Check,
    Expectation,
    MetricsPage,
    Observation,
    checks,
    default_timeout_s,
    expectation_for,
    problems,
    snapshot_progress,
)

POLL_S: Final = 2.0
#: What ECS Exec port forwarding gives with ``localPortNumber=8083`` (docs/operations.md).
DEFAULT_CONNECT_URL: Final = "http://127.0.0.1:8083"
#: The JMX exporter's port in the image (runtime/entrypoint.sh ``JMX_EXPORTER_PORT``).
EXPORTER_PORT: Final = 9404


def default_metrics_url(connect_url: str) -> str:
    """The exporter beside the worker of ``connect_url``: same host, port 9404."""
    host = urlsplit(connect_url).hostname or "127.0.0.1"
    return f"http://{host}:{EXPORTER_PORT}/metrics"


def observe(
    expect: Expectation, api: HttpConnectApi, metrics_urls: Sequence[str], admin: TopicAdmin | None
) -> Observation:
    """One look at the stage; every failure to read becomes part of the observation, never raised."""
    status: dict[str, Any] | None = None
    connect_error: str | None = None
    try:
        status = api.status(expect.connector)
    except ConnectRestError as error:
        if error.status != 404:
            connect_error = str(error)
    except WmsError as error:
        connect_error = str(error)
    pages = []
    for url in metrics_urls:
        try:
            response = httpx.get(url, timeout=10)
            response.raise_for_status()
            pages.append(MetricsPage(url, parse(response.text)))
        except (httpx.HTTPError, ExpositionError) as error:
            pages.append(MetricsPage(url, error=f"{type(error).__name__}: {error}"))
    topics = None
    offsets: dict[str, int] = {}
    kafka_error = None
    if admin is not None:
        try:
            topics = admin.describe(spec.name for spec in expect.specs)
            offsets = admin.end_offsets([expect.heartbeat_topic, *expect.data_topics])
        except WmsError as error:
            kafka_error = str(error)
    config: dict[str, str] | None = None
    config_error: str | None = None
    if expect.db is not None:  # compared with dbInfo: the connector's config too (404: not registered)
        try:
            config = api.get_config(expect.connector)
        except ConnectRestError as error:
            if error.status != 404:
                config_error = str(error)
        except WmsError as error:
            config_error = str(error)
    return Observation(
        status,
        connect_error,
        tuple(pages),
        topics,
        offsets,
        kafka_error,
        config=config,
        config_error=config_error,
    )


def run_verify(
    expect: Expectation,
    api: HttpConnectApi,
    metrics_urls: Sequence[str],
    admin: TopicAdmin | None,
    timeout_s: float,
    *,
    snapshot_timeout_s: float = DEFAULT_SNAPSHOT_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = lambda _line: None,
    look: Callable[[], Observation] | None = None,
) -> tuple[list[Check], float]:
    """Observe until every check passes or the bound runs out; the last checks and the time taken.

    The bound is ``timeout_s``; while an initial snapshot runs it is ``snapshot_timeout_s`` from the
    start, and ``timeout_s`` counts again from the snapshot's end. ``say`` gets the snapshot's
    progress when it changes."""
    start = clock()
    baseline = dict(admin.end_offsets([expect.heartbeat_topic, *expect.data_topics])) if admin else {}
    deadline = start + timeout_s
    shown: str | None = None
    while True:
        seen = look() if look is not None else observe(expect, api, metrics_urls, admin)
        results = checks(expect, seen, baseline)
        now = clock()
        if all(c.ok for c in results):
            return results, now - start
        snapshot = snapshot_progress(expect, seen)
        if snapshot is not None:
            if now - start >= snapshot_timeout_s:
                return results, now - start
            deadline = max(deadline, now + timeout_s)
            if snapshot != shown:
                say(f"initial snapshot: {snapshot}")
                shown = snapshot
            bound = start + snapshot_timeout_s
        else:
            bound = deadline
        if now >= bound:
            return results, now - start
        sleep(min(POLL_S, max(0.0, bound - now)))


def _render(data: dict[str, Any]) -> None:
    table = Table(title=f"verify {data['stage']} ({data['connector']})", show_header=True)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for row in data["checks"]:
        result = styled("ok", "green") if row["ok"] else styled("FAIL", "red")
        table.add_row(row["check"], result, row["detail"])
    show_table(table)
    verdict = "[green]verified[/]" if data["ok"] else "[red]NOT verified[/]"
    console.print(markup(f"{verdict} after {{}} s", f"{data['elapsed_s']:.0f}"))


def verify_command(
    *,
    stage: StageOption,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            parser=params.seconds,
            help="seconds to wait for health (default: 3 heartbeats, >= 60)",
        ),
    ] = None,
    connect_url: WorkerUrlOption = None,
    metrics_url: MetricsUrlsOption = None,
    bootstrap: StageBootstrapOption = None,
    auth: KafkaAuthOption = None,
    region: KafkaRegionOption = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="oracle (the product) or standin (the local stand-in; default on a local cluster)",
        ),
    ] = None,
    local: Annotated[
        bool,
        typer.Option("--local", help="expect the local runtime's sizing (RF 1, its smaller internal topics)"),
    ] = False,
    snapshot_timeout: Annotated[
        float,
        typer.Option(
            "--snapshot-timeout",
            parser=params.seconds,
            help="seconds to wait for a running initial snapshot (it counts as progress)",
        ),
    ] = DEFAULT_SNAPSHOT_TIMEOUT_S,
    secrets_file: SecretsFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Exit 0 only when the connector and its task RUN, Debezium is connected, the topics are right
    and the heartbeat (or a data) topic advances; otherwise 1, with one line per problem.

    With the Oracle source on a deployed stage (or with --secrets-file) it also compares the connector's
    database.* settings with the current dbInfo: a difference is drift (a dbInfo edit that no
    deploy has applied), named with both values and the fix."""
    parsed: Stage = parse_stage(stage)
    if source not in (None, "oracle", "standin"):
        raise InputError(f"--source {source!r} is not oracle or standin")
    running = running_local() if connect_url is None else None
    if running is not None:
        # No URL given and a local cluster runs here: verify it (its workers, broker, stand-in).
        err_console.print(
            f"the local cluster of {local_dir()} (stage {running.stage}): {running.rest_urls[0]}",
            soft_wrap=True,
        )
        connect_url = running.rest_urls[0]
        metrics_url = metrics_url or running.metrics_urls
        bootstrap = bootstrap or running.bootstrap
        source = source or "standin"
        local = True
    connect_url = connect_url or DEFAULT_CONNECT_URL
    source = source or "oracle"
    if not bootstrap:
        # Not a secret (a host list), but kept beside the others: wms/S/brokerString, else the default.
        backend = backend_for(secrets_file, False, default_region(region))
        bootstrap = str(resolve(parsed, BROKER_STRING, backend).value)
    db = None
    if secrets_file is not None or (source == "oracle" and not local):
        # dbInfo's non-secret fields only (the password is in dbPassword, which verify never reads).
        backend = backend_for(secrets_file, False, default_region(region))
        db = resolve(parsed, DB_INFO, backend).value.target
    names = names_for(parsed)
    connector = names.connector if source == "oracle" else names.standin_connector
    chosen_auth = auth if auth is not None else default_auth(settings_for(parsed).kafka_auth, bootstrap)
    admin = TopicAdmin.connect(bootstrap, chosen_auth, region=default_region(region))
    expect = replace(
        expectation_for(
            parsed,
            connector,
            replication_factor=_local_replication(admin),
            partitions={
                TopicRole.CONNECT_OFFSETS: LOCAL_SIZING.offsets_partitions,
                TopicRole.CONNECT_STATUS: LOCAL_SIZING.status_partitions,
            },
        )
        if local
        else expectation_for(parsed, connector),
        db=db,
    )
    timeout_s = timeout if timeout is not None else default_timeout_s(settings_for(parsed))
    api = HttpConnectApi(
        connect_url,
        timeout_s=15,
        backoff=BackOff(scale_ms=500, max_attempts=3),
        credential=credential_from_env(os.environ),
    )
    urls = metrics_url or [default_metrics_url(connect_url)]
    try:
        results, elapsed = run_verify(
            expect,
            api,
            urls,
            admin,
            timeout_s,
            snapshot_timeout_s=snapshot_timeout,
            say=lambda line: err_console.print(Text(line), soft_wrap=True),
        )
    finally:
        api.close()
    data = {
        "stage": parsed.name,
        "connector": connector,
        "ok": all(c.ok for c in results),
        "elapsed_s": round(elapsed, 1),
        "checks": [c.to_json() for c in results],
    }
    emit(data, as_json, _render)
    if not data["ok"]:
        for line in problems(results):  # one line per problem, whatever the output mode
            err_console.print(Text(line), soft_wrap=True)
        raise WmsError(f"stage {parsed.name!r} is not verified after {elapsed:.0f} s (problems above)")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)


def _local_replication(admin: TopicAdmin) -> int:
    """The local cluster's replication factor: 1 broker -> 1, ``local up --brokers 3`` -> 3; when
    the cluster does not answer, the one-broker default (the topic checks then report it)."""
    try:
        return replication_for(admin.broker_count())
    except WmsError:
        return LOCAL_SIZING.replication_factor
