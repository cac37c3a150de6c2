"""``stage-for-branch``, ``plan`` and ``secrets``: what a stage derives to, before anything runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector.commands.common import (
    JsonOption,
    OfflineOption,
    SecretsFileOption,
    StageOption,
    parse_stage,
)
from wms_connector.errors import InputError, WmsError
from wms_connector.output import console, emit, markup, print_json, show_table, styled
from wms_connector.plan import build_plan
from wms_connector.secrets.store import backend_for, lookup_all
from wms_connector.stages import stage_for_branch


def stage_for_branch_command(
    branch: Annotated[str, typer.Argument(help="git branch name, e.g. feature/ABC-12")],
    as_json: JsonOption = False,
) -> None:
    """Print the stage CI deploys for a git branch (never a named stage unless the branch is one)."""
    stage = stage_for_branch(branch)
    if as_json:
        print_json({"branch": branch, "stage": stage.name, "kind": stage.kind.value})
    else:
        print(stage.name)  # noqa: T201 - the bare value, for shell substitution


def _render_plan(plan: dict[str, Any]) -> None:
    console.print(markup("[bold]Stage[/] {} ([cyan]{}[/])", plan["stage"], plan["kind"]))
    if plan["topic_namespace"]:
        console.print(markup("Topic namespace: [yellow]{}[/]", plan["topic_namespace"]))
    else:
        console.print("Topic namespace: (none: named stage)")
    sizing = Table(title="Sizing and alarms", show_header=True)
    sizing.add_column("setting")
    sizing.add_column("value", justify="right")
    for section in ("sizing", "alarms", "kafka"):
        for key, value in plan[section].items():
            sizing.add_row(key, str(value))
    sizing.add_row("log_retention_days", str(plan["log_retention_days"]))
    sizing.add_row("retain_on_destroy", str(plan["retain_on_destroy"]))
    show_table(sizing)
    names = Table(title="Names", show_header=True)
    names.add_column("thing")
    names.add_column("name")
    for key, value in plan["names"].items():
        names.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    show_table(names)
    topics = Table(title="Topics", show_header=True)
    topics.add_column("topic")
    topics.add_column("role")
    for row in plan["topics"]:
        topics.add_row(row["name"], row["role"])
    show_table(topics)
    secrets = Table(title="Secrets (looked up in this order)", show_header=True)
    secrets.add_column("secret")
    secrets.add_column("required")
    secrets.add_column("paths")
    for row in plan["secrets"]:
        secrets.add_row(row["name"], "yes" if row["required"] else "no", " -> ".join(row["paths"]))
    show_table(secrets)


def plan_command(stage: StageOption, as_json: JsonOption = False) -> None:
    """Everything derived for a stage: kind, sizing, names, topics, secret paths."""
    emit(build_plan(parse_stage(stage)), as_json, _render_plan)


def secrets_command(
    stage: StageOption,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    region: Annotated[str | None, typer.Option(help="AWS region (default: from the environment)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show which path each secret resolves to, and from which backend. Never prints a value."""
    parsed = parse_stage(stage)
    lookups = lookup_all(parsed, backend_for(secrets_file, offline, region))
    rows = [
        {
            "name": item.name,
            "required": item.required,
            "resolved_path": item.path,
            "backend": item.backend,
            "tried": list(item.tried),
            "problem": item.problem,
        }
        for item in lookups
    ]

    def render(data: list[dict[str, Any]]) -> None:
        backend = data[0]["backend"] if data else "-"
        table = Table(title=f"Secrets for stage {parsed.name} (from {backend})")
        table.add_column("secret", no_wrap=True)
        table.add_column("resolved to", no_wrap=True)
        table.add_column("status")
        for row in data:
            if row["problem"]:
                status = styled(row["problem"], "red")
            elif row["resolved_path"] is None:
                status = styled("not set (optional)", "dim")
            else:
                status = styled("ok", "green")
            table.add_row(row["name"], row["resolved_path"] or "-", status)
        show_table(table)

    emit(rows, as_json, render)
    failed = [item for item in lookups if item.problem]
    if failed:
        # Missing or malformed secrets are bad input (2); a secret that could not be read is not (1).
        kind = InputError if all(item.input_problem for item in failed) else WmsError
        raise kind(f"stage {parsed.name!r}: secrets not usable: {', '.join(i.name for i in failed)}")


def register(app: typer.Typer) -> None:
    app.command("stage-for-branch")(stage_for_branch_command)
    app.command("plan")(plan_command)
    app.command("secrets")(secrets_command)
