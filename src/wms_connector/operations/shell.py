"""The I/O of the operations: Kafka Connect's REST API, the signal topic, the schema history
topic, the workers' JMX exporter pages and the operations log (the shell around the pure modules).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from confluent_kafka import KafkaError, KafkaException, Producer

from wms_connector.connect import exposition
from wms_connector.connect.rest import ConnectApi, ConnectRestError
from wms_connector.errors import InputError, WmsError
from wms_connector.hold.record import Hold
from wms_connector.hold.store import HeldProcedure, HoldStore, held
from wms_connector.kafka.admin import TopicAdmin
from wms_connector.kafka.client import client_config
from wms_connector.kafka.topics import topic_specs
from wms_connector.naming import StageNames
from wms_connector.operations import positions
from wms_connector.operations.procedures import ConnectorState, history_recreation_refusal
from wms_connector.operations.settle import Settled, write_until_stable
from wms_connector.operations.signals import Signal
from wms_connector.stages import KafkaAuth, Stage

#: Seconds a state change (stop, resume, a config PUT) may take before the command says so.
STATE_TIMEOUT_S: Final = 120.0
POLL_S: Final = 0.5
#: The agents read the hold at the start of each cycle (2 s poll): a cycle that began just before
#: the hold was written finishes within this, so nothing the procedure changes afterwards is seen
#: by an agent that missed the hold.
HOLD_SETTLE_S: Final = 3.0
SIGNAL_TIMEOUT_S: Final = 15.0


class ProcedureFailedError(WmsError):
    """A step failed after an earlier step changed something (exit 1; the message says what)."""


@dataclass
class Target:
    """One stage's connector as the operations reach it."""

    stage: Stage
    names: StageNames
    source: str
    connector: str
    api: ConnectApi
    bootstrap: str | None
    auth: KafkaAuth | None
    region: str | None = None
    metrics_urls: tuple[str, ...] = ()
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    _admin: TopicAdmin | None = field(default=None, init=False, repr=False)

    # -- Connect --------------------------------------------------------------------------------
    def state(self) -> ConnectorState:
        try:
            return ConnectorState.of(self.api.status(self.connector))
        except ConnectRestError as error:
            if error.status == 404:
                raise InputError(
                    f"connector {self.connector} is not registered on this Connect cluster: is --stage/"
                    "--source right, and is the stage deployed?"
                ) from None
            raise

    def wait(
        self, done: Callable[[ConnectorState], bool], what: str, timeout_s: float = STATE_TIMEOUT_S
    ) -> ConnectorState:
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state()
            if done(state):
                return state
            if time.monotonic() > deadline:
                raise ProcedureFailedError(
                    f"{self.connector} did not become {what} within {timeout_s:g} s ({state.describe()})"
                )
            self.sleep(POLL_S)

    def config(self) -> dict[str, str]:
        return self.api.get_config(self.connector)

    def settle_offsets(self, write: Callable[[], object], holds: Callable[[], bool], what: str) -> Settled:
        """``write`` the offsets until they stay written (``operations.settle``)."""
        return write_until_stable(write, holds, sleep=self.sleep, clock=time.monotonic, what=what)

    def committed_offsets(self) -> list[dict[str, Any]]:
        """The connector's offset entries that hold a position (a deleted one reads as ``None``)."""
        return [e for e in positions.entries(self.api.offsets(self.connector)) if e["offset"] is not None]

    def plugin_version(self, connector_class: str) -> str | None:
        for plugin in self.api.plugins():
            if plugin.get("class") == connector_class:
                return str(plugin.get("version"))
        return None

    # -- Kafka ----------------------------------------------------------------------------------
    def _need_bootstrap(self) -> tuple[str, KafkaAuth]:
        if not self.bootstrap or self.auth is None:
            raise InputError(
                "missing --bootstrap: give the Kafka bootstrap servers (or set KAFKA_BOOTSTRAP_SERVERS)"
            )
        return self.bootstrap, self.auth

    def admin(self) -> TopicAdmin:
        if self._admin is None:
            bootstrap, auth = self._need_bootstrap()
            self._admin = TopicAdmin.connect(bootstrap, auth, region=self.region)
        return self._admin

    def topic_exists(self, topic: str) -> bool:
        return topic in self.admin().topic_names()

    def send(self, signal: Signal) -> None:
        """One signal record, acknowledged by every in-sync replica before returning."""
        bootstrap, auth = self._need_bootstrap()
        producer = Producer(client_config(bootstrap, auth, region=self.region) | {"acks": "all"})
        outcome: list[KafkaError | None] = []
        try:
            producer.produce(
                signal.topic,
                key=signal.key.encode("utf-8"),
                value=signal.value().encode("utf-8"),
                on_delivery=lambda error, _message: outcome.append(error),
            )
        except KafkaException as error:
            raise WmsError(f"cannot send the signal to {signal.topic}: {error}") from None
        left = producer.flush(SIGNAL_TIMEOUT_S)
        if left or not outcome:
            raise WmsError(
                f"the signal topic {signal.topic} did not acknowledge within {SIGNAL_TIMEOUT_S:g} s"
            )
        if outcome[0] is not None:
            raise WmsError(f"the signal topic {signal.topic} refused the signal: {outcome[0].str()}")

    def recreate_history_topic(self, state: ConnectorState) -> str:
        """Delete and create the schema history topic from its spec (guarded; see
        ``procedures.history_recreation_refusal``). Returns the topic's name."""
        topic = self.names.schema_history_topic
        refusal = history_recreation_refusal(self.names, topic, state)
        if refusal is not None:
            raise ProcedureFailedError(refusal)
        admin = self.admin()
        described = admin.describe([topic]).get(topic)
        rf = described.replication_factor if described is not None else None
        spec = next(s for s in topic_specs(self.stage, replication_factor=rf) if s.name == topic)
        if described is not None:
            errors = {k: v for k, v in admin.delete([topic]).items() if v}
            if errors or admin.wait_gone([topic]):
                raise ProcedureFailedError(f"could not delete {topic}: {errors or 'still listed'}")
        # A topic deleted a moment ago may still be marked for deletion on the controller.
        deadline = time.monotonic() + 60
        while True:
            error = admin.create([spec]).get(topic)
            if error is None:
                return topic
            if time.monotonic() > deadline:
                raise ProcedureFailedError(
                    f"could not re-create {topic}: {error}; create it with `wms-connector topics create`"
                )
            self.sleep(1.0)

    # -- metrics --------------------------------------------------------------------------------
    def metrics(self, context: str) -> dict[str, float]:
        """Debezium's MBean attributes of ``context`` from the worker that runs the task (the
        first exporter page that has them); empty when no page has them."""
        for url in self.metrics_urls:
            try:
                page = httpx.get(url, timeout=5.0).text
            except httpx.HTTPError:
                continue
            found = exposition.debezium(
                exposition.parse(page), server=self.names.topic_prefix, context=context
            )
            if found:
                return found
        return {}

    def close(self) -> None:
        self._admin = None


