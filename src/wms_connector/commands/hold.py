"""``hold`` / ``release``: keep the stage's agents' hands off its connector for a while.

While a hold is active every agent of the stage only watches: no config writes, no restarts (see
``wms_connector.hold``). A hold ends by itself at its expiry; ``release`` ends it at once, and the
newest agent then reconciles the config once.
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from wms_connector.aws import default_region
from wms_connector.commands import params
from wms_connector.commands.common import (
    BootstrapOption,
    JsonOption,
    KafkaAuthOption,
    KafkaRegionOption,
    StageOption,
    parse_stage,
)
from wms_connector.errors import InputError
from wms_connector.hold.record import DEFAULT_HOLD_S, MAX_HOLD_S, Hold, HoldState
from wms_connector.hold.store import HoldStore, operator_identity
from wms_connector.kafka.client import default_auth
from wms_connector.naming import StageNames, names_for
from wms_connector.output import console, emit, styled
from wms_connector.stages import KafkaAuth, settings_for

#: Inside a task (``--remote``, the agent container), the bootstrap comes from here.
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"


class HeldSource(StrEnum):
    ORACLE = "oracle"
    STANDIN = "standin"


SourceOption = Annotated[
    HeldSource, typer.Option("--source", help="whose connector: oracle (deployed) or standin (local)")
]


def connector_name(names: StageNames, source: HeldSource) -> str:
    return names.standin_connector if source is HeldSource.STANDIN else names.connector


def open_store(
    stage_name: str, bootstrap: str | None, auth: KafkaAuth | None, region: str | None
) -> tuple[HoldStore, StageNames]:
    stage = parse_stage(stage_name)
    names = names_for(stage)
    servers = bootstrap or os.environ.get(BOOTSTRAP_ENV)
    if not servers:
        raise InputError(f"missing --bootstrap: give the Kafka bootstrap servers (or set {BOOTSTRAP_ENV})")
    chosen = auth or default_auth(settings_for(stage).kafka_auth, servers)
    return HoldStore(servers, chosen, names, region=default_region(region)), names


def _render(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    state = data["state"]
    colour = {"held": "yellow", "none": "green", "expired": "dim", "unknown": "red"}.get(state, "")
    table.add_row("connector", data["connector"])
    table.add_row("hold", styled(state, colour))
    hold = data.get("hold")
    if hold:
        table.add_row("by", hold["by"])
        table.add_row("reason", hold["reason"])
        if hold.get("procedure"):
            table.add_row("procedure", hold["procedure"])
        table.add_row("until", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(hold["until"])))
        if data.get("remaining_s") is not None:
            table.add_row("left", f"{data['remaining_s'] / 60:.1f} min")
    if data.get("problem"):
        table.add_row("problem", data["problem"])
    console.print(table)


def _show(store: HoldStore, connector: str, as_json: bool) -> HoldState:
    """Print the connector's hold as it reads back from the topic; its state."""
    view = store.current(connector)
    emit({"connector": connector, **view.to_json(store.clock())}, as_json, _render)
    return view.state


def hold_command(  # noqa: PLR0917 - typer maps each parameter to an option
    stage: StageOption,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="why (shown to everyone; required to hold)")
    ] = None,
    for_: Annotated[
        float,
        typer.Option(
            "--for",
            parser=params.duration,
            help=f"how long (90s, 30m, 2h; at most {MAX_HOLD_S // 3600}h; renew to extend)",
        ),
    ] = DEFAULT_HOLD_S,
    show: Annotated[bool, typer.Option("--show", help="show the current hold, change nothing")] = False,
    source: SourceOption = HeldSource.ORACLE,
    bootstrap: BootstrapOption = None,
    auth: KafkaAuthOption = None,
    region: KafkaRegionOption = None,
    as_json: JsonOption = False,
) -> int:
    """Hold the stage's connector: its agents only watch (no config writes, no restarts) until the
    hold expires or is released. Exit 0 held (or, with --show, 0 held / 3 not held).
    Without --bootstrap, $KAFKA_BOOTSTRAP_SERVERS (set in a task's agent container) is used."""
    store, names = open_store(stage, bootstrap, auth, region)
    connector = connector_name(names, source)
    try:
        if show:
            return 0 if _show(store, connector, as_json) is HoldState.HELD else 3
        if not reason or not reason.strip():
            raise InputError('a hold needs --reason "..." (everyone who looks at the stage sees it)')
        hold = Hold.new(connector, by=operator_identity(), reason=reason, now=store.clock(), ttl_s=for_)
        store.put(hold)
        _show(store, connector, as_json)
        return 0
    finally:
        store.close()


def release_command(  # noqa: PLR0917 - typer maps each parameter to an option
    stage: StageOption,
    source: SourceOption = HeldSource.ORACLE,
    bootstrap: BootstrapOption = None,
    auth: KafkaAuthOption = None,
    region: KafkaRegionOption = None,
    as_json: JsonOption = False,
) -> int:
    """End the stage's hold now: the newest agent reconciles the connector at its next cycle."""
    store, names = open_store(stage, bootstrap, auth, region)
    connector = connector_name(names, source)
    try:
        store.release(connector)
        _show(store, connector, as_json)
        return 0
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    app.command("hold")(hold_command)
    app.command("release")(release_command)
