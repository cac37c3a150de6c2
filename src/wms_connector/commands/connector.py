"""``config``: the connector config of a stage, our checks, and validation by the real plugin."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector.commands import params
from wms_connector.commands.common import (
    JsonOption,
    OfflineOption,
    SecretsFileOption,
    StageOption,
    parse_stage,
)
from wms_connector.connect.config_checks import Problem, check_config
from wms_connector.connect.connector_config import (
    OPTIONAL_SETTINGS,
    OracleSource,
    PostgresStandIn,
    Setting,
    SourceAdapter,
    build_settings,
)
from wms_connector.connect.rest import FieldError, HttpConnectApi, validation_errors
from wms_connector.errors import InputError, WmsError
from wms_connector.output import console, emit, markup, show_table, styled
from wms_connector.secrets.store import backend_for, resolve_stage
from wms_connector.stages import KafkaAuth, Stage, settings_for


class SourceKind(StrEnum):
    ORACLE = "oracle"
    STANDIN = "standin"


@dataclass(frozen=True)
class ValidationReport:
    """The real plugin's verdict. ``ok`` when no error remains except the database connection."""

    plugin: str
    errors: tuple[FieldError, ...]

    @property
    def connection_errors(self) -> tuple[FieldError, ...]:
        return tuple(e for e in self.errors if e.is_connection_error)

    @property
    def other_errors(self) -> tuple[FieldError, ...]:
        return tuple(e for e in self.errors if not e.is_connection_error)

    @property
    def ok(self) -> bool:
        return not self.other_errors

    def summary(self) -> str:
        if not self.errors:
            return f"{self.plugin}: the plugin accepts the config and reached the database."
        if self.ok:
            return (
                f"{self.plugin}: every field is valid; the only error is the database connection "
                "(the database is not reachable from this worker). That is expected where no database runs."
            )
        return f"{self.plugin}: {len(self.other_errors)} error(s) besides the database connection."

    def as_dict(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "ok": self.ok,
            "connection_error_only": bool(self.errors) and self.ok,
            "errors": [
                {"key": e.key, "message": e.message, "connection": e.is_connection_error} for e in self.errors
            ],
            "summary": self.summary(),
        }


def validate_with_plugin(api: HttpConnectApi, plugin: str, config: dict[str, str]) -> ValidationReport:
    return ValidationReport(plugin, tuple(validation_errors(api.validate(plugin, config))))


def source_for(
    kind: SourceKind, stage: Stage, secrets_file: Path | None, offline: bool, standin_port: int
) -> tuple[SourceAdapter, str]:
    """The source adapter and the Kafka bootstrap servers for ``kind``."""
    if kind is SourceKind.STANDIN:
        return PostgresStandIn("127.0.0.1", standin_port, "wms", "wms"), "127.0.0.1:9092"
    resolved = resolve_stage(stage, backend_for(secrets_file, offline))
    return OracleSource(resolved.db_info.value), str(resolved.broker_string.value)


def _setting_row(setting: Setting) -> dict[str, str]:
    return {"key": setting.key, "value": setting.value, "reason": setting.reason}


def _render(data: dict[str, Any]) -> None:
    label = " (STAND-IN source: local PostgreSQL)" if data["source"] == "standin" else ""
    console.print(
        markup("[bold]Connector[/] {} for stage {}{}", data["config"]["name"], data["stage"], label)
    )
    show_table(_settings_table(data["settings"], None, "value", "why"))
    show_table(_settings_table(data["optional"], "Optional, not set", "example", "when"))
    _render_checks(data)


def _settings_table(rows: list[dict[str, str]], title: str | None, value: str, reason: str) -> Table:
    """Key, value and reason of each setting, under the given column headings."""
    table = Table(title=title, show_header=True)
    table.add_column("key")
    table.add_column(value, overflow="fold")
    table.add_column(reason, overflow="fold")
    for row in rows:
        table.add_row(row["key"], row["value"], row["reason"])
    return table


def _render_checks(data: dict[str, Any]) -> None:
    if "problems" in data:
        if not data["problems"]:
            console.print(styled("our checks: pass", "green"))
        for p in data["problems"]:
            colour = "red" if p["severity"] == "error" else "yellow"
            console.print(markup(f"[{colour}]{{}}[/] {{}}: {{}}", p["severity"], p["key"], p["message"]))
    if "validation" in data:
        report = data["validation"]
        for e in report["errors"]:
            tag = "connection" if e["connection"] else "[red]error[/]"
            # The plugin's text may hold "[a, b]" (Java lists) or "[/...]": escaped by markup().
            console.print(markup(f"plugin {tag} {{}}: {{}}", e["key"], e["message"]))
        colour = "green" if report["ok"] else "red"
        console.print(styled(report["summary"], colour))


def config_command(  # noqa: PLR0917 - typer maps each parameter to an option
    stage: StageOption,
    source: Annotated[SourceKind, typer.Option("--source", help="oracle (the product) or standin")] = (
        SourceKind.ORACLE
    ),
    as_json: JsonOption = False,
    check: Annotated[bool, typer.Option("--check", help="run our own checks; exit 1 on an error")] = False,
    validate: Annotated[
        bool, typer.Option("--validate", help="send the config to the real plugin's validate endpoint")
    ] = False,
    connect_url: Annotated[
        str | None,
        typer.Option(
            "--connect-url",
            parser=params.http_url,
            metavar="URL",
            help="Kafka Connect REST URL for --validate",
        ),
    ] = None,
    standin_port: Annotated[
        int,
        typer.Option("--standin-port", parser=params.port, metavar="PORT", help="stand-in PostgreSQL port"),
    ] = 5432,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
) -> int:
    """The Debezium connector config of a stage, with the reason for every choice."""
    the_stage = parse_stage(stage)
    if validate and not connect_url:
        raise InputError("--validate needs --connect-url URL (the Kafka Connect REST endpoint)")
    adapter, bootstrap = source_for(source, the_stage, secrets_file, offline, standin_port)
    auth = KafkaAuth.PLAINTEXT if source is SourceKind.STANDIN else settings_for(the_stage).kafka_auth
    settings = build_settings(the_stage, adapter, bootstrap, auth)
    config = {s.key: s.value for s in settings}
    data: dict[str, Any] = {
        "stage": the_stage.name,
        "source": adapter.kind,
        "config": config,
        "settings": [_setting_row(s) for s in settings],
        "optional": [_setting_row(s) for s in OPTIONAL_SETTINGS],
    }
    failed = False
    if check or validate:
        problems: list[Problem] = check_config(config, known_secrets=adapter.secret_values())
        data["problems"] = [
            {"severity": p.severity.value, "key": p.key, "message": p.message} for p in problems
        ]
        failed = any(p.is_error for p in problems)
    if validate and connect_url:
        api = HttpConnectApi(connect_url)
        try:
            report = validate_with_plugin(api, adapter.plugin_name, config)
        finally:
            api.close()
        data["validation"] = report.as_dict()
        failed = failed or not report.ok
    if check or validate:
        if as_json:
            emit({k: v for k, v in data.items() if k not in ("settings", "optional")}, True, _render_checks)
        else:
            _render_checks(data)
    else:
        emit(data, as_json, _render)
    return 1 if failed else 0


def register(app: typer.Typer) -> None:
    app.command("config")(config_command)


__all__ = ["ValidationReport", "WmsError", "register", "validate_with_plugin"]
