"""The I/O shell around the pure topic code: read the broker, then create, alter or delete.

``reconcile_topics`` = read actual -> ``kafka.reconcile.plan_topics`` -> apply (unless dry run).
``delete_stage_topics`` = list names -> ``kafka.deletion.select_for_deletion`` -> delete (unless
dry run) -> confirm they are gone. Both run under an optional monotonic ``deadline`` so the
Lambda can stop before its own timeout; every broker call gets the time that remains.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from wms_connector.errors import WmsError
from wms_connector.kafka.client import client_config, require_reachable
from wms_connector.kafka.deletion import DeletionSelection, require_ephemeral, select_for_deletion
from wms_connector.kafka.reconcile import Action, ActionKind, TopicState, plan_topics
from wms_connector.kafka.topics import TopicSpec
from wms_connector.naming import names_for
from wms_connector.stages import KafkaAuth, Stage

#: Upper bound for one broker round trip when no deadline is tighter.
DEFAULT_TIMEOUT_S: Final = 30.0
#: How often to re-list topics while waiting for a create or delete to show in the metadata.
_POLL_S: Final = 0.2
#: Longest single metadata call (so Ctrl-C acts within about this long).
_SLICE_S: Final = 1.0
_RETRY_CODES: Final = frozenset({KafkaError._TIMED_OUT, KafkaError._TRANSPORT})


class KafkaUnavailableError(WmsError):
    """The broker could not be reached or answered with an error."""


class DeadlineExceededError(WmsError):
    """The work did not finish before the caller's deadline."""


def _reason(error: KafkaException) -> str:
    """librdkafka's message without the ``KafkaError{code=...}`` wrapping."""
    first = error.args[0] if error.args else None
    return str(first.str()) if isinstance(first, KafkaError) else str(error)


