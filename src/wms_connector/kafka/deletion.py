"""Which topics the deletion of an ephemeral stage may remove. Every rule is here (pure).

Deleting topics is the one irreversible thing this repository does to Kafka, so the selection
is a pure function of (stage, the topic names on the broker), written to be read in one sitting:

1. **Only an ephemeral stage.** A named stage (``main``, ``val``, ``production``) is refused
   with :class:`NamedStageDeletionError` (exit 2), whatever the flags, before the broker is
   even contacted. Non-namespaced topics are never deleted by anything in this repository.
2. **Candidates.** The stage's own topics from the specs (``names_for(stage).all_topics``) that
   exist on the broker, plus at most the broker's topics that start with the stage's full
   namespace ``--wms--S--`` (e.g. a topic Debezium created on its own under ``topic.prefix``).
   Nothing else is even considered.
3. **Protections.** Every candidate must pass every check of :func:`protection_violated`;
   one that fails any is *spared* and shown with the reason. They restate rule 2 on purpose
   (defence in depth: a bug in the candidate step cannot delete anything):

   a. never a topic that does not start with this stage's namespace;
   b. never a topic whose namespace names another stage (the owner is parsed back out of the
      name and must equal this stage);
   c. never a topic of a named stage (any name in a named stage's ``all_topics``);
   d. never an internal topic: a name starting with ``__`` (``__consumer_offsets``,
      ``__transaction_state``, anyone's ``__...``).

Why (a) alone already keeps stages apart: a stage never contains ``--`` and never ends with
``-``, so ``--wms--A--`` is a prefix of ``--wms--B--`` only when ``A == B`` (the first ``--``
after ``--wms--`` ends the stage name in both). The namespaces are prefix-free, and no topic can
carry two stages' namespaces at its start. ``tests/unit/test_topic_deletion.py`` checks this with
hypothesis over pairs of valid stage names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Final

from wms_connector.errors import InputError
from wms_connector.naming import NAMESPACE_MARK, names_for, topic_namespace
from wms_connector.stages import NAMED_STAGES, Stage, stage_problem

INTERNAL_TOPIC_PREFIX: Final = "__"
_NAMESPACE_END: Final = "--"


class NamedStageDeletionError(InputError):
    """Deletion asked for a named stage: refused, whatever the flags."""


@dataclass(frozen=True)
class DeletionSelection:
    stage: Stage
    #: Topics to delete: on the broker, candidates, past every protection. Sorted.
    selected: tuple[str, ...]
    #: Candidates a protection stopped, with the reason. Empty unless something is badly wrong.
    spared: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage.name,
            "delete": list(self.selected),
            "spared": [{"topic": topic, "reason": reason} for topic, reason in self.spared],
        }


def owner_of(topic: str) -> str | None:
    """The ephemeral stage whose namespace ``topic`` starts with, or ``None``.

    ``--wms--a-b--x`` -> ``a-b``. The stage is what lies between ``--wms--`` and the next ``--``;
    it is returned only when it is a valid stage name.
    """
    if not topic.startswith(NAMESPACE_MARK):
        return None
    rest = topic[len(NAMESPACE_MARK) :]
    end = rest.find(_NAMESPACE_END)
    if end <= 0:
        return None
    owner = rest[:end]
    return owner if stage_problem(owner) is None else None


@cache
def _named_stage_topics() -> frozenset[str]:
    return frozenset(topic for name in NAMED_STAGES for topic in names_for(Stage(name)).all_topics)


def require_ephemeral(stage: Stage) -> None:
    """Rule 1: refuse a named stage."""
    if not stage.is_ephemeral:
        raise NamedStageDeletionError(
            f"stage {stage.name!r} is a named stage: its topics are never deleted by this tool "
            "(only ephemeral branch stages can be deleted)"
        )


def protection_violated(stage: Stage, topic: str) -> str | None:
    """Rule 3: the first protection ``topic`` breaks for a deletion of ``stage``, or ``None``."""
    namespace = topic_namespace(stage)
    if not namespace or not topic.startswith(namespace):
        return f"does not start with the namespace of stage {stage.name!r} ({namespace or 'none'})"
    owner = owner_of(topic)
    if owner != stage.name:
        return f"belongs to stage {owner!r}, not {stage.name!r}"
    if topic in _named_stage_topics():
        return "is a topic of a named stage"
    if topic.startswith(INTERNAL_TOPIC_PREFIX):
        return "is an internal Kafka topic (starts with '__')"
    return None


def select_for_deletion(stage: Stage, on_broker: Iterable[str]) -> DeletionSelection:
    """The topics a deletion of ``stage`` removes, given the topic names on the broker."""
    require_ephemeral(stage)
    present = set(on_broker)
    namespace = topic_namespace(stage)
    exact = [topic for topic in names_for(stage).all_topics if topic in present]
    extra = sorted(topic for topic in present if topic.startswith(namespace) and topic not in exact)
    selected: list[str] = []
    spared: list[tuple[str, str]] = []
    for topic in (*exact, *extra):
        reason = protection_violated(stage, topic)
        if reason is None:
            selected.append(topic)
        else:
            spared.append((topic, reason))
    return DeletionSelection(stage, tuple(sorted(selected)), tuple(spared))
