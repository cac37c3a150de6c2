"""The hold topic: read the latest hold per connector, write a hold or a release, and hold a
connector for the length of a procedure (the shell around :mod:`wms_connector.hold.record`).

Reading: a consumer assigned to the topic's one partition, never in a group and never committing,
so it needs no group rights and leaves nothing behind. The agent keeps one reader open and, each
cycle, reads what was appended since (normally nothing); a one-shot reader (the CLI) reads the
compacted topic from its start.

Writing: ``acks=all`` and idempotent, flushed before returning, so when ``hold`` returns every
agent that reads afterwards sees the hold.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

from wms_connector.errors import WmsError
from wms_connector.hold.record import DEFAULT_HOLD_S, Hold, HoldState, HoldView, view_of
from wms_connector.kafka.client import client_config
from wms_connector.naming import StageNames
from wms_connector.stages import KafkaAuth

#: Seconds one read or write of the hold topic may take before it counts as unreadable.
IO_TIMEOUT_S: Final = 10.0
#: The background renewal of :func:`held` writes again when this share of the hold is left.
RENEW_AT_FRACTION: Final = 0.5


class HoldTopicError(WmsError):
    """The hold topic could not be read or written."""


def operator_identity(env: dict[str, str] | None = None) -> str:
    """Who is acting, for the hold record and audit lines: ``user@host`` (``WMS_OPERATOR``
    overrides it, e.g. a CI job's name)."""
    values = os.environ if env is None else env
    explicit = values.get("WMS_OPERATOR")
    if explicit:
        return explicit
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass
class HoldStore:
    """The hold topic of one stage."""

    bootstrap: str
    auth: KafkaAuth
    names: StageNames
    region: str | None = None
    clock: Callable[[], float] = time.time
    _consumer: Consumer | None = field(default=None, init=False, repr=False)
    _latest: dict[str, Hold | None] = field(default_factory=dict, init=False, repr=False)
    _next_offset: int = field(default=OFFSET_BEGINNING, init=False, repr=False)

    @property
    def topic(self) -> str:
        return self.names.hold_topic

    def _config(self) -> dict[str, Any]:
        return client_config(self.bootstrap, self.auth, region=self.region)

    # -- reading ------------------------------------------------------------------------------
    def _open(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                self._config()
                | {
                    # Required by the client; never joined (assign, not subscribe) or committed.
                    "group.id": self.names.hold_reader_group,
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "fetch.wait.max.ms": 50,
                    # Tells the reader it has reached the end (one event per assignment).
                    "enable.partition.eof": True,
                }
            )
        return self._consumer

    def _read_new(self) -> None:
        """Read from where the last read ended to the partition's end (the whole compacted topic
        the first time), keeping the latest record per connector."""
        consumer = self._open()
        consumer.assign([TopicPartition(self.topic, 0, self._next_offset)])
        deadline = time.monotonic() + IO_TIMEOUT_S
        while True:
            if time.monotonic() > deadline:
                raise HoldTopicError(f"reading the hold topic {self.topic} took over {IO_TIMEOUT_S:g} s")
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._next_offset = message.offset() or 0
                    return
                raise HoldTopicError(f"cannot read the hold topic {self.topic}: {error.str()}")
            self._next_offset = (message.offset() or 0) + 1
            self._remember(message.key(), message.value())

    def _remember(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        connector = key.decode("utf-8", errors="replace")
        if value is None:
            self._latest[connector] = None
            return
        try:
            self._latest[connector] = Hold.decode(value)
        except ValueError:
            # A record we cannot read must not silently end a hold someone set: it is reported as
            # unknown until a valid record replaces it.
            self._latest[connector] = _UNREADABLE

    def current(self, connector: str) -> HoldView:
        """The connector's hold as of now; ``UNKNOWN`` (never an exception) when unreadable."""
        now = self.clock()
        try:
            self._read_new()
        except HoldTopicError as error:
            return HoldView(HoldState.UNKNOWN, problem=str(error))
        latest = self._latest.get(connector)
        if latest is _UNREADABLE:
            return HoldView(HoldState.UNKNOWN, problem="the latest hold record is not readable")
        return view_of(latest, now)

    # -- writing ------------------------------------------------------------------------------
    def _write(self, connector: str, value: bytes | None) -> None:
        producer = Producer(self._config() | {"acks": "all", "enable.idempotence": True})
        outcome: list[KafkaError | None] = []

        def delivered(error: KafkaError | None, _message: object) -> None:
            outcome.append(error)

        try:
            producer.produce(self.topic, key=connector.encode("utf-8"), value=value, on_delivery=delivered)
        except KafkaException as error:
            raise HoldTopicError(f"cannot write the hold topic {self.topic}: {_reason(error)}") from None
        left = producer.flush(IO_TIMEOUT_S)
        if left or not outcome:
            raise HoldTopicError(
                f"the hold topic {self.topic} did not acknowledge the write within {IO_TIMEOUT_S:g} s; "
                "is the cluster up and does the topic exist (`wms-connector topics create`)?"
            )
        if outcome[0] is not None:
            raise HoldTopicError(f"the hold topic {self.topic} refused the write: {outcome[0].str()}")

    def put(self, hold: Hold) -> None:
        self._write(hold.connector, hold.encode())

    def release(self, connector: str) -> None:
        self._write(connector, None)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def _reason(error: KafkaException) -> str:
    first = error.args[0] if error.args else None
    return first.str() if isinstance(first, KafkaError) else type(error).__name__


#: Marks a connector whose latest record could not be decoded.
_UNREADABLE: Final = Hold("?", "?", "?", 0.0, 1.0)


@dataclass
class HeldProcedure:
    """The hold of a running procedure (see :func:`held`)."""

    hold: Hold
    renewals: int = 0


@contextmanager
def held(
    store: HoldStore,
    connector: str,
    *,
    reason: str,
    procedure: str,
    by: str | None = None,
    ttl_s: float = DEFAULT_HOLD_S,
    on_kept: Callable[[Hold], None] | None = None,
) -> Iterator[HeldProcedure]:
    """Hold ``connector`` while the block runs: set now, renewed in the background at half its
    time, released when the block succeeds. When the block raises, the hold is KEPT until it
    expires (a half-done procedure must not be "repaired" by the agents) and ``on_kept`` is told,
    so the caller can say how to release it."""
    now = store.clock()
    current = HeldProcedure(
        Hold.new(
            connector, by=by or operator_identity(), reason=reason, now=now, ttl_s=ttl_s, procedure=procedure
        )
    )
    store.put(current.hold)
    stop = threading.Event()
    renew_failed: list[str] = []

    def renew() -> None:
        while not stop.wait(ttl_s * RENEW_AT_FRACTION):
            try:
                current.hold = current.hold.renewed(store.clock(), ttl_s)
                store.put(current.hold)
                current.renewals += 1
            except WmsError as error:
                renew_failed.append(str(error))

    thread = threading.Thread(target=renew, name="hold-renewal", daemon=True)
    thread.start()
    try:
        yield current
    except BaseException:
        stop.set()
        thread.join(timeout=IO_TIMEOUT_S + 1)
        if on_kept is not None:
            on_kept(current.hold)
        raise
    stop.set()
    thread.join(timeout=IO_TIMEOUT_S + 1)
    store.release(connector)