class TopicAdmin:
    """A thin wrapper over confluent-kafka's ``AdminClient`` that speaks our value types."""

    def __init__(self, admin: AdminClient, *, deadline: float | None = None) -> None:
        self._admin = admin
        self._deadline = deadline

    @classmethod
    def connect(
        cls, bootstrap: str, auth: KafkaAuth, *, region: str | None = None, deadline: float | None = None
    ) -> TopicAdmin:
        config = client_config(bootstrap, auth, region=region)
        try:
            admin = AdminClient(config)
            if auth is KafkaAuth.IAM:
                # librdkafka asks for the first OAUTHBEARER token from poll(); serve it now.
                admin.poll(1.0)
        except KafkaException as error:
            # E.g. IAM auth without AWS credentials: the client cannot get its first token.
            hint = "; check the AWS credentials and --region" if auth is KafkaAuth.IAM else ""
            raise KafkaUnavailableError(
                f"cannot open a Kafka client for {bootstrap} ({auth.value} auth): {error}{hint}"
            ) from error
        # One clear line, within seconds, instead of librdkafka retrying for the whole timeout.
        require_reachable(bootstrap)
        return cls(admin, deadline=deadline)

    def timeout(self) -> float:
        """Seconds one call may take: the default, or less when the deadline is closer."""
        if self._deadline is None:
            return DEFAULT_TIMEOUT_S
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceededError("the deadline passed before the topic work finished")
        return min(DEFAULT_TIMEOUT_S, left)

    def _metadata(self) -> Any:
        """The cluster metadata, asked in slices of at most ``_SLICE_S``: librdkafka blocks in C
        for the whole timeout, and Python acts on Ctrl-C only between calls."""
        deadline = time.monotonic() + self.timeout()
        while True:
            left = deadline - time.monotonic()
            try:
                return self._admin.list_topics(timeout=max(0.05, min(_SLICE_S, left)))
            except KafkaException as error:
                timed_out = error.args and error.args[0].code() in _RETRY_CODES
                if not timed_out or time.monotonic() >= deadline:
                    raise

    def topic_names(self) -> set[str]:
        try:
            metadata = self._metadata()
        except KafkaException as error:
            raise KafkaUnavailableError(f"cannot list topics: {_reason(error)}") from error
        return {name for name, topic in metadata.topics.items() if topic.error is None}

    def broker_count(self) -> int:
        """How many brokers the cluster's metadata lists."""
        try:
            metadata = self._metadata()
        except KafkaException as error:
            raise KafkaUnavailableError(
                f"the cluster does not answer Kafka metadata requests ({_reason(error)}); is it a Kafka "
                "broker, with the right --auth?"
            ) from error
        return len(metadata.brokers)

    def group_members(self, group: str) -> list[str]:
        """Client ids of the live members of consumer/Connect group ``group`` (empty when none).

        ``describe_consumer_groups`` refuses Connect groups (protocol type ``connect``); the older
        ``list_groups`` (DescribeGroups for any protocol type) answers for both.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                groups = self._admin.list_groups(group, timeout=self.timeout())
            except KafkaException as error:
                raise KafkaUnavailableError(f"cannot describe group {group}: {error}") from error
        return sorted(
            str(member.client_id)
            for found in groups
            if found.id == group and found.state not in ("Empty", "Dead")
            for member in found.members
        )

    def describe(self, names: Iterable[str]) -> dict[str, TopicState]:
        """Partitions, replication factor and configs of those ``names`` that exist."""
        wanted = set(names)
        try:
            metadata = self._metadata()
        except KafkaException as error:
            raise KafkaUnavailableError(f"cannot list topics: {_reason(error)}") from error
        present = {
            name: meta for name, meta in metadata.topics.items() if name in wanted and meta.error is None
        }
        if not present:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in sorted(present)]
        futures = self._admin.describe_configs(resources, request_timeout=self.timeout())
        configs: dict[str, dict[str, str]] = {}
        for resource, future in futures.items():
            try:
                entries = future.result(timeout=self.timeout())
            except KafkaException as error:
                raise KafkaUnavailableError(f"cannot describe topic {resource.name}: {error}") from error
            configs[resource.name] = {
                key: entry.value for key, entry in entries.items() if entry.value is not None
            }
        states = {}
        for name, meta in present.items():
            replicas = [len(partition.replicas) for partition in meta.partitions.values()]
            states[name] = TopicState(
                partitions=len(meta.partitions),
                replication_factor=min(replicas) if replicas else 0,
                config=configs.get(name, {}),
            )
        return states

    def end_offsets(self, names: Iterable[str]) -> dict[str, int]:
        """Topic -> the sum of its partitions' end offsets, for those ``names`` that exist."""
        wanted = set(names)
        try:
            metadata = self._admin.list_topics(timeout=self.timeout())
        except KafkaException as error:
            raise KafkaUnavailableError(f"cannot list topics: {error}") from error
        request = {
            TopicPartition(name, partition): OffsetSpec.latest()  # type: ignore[no-untyped-call]
            for name, meta in metadata.topics.items()
            if name in wanted and meta.error is None
            for partition in meta.partitions
        }
        if not request:
            return {}
        totals: dict[str, int] = {}
        for tp, future in self._admin.list_offsets(request, request_timeout=self.timeout()).items():
            try:
                offset = int(future.result(timeout=self.timeout()).offset)
            except KafkaException as error:
                raise KafkaUnavailableError(f"cannot read the end offset of {tp.topic}: {error}") from error
            totals[tp.topic] = totals.get(tp.topic, 0) + max(offset, 0)
        return totals

    def create(self, specs: Sequence[TopicSpec]) -> dict[str, str | None]:
        """Create ``specs``; topic -> ``None`` on success or the broker's error."""
        if not specs:
            return {}
        new = [
            NewTopic(
                s.name, num_partitions=s.partitions, replication_factor=s.replication_factor, config=s.config
            )
            for s in specs
        ]
        futures = self._admin.create_topics(new, request_timeout=self.timeout())
        outcomes = {name: _outcome(future, self.timeout()) for name, future in futures.items()}
        missing = self.wait_listed(name for name, error in outcomes.items() if error is None)
        return outcomes | {name: "created but not listed in time" for name in missing}

    def alter(self, name: str, changes: dict[str, str]) -> str | None:
        """Set ``changes`` on topic ``name`` (incremental: other keys are untouched)."""
        entries = [
            ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
            for key, value in changes.items()
        ]
        resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
        futures = self._admin.incremental_alter_configs([resource], request_timeout=self.timeout())
        error = next(_outcome(future, self.timeout()) for future in futures.values())
        if error is not None:
            return error
        # The controller accepts the change before the broker that answers describes shows it.
        give_up = time.monotonic() + self.timeout()
        while True:
            state = self.describe([name]).get(name)
            if state is not None and all(state.config.get(k) == v for k, v in changes.items()):
                return None
            if time.monotonic() >= give_up:
                return "altered but the new config did not show in time"
            time.sleep(_POLL_S)

    def delete(self, names: Sequence[str]) -> dict[str, str | None]:
        if not names:
            return {}
        futures = self._admin.delete_topics(list(names), request_timeout=self.timeout())
        # A topic someone else deleted meanwhile is as gone as we want it.
        gone = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART})
        return {name: _outcome(future, self.timeout(), ignore=gone) for name, future in futures.items()}

    def wait_gone(self, names: Iterable[str]) -> set[str]:
        """Wait until ``names`` are no longer listed; return those still listed when time ran out."""
        return self._wait(set(names), listed=False)

    def wait_listed(self, names: Iterable[str]) -> set[str]:
        """Wait until ``names`` are listed (metadata lags a create); return those still missing."""
        return self._wait(set(names), listed=True)

    def _wait(self, pending: set[str], *, listed: bool) -> set[str]:
        give_up = time.monotonic() + self.timeout()
        while pending:
            names = self.topic_names()
            pending = {t for t in pending if (t in names) != listed}
            if not pending or time.monotonic() >= give_up:
                break
            time.sleep(_POLL_S)
        return pending


