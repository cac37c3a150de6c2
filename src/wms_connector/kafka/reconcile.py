"""Desired topics vs the broker's actual topics -> a plan of actions (pure).

Desired comes from ``topics.topic_specs``; actual is what the broker describes. The plan says,
for every spec, one of:

* ``create``: the topic is missing; create it exactly as specified.
* ``ok``: partitions, replication factor and every key we set are as specified. Keys we do not
  set (broker defaults, anything an operator added) are never looked at.
* ``alter-config``: some configs differ and changing them is *safe*: it cannot delete a record
  that the specified config would keep. ``changes`` holds the keys to set.
* ``report``: something differs that we must not fix ourselves; ``problems`` says what and why.
  A topic can have both an ``alter-config`` and a ``report`` action.

What is safe to fix (the table below is the whole policy):

==================== ==========================================================================
difference           decision
==================== ==========================================================================
partitions           report: adding partitions re-maps keys (breaks per-key order), removing
                     is impossible; the schema history topic must stay at exactly 1
replication factor   report: a reassignment is an operator's job (MSK, throttles)
retention.ms/.bytes  fix when the specified value keeps at least as much (``-1`` is infinite);
                     report when it would shorten retention (that deletes data)
cleanup.policy       fix when the specified policy is ``compact`` (Connect's internal topics; the
                     data topics, which are the tables' replicas): ``delete`` -> ``compact`` (or
                     ``compact,delete`` -> ``compact``) stops deleting by age and removes only
                     versions superseded by a newer one older than ``min.compaction.lag.ms``,
                     which is set in the same request, so no row's latest state is ever lost;
                     also fix when the specified retention is infinite (``delete`` with ``-1``
                     deletes nothing, e.g. schema history). Report otherwise: ``compact`` ->
                     ``delete`` with a finite retention deletes every row not changed within it,
                     and a switch to ``compact`` is held back while its
                     ``min.compaction.lag.ms`` cannot be set (below)
min.compaction.lag.ms fix when the specified value is at least the actual one (more history kept);
delete.retention.ms  report when it would shorten it (versions or tombstones a lagging consumer
                     still needs would go)
min.insync.replicas  fix (durability only; no record is deleted), except above the topic's actual
                     replication factor: then every ``acks=all`` write (Connect's, Debezium's)
                     would fail, so report
==================== ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from wms_connector.kafka.topics import INFINITE, TopicSpec


class ActionKind(StrEnum):
    CREATE = "create"
    OK = "ok"
    ALTER_CONFIG = "alter-config"
    REPORT = "report"


@dataclass(frozen=True)
class TopicState:
    """What the broker says about one topic. ``config`` may hold every key the broker reports."""

    partitions: int
    replication_factor: int
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    spec: TopicSpec
    #: ``alter-config``: key -> the value to set.
    changes: Mapping[str, str] = field(default_factory=dict)
    #: ``report``: one sentence per difference left alone.
    problems: tuple[str, ...] = ()
    #: ``alter-config``: key -> the value the broker has now (``None``: not set on the topic).
    current: Mapping[str, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.kind.value,
            "topic": self.spec.name,
            "role": self.spec.role.value,
            "changes": dict(sorted(self.changes.items())),
            "current": {key: self.current.get(key) for key in sorted(self.changes)},
            "problems": list(self.problems),
        }


_RETENTION_KEYS: Final = ("retention.ms", "retention.bytes")
#: Compaction's history keys: a larger value keeps more (broker default when unset: 0 and 1 day).
_COMPACTION_KEYS: Final = {"min.compaction.lag.ms": "0", "delete.retention.ms": "86400000"}


def _policy(value: str) -> frozenset[str]:
    """``cleanup.policy`` as a set: the broker may echo ``compact,delete`` in either order."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _keeps_at_least(desired: str, actual: str) -> bool:
    """Whether retention ``desired`` keeps every record ``actual`` keeps (``-1`` = forever)."""
    try:
        want, have = int(desired), int(actual)
    except ValueError:
        return False
    if want < 0:
        return True
    return have >= 0 and want >= have


def _same(key: str, desired: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if key == "cleanup.policy":
        return _policy(desired) == _policy(actual)
    return desired == actual


def _config_decision(
    spec: TopicSpec, key: str, desired: str, actual: str | None, replication_factor: int
) -> str | None:
    """``None`` when fixing ``key`` is safe, else the reason it is left alone."""
    if key == "min.insync.replicas" and not (desired.isdigit() and int(desired) <= replication_factor):
        return (
            f"min.insync.replicas is {actual}, specified {desired}, but the topic has only "
            f"{replication_factor} replica(s): acks=all writes would fail; fix the replication factor first"
        )
    if key in _RETENTION_KEYS:
        if actual is None or _keeps_at_least(desired, actual):
            return None
        return f"{key} is {actual}, specified {desired}: shortening retention deletes data; change it by hand"
    if key in _COMPACTION_KEYS:
        have = _COMPACTION_KEYS[key] if actual is None else actual
        if desired.lstrip("-").isdigit() and have.lstrip("-").isdigit() and int(desired) >= int(have):
            return None
        return (
            f"{key} is {actual}, specified {desired}: a shorter value lets the cleaner remove versions "
            "or tombstones a lagging consumer still needs; change it by hand"
        )
    if key == "cleanup.policy":
        infinite = spec.config.get("retention.ms") == INFINITE
        if _policy(desired) == {"compact"} or infinite:
            return None
        return (
            f"cleanup.policy is {actual}, specified {desired}: with a finite retention the change "
            "deletes data; change it by hand"
        )
    return None


def plan_topics(specs: Sequence[TopicSpec], actual: Mapping[str, TopicState]) -> list[Action]:
    """The actions that bring the broker to ``specs``; topics not in ``specs`` are ignored."""
    actions: list[Action] = []
    for spec in specs:
        state = actual.get(spec.name)
        if state is None:
            actions.append(Action(ActionKind.CREATE, spec))
            continue
        problems: list[str] = []
        if state.partitions != spec.partitions:
            problems.append(
                f"has {state.partitions} partitions, specified {spec.partitions}: "
                "left alone (changing partitions breaks ordering); recreate it deliberately if needed"
            )
        if state.replication_factor != spec.replication_factor:
            problems.append(
                f"has replication factor {state.replication_factor}, specified {spec.replication_factor}: "
                "left alone (reassign partitions with the MSK/Kafka tools)"
            )
        changes: dict[str, str] = {}
        held: list[str] = []
        for key, desired in spec.config.items():
            have = state.config.get(key)
            if _same(key, desired, have):
                continue
            reason = _config_decision(spec, key, desired, have, state.replication_factor)
            if reason is None:
                changes[key] = desired
            else:
                problems.append(reason)
                held.append(key)
        if "cleanup.policy" in changes and "compact" in _policy(changes["cleanup.policy"]):
            blocked = [key for key in held if key in _COMPACTION_KEYS]
            if blocked:
                # Compacting with a shorter history window than specified would remove versions
                # the window promises: switch the policy only together with its window.
                del changes["cleanup.policy"]
                problems.append(
                    f"cleanup.policy stays {state.config.get('cleanup.policy')} until "
                    f"{', '.join(blocked)} can be set as specified"
                )
        if changes:
            current = {key: state.config.get(key) for key in changes}
            actions.append(Action(ActionKind.ALTER_CONFIG, spec, changes=changes, current=current))
        if problems:
            actions.append(Action(ActionKind.REPORT, spec, problems=tuple(problems)))
        if not changes and not problems:
            actions.append(Action(ActionKind.OK, spec))
    return actions
