"""``audit``: do the topics hold exactly what the source holds, at one consistent point?

Exit 0 when every audited table is equal, 1 when one differs, 2 for bad input (or when the
connector has not passed the point, so nothing can be proved). The work is ``audit.run``; this
module only wires the stage's names, the Kafka client and the source, and renders the result.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.table import Table

from wms_connector.audit.compare import oracle_point_scn
from wms_connector.audit.emf import audit_emf_lines
from wms_connector.audit.ranges import RANGE_ROWS
from wms_connector.audit.run import AuditReport, AuditSource, run_audit, tables_named
from wms_connector.audit.topic import GROUP_PREFIX_KEY
from wms_connector.aws import default_region
from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    KafkaAuthOption,
    OfflineOption,
    SecretsFileOption,
    StageBootstrapOption,
    StageOption,
    parse_stage,
)
from wms_connector.connect.connector_config import STANDIN_PASSWORD_ENV
from wms_connector.connect.secret_refs import CLIENT_CERT_SECRET_ENV
from wms_connector.errors import InputError, WmsError
from wms_connector.kafka.client import TLS_DIR_ENV, client_config, default_auth
from wms_connector.naming import TableId, names_for
from wms_connector.output import console, emit, markup, styled
from wms_connector.secrets.client_cert_files import fetch_client_tls
from wms_connector.secrets.shapes import BROKER_STRING, DB_INFO, DB_PASSWORD, DbInfo
from wms_connector.secrets.store import backend_for, parse_secret, resolve, resolve_password
from wms_connector.stages import KafkaAuth, Stage, settings_for

#: Seconds to wait for the connector's committed offset to pass the point.
DEFAULT_WAIT_S = 120.0


class AuditDiffersError(WmsError):
    """The audit ran and found a difference (exit 1; the tables above say which keys)."""


def standin_passed(tables: Sequence[TableId]) -> Callable[[AuditSource, Mapping[str, Any]], bool]:
    """The stand-in connector passed the snapshot (``StandInSnapshot.passed``)."""

    def passed(source: AuditSource, offset: Mapping[str, Any]) -> bool:
        from wms_connector.audit.standin import StandInSnapshot

        return isinstance(source, StandInSnapshot) and source.passed(offset, tables)

    return passed


def open_standin(conninfo: str, slot: str) -> AuditSource:
    from wms_connector.audit.standin import StandInSnapshot

    return StandInSnapshot(conninfo, slot)


def oracle_credentials(
    stage: Stage, secrets_backend: Any, db_secret: str | None = None, password_secret: str | None = None
) -> tuple[DbInfo, SecretStr]:
    """``dbInfo`` and the password, read now: from ``db_secret`` and ``password_secret`` when given
    (the scheduled task names the paths the deploy resolved), else with the stage-then-default
    fallback (the password: ``dbPassword``, else a legacy ``dbInfo``'s)."""
    if db_secret:
        text = secrets_backend.fetch(db_secret)
        if text is None:
            raise InputError(f"--db-secret {db_secret!r} does not exist in {secrets_backend.label}")
        db_info = parse_secret(DB_INFO, db_secret, text)
    else:
        db_info = resolve(stage, DB_INFO, secrets_backend).value
    if password_secret:
        text = secrets_backend.fetch(password_secret)
        if text is None:
            raise InputError(
                f"--password-secret {password_secret!r} does not exist in {secrets_backend.label}"
            )
        return db_info, parse_secret(DB_PASSWORD, password_secret, text).password
    if db_secret and db_info.password is not None:
        return db_info, db_info.password  # the deploy named the legacy dbInfo that holds it
    return db_info, resolve_password(stage, db_info, secrets_backend)


def open_oracle(
    stage: Stage,
    secrets_backend: Any,
    offset: Mapping[str, Any],
    db_secret: str | None = None,
    password_secret: str | None = None,
) -> AuditSource:
    """The Oracle flashback reader at the SCN the committed ``offset`` passed; the credentials are
    read now, in this process (:func:`oracle_credentials`)."""
    from wms_connector.audit.oracle import OracleSnapshot
    from wms_connector.preflight.database import thin_connect
    from wms_connector.preflight.queries import set_container
    from wms_connector.preflight.target import spec_from_db_info

    db_info, password = oracle_credentials(stage, secrets_backend, db_secret, password_secret)
    connection = thin_connect(spec_from_db_info(db_info, password), 30.0)
    if db_info.pdb_name:
        connection.cursor().execute(set_container(db_info.pdb_name))
    return OracleSnapshot(connection, oracle_point_scn(offset))


def audit_standin(
    stage: Stage,
    client: Mapping[str, Any],
    conninfo: str,
    *,
    wait_s: float = DEFAULT_WAIT_S,
    start_offsets: Mapping[str, Mapping[int, int]] | None = None,
    tables: Mapping[TableId, str] | None = None,
    range_rows: int | None = RANGE_ROWS,
) -> AuditReport:
    """Audit the STAND-IN's tables (``--source standin``, the local demo, the benchmark)."""
    names = names_for(stage)
    chosen = dict(tables or names.data_topics)
    return run_audit(
        stage=stage.name,
        connector=names.standin_connector,
        client={GROUP_PREFIX_KEY: names.audit_consumer_group_prefix, **client},
        offsets_topic=names.offsets_topic,
        topics=chosen,
        open_source=lambda _offset: open_standin(conninfo, names.standin_slot),
        passed=standin_passed(list(chosen)),
        wait_s=wait_s,
        start_offsets=start_offsets,
        range_rows=range_rows,
    )


def render_report(data: dict[str, Any]) -> None:
    """The audit for a person: the point, one row per table, the verdict."""
    _render(data)


def _render(data: dict[str, Any]) -> None:
    point = data["point"]
    shown = ", ".join(f"{k} {v}" for k, v in point.items() if k != "kind" and v not in ("", None))
    console.print(markup("audit of stage [bold]{}[/] at {} ({})", data["stage"], point["kind"], shown))
    table = Table(show_header=True)
    for column in ("table", "source rows", "topic rows", "missing", "extra", "mismatched", "samples"):
        table.add_column(column)
    for row in data["tables"]:
        samples = row["samples"]
        text = "; ".join(
            [f"missing {k}" for k in samples["missing"]]
            + [f"extra {k}" for k in samples["extra"]]
            + [f"mismatched {m['key']} ({', '.join(m['columns'])})" for m in samples["mismatched"]]
        )
        ok = row["missing"] == row["extra"] == row["mismatched"] == 0
        table.add_row(
            row["table"],
            str(row["source_rows"]),
            str(row["topic_rows"]),
            *(styled(row[k], "green" if row[k] == 0 else "red") for k in ("missing", "extra", "mismatched")),
            styled(text or "-", "dim" if ok else "red"),
        )
    console.print(table)
    verdict = (
        styled("verdict equal", "green") if data["verdict"] == "equal" else styled("verdict DIFFER", "red")
    )
    console.print(verdict)


def finish(
    report: AuditReport, *, as_json: bool, emf: bool, namespace: str, dimensions: dict[str, str]
) -> None:
    """Print the report (and the EMF lines), then exit 1 if it differs."""
    if emf:
        for line in audit_emf_lines(
            report.tables, namespace=namespace, dimensions=dimensions, timestamp_ms=int(time.time() * 1000)
        ):
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    emit(report.to_json(), as_json, _render)
    for result in report.tables:  # how each verdict was reached, on stderr (never in the JSON)
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
        ranged = (
            f"{result.ranges_differing} of {result.ranges} key ranges differed, "
            f"{result.rows_read_again} source rows read again; "
            if result.ranges
            else ""
        )
        sys.stderr.write(f"audit {result.table}: {ranged}{steps}\n")
    if report.verdict != "equal":
        differing = [t.table for t in report.tables if not t.equal]
        raise AuditDiffersError(f"the topics differ from the source in {', '.join(differing)} (see above)")


def prepare_task_client_tls(
    backend: Callable[[], Any], environ: MutableMapping[str, str] = os.environ
) -> None:
    """mtls in the scheduled audit task: no certificate volume there, so the task reads the stage's
    ``kafkaClientCert`` (named by ``KAFKA_CLIENT_CERT_SECRET``) with its own role and writes the
    files into a private temporary directory for this run. Elsewhere (an operator's machine, the
    agent container) ``WMS_KAFKA_TLS_DIR`` or the image's directory is used as it is."""
    path = environ.get(CLIENT_CERT_SECRET_ENV)
    if not path or environ.get(TLS_DIR_ENV):
        return
    directory = tempfile.mkdtemp(prefix="wms-kafka-tls-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    problem = fetch_client_tls(path, backend(), directory)
    if problem is not None:
        raise InputError(f"mtls: {problem}")
    environ[TLS_DIR_ENV] = directory


def audit_command(
    *,
    stage: StageOption,
    source: Annotated[
        str, typer.Option("--source", help="oracle (the product) or standin (the local stand-in)")
    ] = "oracle",
    table: Annotated[
        list[str] | None, typer.Option("--table", help="SCHEMA.TABLE to audit; repeat (default: all four)")
    ] = None,
    bootstrap: StageBootstrapOption = None,
    auth: KafkaAuthOption = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region (MSK IAM, Secrets Manager)")
    ] = None,
    standin_dsn: Annotated[
        str | None,
        typer.Option(
            "--standin-dsn",
            help="STAND-IN only: libpq 'host=... port=... dbname=... user=...' "
            f"(password from ${STANDIN_PASSWORD_ENV})",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", parser=params.seconds, help="seconds to wait for the connector to pass the point"
        ),
    ] = DEFAULT_WAIT_S,
    range_rows: Annotated[
        int,
        typer.Option(
            "--range-rows",
            help="compare by hashed key ranges of this many rows, fetching only differing ranges "
            "(0: every source row past the fold)",
        ),
    ] = RANGE_ROWS,
    emf: Annotated[
        bool, typer.Option("--emf", help="also print CloudWatch EMF lines (AuditMissing/Extra/Mismatched)")
    ] = False,
    db_secret: Annotated[
        str | None,
        typer.Option(
            "--db-secret", help="Oracle: read dbInfo from exactly this secret (default: wms/S, then default)"
        ),
    ] = None,
    password_secret: Annotated[
        str | None,
        typer.Option(
            "--password-secret",
            help="Oracle: read the password from exactly this dbPassword secret (default: wms/S, then "
            "default, then a legacy dbInfo's password)",
        ),
    ] = None,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Compare every captured table with the state folded from its topic at one consistent point:
    rows missing from the topics, extra in them, or with different values. Read-only everywhere."""
    parsed = parse_stage(stage)
    if source not in ("oracle", "standin"):
        raise InputError(f"--source {source!r} is not oracle or standin")
    if range_rows < 0:
        raise InputError(f"--range-rows {range_rows} is negative; give a row count, or 0 for no ranges")
    ranged = range_rows or None
    names = names_for(parsed)
    chosen = tables_named(names.data_topics, table or [])

    def backend() -> Any:  # only when a secret is needed (a local stand-in audit needs none)
        return backend_for(secrets_file, offline, default_region(region))

    if not bootstrap:
        bootstrap = str(resolve(parsed, BROKER_STRING, backend()).value)
    chosen_auth = auth if auth is not None else default_auth(settings_for(parsed).kafka_auth, bootstrap)
    if chosen_auth is KafkaAuth.MTLS:
        prepare_task_client_tls(backend)
    client = {
        **client_config(bootstrap, chosen_auth, region=default_region(region)),
        GROUP_PREFIX_KEY: names.audit_consumer_group_prefix,
    }
    if source == "standin":
        if not standin_dsn:
            raise InputError("--source standin needs --standin-dsn 'host=... port=... dbname=wms user=wms'")
        if "password" in standin_dsn:
            raise InputError(f"--standin-dsn must not hold the password; put it in ${STANDIN_PASSWORD_ENV}")
        password = os.environ.get(STANDIN_PASSWORD_ENV, "")
        conninfo = f"{standin_dsn} password={password}" if password else standin_dsn
        connector = names.standin_connector
        report = audit_standin(parsed, client, conninfo, wait_s=wait, tables=chosen, range_rows=ranged)
    else:
        connector = names.connector
        report = run_audit(
            stage=parsed.name,
            connector=connector,
            client=client,
            offsets_topic=names.offsets_topic,
            topics=chosen,
            open_source=lambda offset: open_oracle(parsed, backend(), offset, db_secret, password_secret),
            passed=lambda _source, _offset: True,  # the point is taken from the committed offset
            wait_s=wait,
            range_rows=ranged,
        )
    finish(
        report,
        as_json=as_json,
        emf=emf,
        namespace=names.metric_namespace,
        dimensions=names.metric_dimensions(connector),
    )


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
