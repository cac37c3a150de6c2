"""``wms-connector worker-config``: render a Connect worker's properties (used by the image's entrypoint)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from wms_connector.commands import params
from wms_connector.commands.common import JsonOption, StageOption, parse_stage
from wms_connector.connect.secret_refs import KAFKA_TLS_DIR, SECRETS_DIR, ClientTlsFiles, SecretSources
from wms_connector.connect.worker_config import (
    REST_PORT,
    TopicSizing,
    WorkerEndpoint,
    jvm_heap_opts,
    render_properties,
    worker_config,
)
from wms_connector.errors import InputError
from wms_connector.output import print_json
from wms_connector.stages import KafkaAuth, settings_for


def worker_config_command(  # noqa: PLR0917 - typer maps each CLI option to a parameter
    stage: StageOption,
    bootstrap: Annotated[
        str | None,
        typer.Option(parser=params.bootstrap, metavar="HOST:PORT,...", help="Kafka bootstrap servers"),
    ] = None,
    advertised_host: Annotated[
        str | None,
        typer.Option(parser=params.host, metavar="HOST", help="REST host other workers reach this one at"),
    ] = None,
    plugin_path: Annotated[list[str] | None, typer.Option(help="plugin directory (repeatable)")] = None,
    rest_port: Annotated[int, typer.Option(parser=params.port, metavar="PORT", help="REST port")] = REST_PORT,
    listen_host: Annotated[
        str, typer.Option(parser=params.host, metavar="HOST", help="REST bind address")
    ] = "0.0.0.0",  # noqa: S104
    auth: Annotated[KafkaAuth | None, typer.Option(help="override the stage's Kafka client auth")] = None,
    replication_factor: Annotated[
        int | None, typer.Option(min=1, help="internal topics' replication factor (default: the stage's)")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            parser=params.new_file,
            metavar="FILE",
            help="write the properties to this file instead of stdout",
        ),
    ] = None,
    secrets_dir: Annotated[
        str,
        typer.Option(
            metavar="DIR",
            help="the only directory the worker's config provider may read secrets from (absolute)",
        ),
    ] = SECRETS_DIR,
    kafka_tls_dir: Annotated[
        str,
        typer.Option(metavar="DIR", help="where mtls Kafka clients find their certificate files (absolute)"),
    ] = KAFKA_TLS_DIR,
    rest_auth: Annotated[
        bool, typer.Option("--rest-auth", help="REST API behind Connect's basic-auth extension (JAAS set)")
    ] = False,
    heap_opts: Annotated[bool, typer.Option("--heap-opts", help="print only the JVM heap flags")] = False,
    as_json: JsonOption = False,
) -> None:
    """The worker properties of a stage (or, with --heap-opts, its JVM heap flags)."""
    parsed = parse_stage(stage)
    if heap_opts:
        flags = jvm_heap_opts(settings_for(parsed))
        if as_json:
            print_json({"stage": parsed.name, "heap_opts": flags})
        else:
            print(flags)  # noqa: T201 - a bare value for the shell
        return
    if not bootstrap or not advertised_host or not plugin_path:
        raise InputError("worker-config needs --bootstrap, --advertised-host and --plugin-path")
    if not secrets_dir.startswith("/"):
        raise InputError(
            f"--secrets-dir {secrets_dir!r} is not an absolute path; pass the directory's full path"
        )
    if not kafka_tls_dir.startswith("/"):
        raise InputError(
            f"--kafka-tls-dir {kafka_tls_dir!r} is not an absolute path; pass the directory's full path"
        )
    sizing = TopicSizing.for_stage(settings_for(parsed))
    props = worker_config(
        parsed,
        WorkerEndpoint(
            bootstrap_servers=bootstrap,
            advertised_host=advertised_host,
            rest_port=rest_port,
            listen_host=listen_host,
        ),
        tuple(plugin_path),
        auth=auth,
        sizing=None if replication_factor is None else replace(sizing, replication_factor=replication_factor),
        secret_sources=SecretSources(secrets_dir=secrets_dir),
        rest_auth=rest_auth,
        client_tls=ClientTlsFiles(kafka_tls_dir),
    )
    if as_json:
        print_json(props)
    elif output is not None:
        output.write_text(render_properties(props))
    else:
        print(render_properties(props), end="")  # noqa: T201


def register(app: typer.Typer) -> None:
    app.command("worker-config")(worker_config_command)
