"""``topics``: list a stage's topics, create/fix them on a broker, delete an ephemeral stage's."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wms_connector.aws import default_region
from wms_connector.commands.common import (
    BootstrapOption,
    JsonOption,
    OptionalStageOption,
    parse_stage,
)
from wms_connector.commands.common import (
    KafkaAuthOption as AuthOption,
)
from wms_connector.commands.common import (
    KafkaRegionOption as RegionOption,
)
from wms_connector.errors import InputError, WmsError
from wms_connector.kafka.admin import (
    DeleteResult,
    ReconcileResult,
    TopicAdmin,
    delete_stage_topics,
    reconcile_topics,
)
from wms_connector.kafka.client import bootstrap_hosts, default_auth, is_loopback
from wms_connector.kafka.deletion import require_ephemeral
from wms_connector.kafka.topics import TopicSpec, topic_specs
from wms_connector.output import console, emit, err_console, markup, show_table, styled
from wms_connector.stages import KafkaAuth, Stage, settings_for

topics_app = typer.Typer(
    help="A stage's topics: list them, create/fix them on a broker, delete an ephemeral stage's.",
    invoke_without_command=True,
    no_args_is_help=False,
)

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="print the plan, change nothing")]
ReplicationOption = Annotated[
    int | None,
    typer.Option("--replication-factor", min=1, help="override the stage's replication factor (local: 1)"),
]


def _stage(value: str | None) -> Stage:
    if value is None:
        raise InputError("missing --stage: give main, val, production or a branch stage")
    return parse_stage(value)


def _admin(stage: Stage, bootstrap: str | None, auth: KafkaAuth | None, region: str | None) -> TopicAdmin:
    """An admin client of ``bootstrap``; without ``--auth``, the stage's (plaintext on loopback)."""
    if not bootstrap:
        raise InputError("missing --bootstrap: give the Kafka bootstrap servers, host:port[,...]")
    if auth is None:
        auth = default_auth(settings_for(stage).kafka_auth, bootstrap)
    return TopicAdmin.connect(bootstrap, auth, region=default_region(region))