def new_signal_id() -> str:
    return f"wms-ops-{uuid.uuid4()}"


@contextmanager
def holding(
    store: HoldStore | None,
    connector: str,
    *,
    procedure: str,
    reason: str,
    by: str,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[HeldProcedure | None]:
    """The agents' hold around a procedure (``hold.store.held``), plus one agent cycle of
    settling before the first change; ``store=None`` runs without one (no hold topic reachable is
    refused earlier)."""
    if store is None:
        yield None
        return

    def kept(hold: Hold) -> None:
        say(
            f"the hold on {hold.connector} is KEPT until it expires (the procedure did not finish); "
            f"check the connector, then `wms-connector release --stage ...` to let the agents act again"
        )

    with held(store, connector, reason=reason, procedure=procedure, by=by, on_kept=kept) as current:
        sleep(HOLD_SETTLE_S)
        yield current


def write_offsets_file(path: Path, content: Mapping[str, Any]) -> None:
    """Write the saved offsets; an existing file is never overwritten (it may be the only
    rollback of an earlier reset)."""
    try:
        with path.open("x", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2, sort_keys=True)
            handle.write("\n")
    except FileExistsError:
        raise InputError(
            f"{path} exists: choose another --save-to (an offsets file is never overwritten)"
        ) from None


def append_log(path: Path | None, line: str) -> str | None:
    """Append one line to the operations log; the reason when it could not (never fatal)."""
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as error:
        return f"could not append to the operations log {path}: {error.strerror or type(error).__name__}"
    return None
