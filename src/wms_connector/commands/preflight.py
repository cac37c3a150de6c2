"""``wms-connector preflight``: is the Oracle database ready for CDC? Read-only, time-boxed.

Exit codes: 0 nothing FAILs (WARNs allowed), 1 something FAILs (or cannot connect), 2 bad input.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from typing import Annotated

import typer
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    OfflineOption,
    SecretsFileOption,
    parse_stage,
)
from wms_connector.errors import InputError
from wms_connector.output import console, print_json, show_table, styled
from wms_connector.preflight.model import Status
from wms_connector.preflight.runner import Report, preflight
from wms_connector.preflight.target import (
    PASSWORD_ENV,
    dsn_has_password,
    expectations,
    parse_dsn,
    spec_from_db_info,
)
from wms_connector.secrets.shapes import DB_INFO
from wms_connector.secrets.store import backend_for, resolve, resolve_password
from wms_connector.stages import Stage

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


def render(report: Report) -> None:
    # Details carry Oracle's own text ("arguments: [kcbz...]"): escaped, so rich shows it as is.
    table = Table(title=f"Oracle preflight: {report.target}", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail")
    for result in report.results:
        style = _STYLE[result.status]
        table.add_row(result.title, styled(result.status.value, style), result.detail)
    show_table(table)
    # FAILs first: they block the deployment. WARN fixes follow for the DBA's convenience.
    for status in (Status.FAIL, Status.WARN):
        for result in report.results:
            if result.status is status and result.fix is not None:
                console.print(
                    Panel(
                        Syntax(result.fix.sql, "sql", word_wrap=True, theme="ansi_dark"),
                        title=Text(
                            f"{status.value} {result.id}: fix from {result.fix.file} [{result.fix.block}]"
                        ),
                        title_align="left",
                        border_style=_STYLE[status],
                    )
                )
    summary = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    verdict = styled("ready", "green") if report.ok else styled("not ready", "bold red")
    console.print(Text(f"{summary}: ") + verdict)


def _ask_password() -> str:
    return getpass.getpass(f"Oracle password (or set ${PASSWORD_ENV}): ")


def run_preflight(
    *,
    stage: str | None,
    dsn: str | None,
    pdb: str | None,
    secrets_file: SecretsFileOption,
    offline: bool,
    timeout: float,
    min_archive_hours: float | None,
    min_undo_seconds: int,
    archive_destination: str | None,
    environ: Mapping[str, str],
    prompt: Callable[[], str] | None = None,
) -> Report:
    """Resolve the target (bad input raises ``InputError`` before any connection), then check."""
    if (stage is None) == (dsn is None):
        raise InputError(
            "give exactly one of --stage S (dbInfo from the secrets) or --dsn user@host:port/service"
        )
    if timeout <= 0:
        raise InputError(f"--timeout {timeout} must be positive (seconds)")
    parsed: Stage | None = None
    if dsn is not None:
        if not dsn_has_password(dsn) and not environ.get(PASSWORD_ENV) and prompt is not None:
            environ = {**environ, PASSWORD_ENV: prompt()}
        spec = parse_dsn(dsn, environ)
        pdb_name = pdb
    else:
        if pdb is not None:
            raise InputError("--pdb goes with --dsn; with --stage the PDB comes from dbInfo.pdb_name")
        parsed = parse_stage(stage or "")
        backend = backend_for(secrets_file, offline)
        db_info = resolve(parsed, DB_INFO, backend).value
        password = resolve_password(parsed, db_info, backend)  # dbPassword, else a legacy dbInfo's
        spec, pdb_name = spec_from_db_info(db_info, password), db_info.pdb_name
    expect = expectations(
        spec.user,
        pdb_name,
        stage=parsed,
        min_archive_hours=min_archive_hours,
        min_undo_seconds=min_undo_seconds,
        archive_destination=archive_destination,
    )
    if dsn is not None and dsn_has_password(dsn):
        shown = f"{dsn.partition('/')[0]}/***@..."
        raise InputError(
            f"--dsn {shown!r} puts the password on the command line, where shell history and `ps` keep "
            f"it: leave it out and set ${PASSWORD_ENV}, or run in a terminal to be asked for it"
        )
    return preflight(spec, expect, timeout_s=timeout)


def preflight_command(  # noqa: PLR0917 - typer passes options by keyword
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage", "-s", help="stage whose dbInfo secret to use (wms/S/dbInfo, wms/default/dbInfo)"
        ),
    ] = None,
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="user@host:port/service instead of --stage; the password comes from "
            f"${PASSWORD_ENV} or is asked in a terminal (a user[/password]@ DSN is refused)",
        ),
    ] = None,
    pdb: Annotated[
        str | None, typer.Option("--pdb", help="with --dsn on a CDB: the PDB holding WMS and MMDL")
    ] = None,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    timeout: Annotated[
        float,
        typer.Option(
            parser=params.seconds,
            metavar="SECONDS",
            help="overall deadline in seconds (connect + all queries)",
        ),
    ] = 60.0,
    min_archive_hours: Annotated[
        float | None,
        typer.Option(
            parser=params.seconds_or_zero,
            metavar="HOURS",
            help="archive window to require (default: 72 production, 24 otherwise)",
        ),
    ] = None,
    min_undo_seconds: Annotated[
        int,
        typer.Option(
            parser=params.not_negative,
            metavar="SECONDS",
            help="UNDO_RETENTION to require for the initial snapshot",
        ),
    ] = 3600,
    archive_destination: Annotated[
        str | None, typer.Option(help="the connector's archive.destination.name, if it sets one")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check, read-only, that Oracle is ready for the Debezium connector: PASS / WARN / FAIL with fixes."""
    report = run_preflight(
        stage=stage,
        dsn=dsn,
        pdb=pdb,
        secrets_file=secrets_file,
        offline=offline,
        timeout=timeout,
        min_archive_hours=min_archive_hours,
        min_undo_seconds=min_undo_seconds,
        archive_destination=archive_destination,
        environ=os.environ,
        # Asked only in a terminal; a script sets the environment variable.
        prompt=_ask_password if sys.stdin.isatty() else None,
    )
    if as_json:
        print_json(report.as_dict())
    else:
        render(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("preflight")(preflight_command)