def _render_specs(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Topics", show_header=True)
    # Long names fold instead of pushing whole columns off an 80-column terminal.
    for column in ("topic", "role", "partitions", "RF", "config"):
        table.add_column(column, overflow="fold", no_wrap=column in ("role", "partitions", "RF"))
    for row in rows:
        config = "\n".join(f"{k}={v}" for k, v in row["config"].items())
        table.add_row(
            row["name"], row["role"], str(row["partitions"]), str(row["replication_factor"]), config
        )
    show_table(table)


@topics_app.callback()
def topics_command(
    ctx: typer.Context,
    stage: OptionalStageOption = None,
    replication_factor: ReplicationOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every topic the stage owns, with partitions, replication factor and config."""
    if ctx.invoked_subcommand is not None:
        # `topics --stage S create`: the group's options are the subcommand's defaults.
        ctx.obj = {"stage": stage, "replication_factor": replication_factor}
        return
    specs = topic_specs(_stage(stage), replication_factor=replication_factor)
    emit([spec.to_json() for spec in specs], as_json, _render_specs)


_ACTION_STYLE = {"create": "green", "ok": "dim", "alter-config": "yellow", "report": "red"}


def _render_reconcile(data: dict[str, Any]) -> None:
    verb = "would" if data["dry_run"] else "did"
    table = Table(title=f"Topic plan ({'dry run' if data['dry_run'] else 'applied'})", show_header=True)
    table.add_column("topic", overflow="fold")
    table.add_column("action")
    table.add_column("detail")
    for row in data["actions"]:
        detail = "; ".join(
            [
                f"set {k}={v}" + (f" (now {row['current'][k]})" if row.get("current", {}).get(k) else "")
                for k, v in row["changes"].items()
            ]
            + row["problems"]
            + ([row["error"]] if row["error"] else [])
        )
        style = _ACTION_STYLE[row["action"]]
        table.add_row(row["topic"], styled(row["action"], style), detail)
    show_table(table)
    counts: dict[str, int] = {}
    for row in data["actions"]:
        # A create or fix the broker refused did not happen: count it as failed, not as done.
        kind = "failed" if row["error"] else row["action"]
        counts[kind] = counts.get(kind, 0) + 1
    console.print(f"{verb}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


def _from_group(ctx: typer.Context, key: str, value: Any) -> Any:
    """A subcommand option, else the same option given to the ``topics`` group."""
    if value is not None:
        return value
    return (ctx.obj or {}).get(key) if isinstance(ctx.obj, dict) else None


def fit_replication(
    stage: Stage, replication_factor: int | None, brokers: int, *, loopback: bool
) -> list[TopicSpec]:
    """The specs to create: refuse, before anything is created, a replication factor above the
    cluster's broker count; on a loopback cluster without --replication-factor, use the broker
    count instead (and say so), exactly as if it had been given (min.insync.replicas included)."""
    specs = topic_specs(stage, replication_factor=replication_factor)
    highest = max((s.replication_factor for s in specs), default=0)
    if brokers < 1 or highest <= brokers:
        return specs
    if loopback and replication_factor is None:
        err_console.print(
            f"the local cluster has {brokers} broker(s): using replication factor {brokers} "
            f"instead of the stage's {highest}",
            soft_wrap=True,
        )
        return topic_specs(stage, replication_factor=brokers)
    raise InputError(
        f"replication factor {highest} needs at least {highest} brokers, but the cluster has {brokers}; "
        "pass --replication-factor N (N <= the broker count) or use a cluster with enough brokers"
    )


@topics_app.command("create")
def create_command(
    ctx: typer.Context,
    *,
    stage: OptionalStageOption = None,
    bootstrap: BootstrapOption = None,
    dry_run: DryRunOption = False,
    auth: AuthOption = None,
    region: RegionOption = None,
    replication_factor: ReplicationOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the stage's missing topics, fix safe configs, report (and leave) what is unsafe to fix."""
    parsed = _stage(_from_group(ctx, "stage", stage))
    replication_factor = _from_group(ctx, "replication_factor", replication_factor)
    admin = _admin(parsed, bootstrap, auth, region)
    specs = fit_replication(
        parsed,
        replication_factor,
        admin.broker_count(),
        loopback=all(is_loopback(h) for h in bootstrap_hosts(bootstrap or "")),
    )
    result: ReconcileResult = reconcile_topics(admin, specs, dry_run=dry_run)
    emit(result.to_json(), as_json, _render_reconcile)
    if result.failed:
        raise WmsError(
            "the broker refused: " + "; ".join(f"{r.action.spec.name}: {r.error}" for r in result.failed)
        )
    if result.unfixable:
        # A plan exits as the real run would: the real run creates and fixes the rest, then fails.
        raise WmsError(
            f"{len(result.unfixable)} topic(s) differ in ways this tool does not fix (the actions marked "
            "'report'); fix them deliberately, then run again"
            + (" (dry run: nothing was changed)" if dry_run else "")
        )


def _render_delete(data: dict[str, Any]) -> None:
    title = (
        f"Topics of stage {data['stage']} to delete" if data["dry_run"] or not data["deleted"] else "Deleted"
    )
    table = Table(title=title, show_header=True)
    table.add_column("topic", overflow="fold")
    table.add_column("status")
    for topic in data["delete"]:
        if topic in data["errors"]:
            status = styled(data["errors"][topic], "red")
        elif topic in data["still_listed"]:
            status = styled("still listed", "yellow")
        elif topic in data["deleted"]:
            status = styled("deleted", "green")
        else:
            status = Text("to delete")
        table.add_row(topic, status)
    show_table(table)
    for row in data["spared"]:
        console.print(markup("[yellow]spared[/] {}: {}", row["topic"], row["reason"]))
    if not data["delete"]:
        console.print("nothing to delete")


@topics_app.command("delete")
def delete_command(
    ctx: typer.Context,
    *,
    stage: OptionalStageOption = None,
    bootstrap: BootstrapOption = None,
    dry_run: DryRunOption = False,
    yes: Annotated[bool, typer.Option("--yes", help="really delete (without it: plan only)")] = False,
    auth: AuthOption = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an ephemeral stage's own topics (named stages: always refused). Needs --yes to act."""
    parsed = _stage(_from_group(ctx, "stage", stage))
    require_ephemeral(parsed)  # refused before any flag or broker matters
    admin = _admin(parsed, bootstrap, auth, region)
    plan_only = dry_run or not yes
    result: DeleteResult = delete_stage_topics(admin, parsed, dry_run=plan_only)
    emit(result.to_json(), as_json, _render_delete)
    if result.refusal is not None:
        # The plan fails as the deletion would, for the same reason.
        raise WmsError(f"{result.refusal} (nothing was deleted)")
    if plan_only and not dry_run and result.selection.selected:
        err_console.print("nothing deleted: pass --yes to delete these topics")
        raise typer.Exit(2)
    if not result.ok:
        raise WmsError(f"stage {parsed.name!r}: some topics were not deleted (see above)")


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