def _outcome(future: Any, timeout: float, *, ignore: frozenset[int] = frozenset()) -> str | None:
    """``None`` when the admin future succeeded (or failed with an ignored error code)."""
    try:
        future.result(timeout=timeout)
    except KafkaException as error:
        detail = error.args[0] if error.args else None
        if isinstance(detail, KafkaError) and detail.code() in ignore:
            return None
        return str(detail.str() if isinstance(detail, KafkaError) else error)
    except TimeoutError:
        return f"no answer from the broker within {timeout:.0f} s"
    return None


# ---------------------------------------------------------------------------------------------
# Reconcile (create / fix)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    action: Action
    #: The broker's error, ``None`` when it succeeded or was not attempted (see ``applied``).
    error: str | None = None
    applied: bool = False

    def to_json(self) -> dict[str, object]:
        return {**self.action.to_json(), "applied": self.applied, "error": self.error}


@dataclass(frozen=True)
class ReconcileResult:
    dry_run: bool
    results: tuple[ActionResult, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> list[ActionResult]:
        return [r for r in self.results if r.error]

    @property
    def unfixable(self) -> list[ActionResult]:
        return [r for r in self.results if r.action.kind is ActionKind.REPORT]

    def to_json(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "actions": [r.to_json() for r in self.results]}


def reconcile_topics(
    admin: TopicAdmin, specs: Sequence[TopicSpec], *, dry_run: bool, refuse_unsafe: bool = False
) -> ReconcileResult:
    """Bring the broker to ``specs``: create the missing, fix the safe, report the rest.

    ``refuse_unsafe``: when the plan holds a ``report``, apply nothing at all (the result is then
    the unapplied plan); the deploy-time custom resource wants all or nothing.
    """
    actions = plan_topics(specs, admin.describe(s.name for s in specs))
    if dry_run or (refuse_unsafe and any(a.kind is ActionKind.REPORT for a in actions)):
        return ReconcileResult(True, tuple(ActionResult(a) for a in actions))
    to_create = [a.spec for a in actions if a.kind is ActionKind.CREATE]
    created = admin.create(to_create)
    results = []
    for action in actions:
        if action.kind is ActionKind.CREATE:
            error = created.get(action.spec.name)
            results.append(ActionResult(action, error, applied=error is None))
        elif action.kind is ActionKind.ALTER_CONFIG:
            error = admin.alter(action.spec.name, dict(action.changes))
            results.append(ActionResult(action, error, applied=error is None))
        else:
            results.append(ActionResult(action))
    return ReconcileResult(False, tuple(results))


# ---------------------------------------------------------------------------------------------
# Delete (ephemeral stages only; the selection rules live in kafka.deletion)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeleteResult:
    selection: DeletionSelection
    dry_run: bool
    #: topic -> error, for deletions the broker refused.
    errors: dict[str, str] = field(default_factory=dict)
    #: Topics deleted without error but still listed when the wait ran out.
    still_listed: tuple[str, ...] = ()
    #: A plan only: why the real deletion would be refused now (the one the real run raises).
    refusal: str | None = None

    @property
    def deleted(self) -> list[str]:
        if self.dry_run:
            return []
        return [t for t in self.selection.selected if t not in self.errors and t not in self.still_listed]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.still_listed

    def to_json(self) -> dict[str, object]:
        return {
            **self.selection.to_json(),
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "errors": dict(sorted(self.errors.items())),
            "still_listed": list(self.still_listed),
            "refusal": self.refusal,
        }


class ConnectStillRunningError(WmsError):
    """The stage's Connect group still has members: its workers would re-create the topics."""


def plan_stage_deletion(admin: TopicAdmin, stage: Stage) -> DeletionSelection:
    require_ephemeral(stage)  # before any broker call
    return select_for_deletion(stage, admin.topic_names())


def delete_stage_topics(admin: TopicAdmin, stage: Stage, *, dry_run: bool) -> DeleteResult:
    """Delete the stage's own topics (see ``kafka.deletion`` for the rules) and confirm they went.

    Refused while the stage's Connect group has live members: deleting topics under running
    workers loses their state mid-flight and they re-create their internal topics at once.
    """
    selection = plan_stage_deletion(admin, stage)
    if not selection.selected:
        return DeleteResult(selection, dry_run)
    # The same check for a plan and for the real deletion: a plan says why the deletion would fail.
    group = names_for(stage).group_id
    members = admin.group_members(group)
    refusal = (
        f"stage {stage.name!r}: Connect group {group} still has {len(members)} member(s) "
        f"({', '.join(members)}); stop the stage's Connect service first, then delete again"
        if members
        else None
    )
    if dry_run:
        return DeleteResult(selection, dry_run, refusal=refusal)
    if refusal is not None:
        raise ConnectStillRunningError(refusal)
    outcomes = admin.delete(selection.selected)
    errors = {topic: error for topic, error in outcomes.items() if error is not None}
    remaining = admin.wait_gone(t for t in selection.selected if t not in errors)
    return DeleteResult(selection, dry_run, errors, tuple(sorted(remaining)))
