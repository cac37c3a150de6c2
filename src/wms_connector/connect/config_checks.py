"""Our own checks of a Debezium connector config, stricter than the plugin (pure).

Measured with the real classes (reference/debezium-oracle.md §10): the plugin silently ignores 1.x
names, does not validate the schema-history settings, accepts ``tasks.max=2`` and unknown
enumeration values. Each of those is an error here, found before anything is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from wms_connector.connect.connector_config import ORACLE_CONNECTOR_CLASS, POSTGRES_CONNECTOR_CLASS
from wms_connector.naming import CAPTURED_TABLES, SCHEMAS


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    key: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


#: Debezium 1.x names (removed in 2.0) -> what replaced them. Exact keys.
LEGACY_KEYS: Final[Mapping[str, str]] = {
    "database.server.name": "topic.prefix",
    "log.mining.transaction.retention.hours": "log.mining.transaction.retention.ms",
    "database.history": "schema.history.internal",
}
#: Key prefixes of 1.x families.
LEGACY_PREFIXES: Final[Mapping[str, str]] = {
    "database.history.": "schema.history.internal.",
}
#: Values renamed in 2.x.
LEGACY_VALUES: Final[Mapping[tuple[str, str], str]] = {
    ("snapshot.mode", "schema_only"): "no_data",
    ("snapshot.mode", "schema_only_recovery"): "recovery",
}
#: Oracle tunables that 3.6 removed (they still parse, and do nothing).
REMOVED_IN_36_PREFIXES: Final = (
    "log.mining.batch.size.",
    "log.mining.sleep.time.",
    "log.mining.scn.gap.detection.",
)

ORACLE_ENUMS: Final[Mapping[str, frozenset[str]]] = {
    "snapshot.mode": frozenset(
        {
            "initial",
            "always",
            "initial_only",
            "no_data",
            "recovery",
            "when_needed",
            "configuration_based",
            "custom",
        }
    ),
    "log.mining.strategy": frozenset(
        {"online_catalog", "hybrid", "redo_log_catalog", "dictionary_from_file"}
    ),
    "log.mining.query.filter.mode": frozenset({"none", "in", "regex"}),
    "log.mining.buffer.type": frozenset({"memory", "ehcache", "infinispan_embedded", "infinispan_remote"}),
    "database.connection.adapter": frozenset({"logminer", "logminer_unbuffered", "olr", "xstream"}),
    "snapshot.locking.mode": frozenset({"shared", "none"}),
}
POSTGRES_ENUMS: Final[Mapping[str, frozenset[str]]] = {
    "snapshot.mode": frozenset(
        {
            "initial",
            "always",
            "initial_only",
            "no_data",
            "never",
            "when_needed",
            "configuration_based",
            "custom",
        }
    ),
    "plugin.name": frozenset({"pgoutput", "decoderbufs"}),
    "publication.autocreate.mode": frozenset({"all_tables", "disabled", "filtered", "no_tables"}),
}
COMMON_ENUMS: Final[Mapping[str, frozenset[str]]] = {
    "decimal.handling.mode": frozenset({"precise", "double", "string"}),
    "time.precision.mode": frozenset(
        {"adaptive", "adaptive_time_microseconds", "connect", "isostring", "microseconds", "nanoseconds"}
    ),
    "exactly.once.support": frozenset({"required", "requested"}),
    "event.processing.failure.handling.mode": frozenset({"fail", "warn", "skip", "ignore"}),
    "binary.handling.mode": frozenset({"bytes", "base64", "base64-url-safe", "hex"}),
}
#: Value mappings that lose digits the source holds (issue 15): refused, with what is lost.
LOSSY_VALUES: Final[Mapping[tuple[str, str], str]] = {
    ("time.precision.mode", "connect"): "drops every digit below the millisecond of a TIMESTAMP",
    ("time.precision.mode", "microseconds"): "drops the nanoseconds of TIMESTAMP(7..9)",
    ("decimal.handling.mode", "double"): "rounds NUMBER to a binary double (about 15 digits)",
}
SIGNAL_CHANNELS: Final = frozenset({"source", "kafka", "file", "jmx"})
HISTORY_KEYS: Final = (
    "schema.history.internal.kafka.topic",
    "schema.history.internal.kafka.bootstrap.servers",
)
#: ``${env:NAME}`` (local workers) or ``${dir:/absolute/dir:file}`` (the image; connect.secret_refs).
_PLACEHOLDER: Final = re.compile(
    r"^\$\{(env:[A-Za-z_][A-Za-z0-9_]*|dir:/[A-Za-z0-9_./-]+:[A-Za-z0-9_.-]+)\}$"
)
_SECRET_KEY: Final = re.compile(r"(password|secret|credentials?)$", re.IGNORECASE)


def _err(key: str, message: str) -> Problem:
    return Problem(Severity.ERROR, key, message)


def _warn(key: str, message: str) -> Problem:
    return Problem(Severity.WARNING, key, message)


def _legacy(config: Mapping[str, str]) -> list[Problem]:
    problems = []
    for key, value in config.items():
        if key in LEGACY_KEYS:
            problems.append(_err(key, f"Debezium 1.x name (ignored by 3.x): use {LEGACY_KEYS[key]}"))
        for old, new in LEGACY_PREFIXES.items():
            if key.startswith(old):
                problems.append(
                    _err(key, f"Debezium 1.x name (ignored by 3.x): use {new}{key.removeprefix(old)}")
                )
        if (key, value) in LEGACY_VALUES:
            problems.append(
                _err(key, f"{value!r} was renamed in Debezium 2.x: use {LEGACY_VALUES[key, value]!r}")
            )
    return problems


def _enums(config: Mapping[str, str], enums: Mapping[str, frozenset[str]]) -> list[Problem]:
    problems = []
    for key, allowed in enums.items():
        value = config.get(key)
        if value is not None and value not in allowed and (key, value) not in LEGACY_VALUES:
            problems.append(_err(key, f"{value!r} is not one of {', '.join(sorted(allowed))}"))
    return problems


def _signals(config: Mapping[str, str]) -> list[Problem]:
    raw = config.get("signal.enabled.channels")
    if raw is None:
        return []
    channels = [c.strip() for c in raw.split(",") if c.strip()]
    problems = [
        _err(
            "signal.enabled.channels", f"unknown channel {c!r} (known: {', '.join(sorted(SIGNAL_CHANNELS))})"
        )
        for c in channels
        if c not in SIGNAL_CHANNELS
    ]
    if "kafka" in channels:
        for key in ("signal.kafka.topic", "signal.kafka.bootstrap.servers"):
            if not config.get(key):
                problems.append(_err(key, "required when the kafka signal channel is enabled"))
    return problems


def _scope(config: Mapping[str, str]) -> list[Problem]:
    problems = []
    schemas = {s.strip() for s in config.get("schema.include.list", "").split(",") if s.strip()}
    for schema in SCHEMAS:
        if schema not in schemas:
            problems.append(_err("schema.include.list", f"schema {schema} is missing"))
    tables = {t.strip() for t in config.get("table.include.list", "").split(",") if t.strip()}
    for table in CAPTURED_TABLES:
        if table.qualified not in tables:
            problems.append(_err("table.include.list", f"table {table.qualified} is missing"))
    for extra in sorted(tables - {t.qualified for t in CAPTURED_TABLES}):
        problems.append(_warn("table.include.list", f"{extra} is not one of the four waiver tables"))
    return problems


#: Shorter known secrets are not searched for in config values (they match by accident).
MIN_SEARCHED_SECRET: Final = 8
_SEPARATORS: Final = re.compile(r"[\s\"';,=:/@&?]+")


def _holds(value: str, secret: str) -> bool:
    """``value`` is ``secret``, or holds it as one separator-delimited token."""
    return value == secret or secret in _SEPARATORS.split(value)


def _secrets(config: Mapping[str, str], known_secrets: Iterable[str]) -> list[Problem]:
    problems = []
    password = config.get("database.password")
    if password is None:
        problems.append(
            _err("database.password", "missing: set it to a ${dir:...} or ${env:...} placeholder")
        )
    for key, value in config.items():
        if _SECRET_KEY.search(key) and not _PLACEHOLDER.match(value):
            problems.append(
                _err(
                    key,
                    "a secret must be a ${dir:DIR:FILE} or ${env:NAME} placeholder, never the value itself",
                )
            )
    secrets = []
    for secret in (s for s in known_secrets if s):
        if len(secret) < MIN_SEARCHED_SECRET:
            # "1" or "wms" would match tasks.max or topic.prefix: a false failure that also tells
            # the reader what the password is. Say it is short instead (without saying it).
            problems.append(
                _warn(
                    "database.password",
                    f"the known password is shorter than {MIN_SEARCHED_SECRET} characters: not searched "
                    "for in the config (and too short for a production database)",
                )
            )
        else:
            secrets.append(secret)
    for key, value in config.items():
        # A whole value equal to a secret, or a secret embedded in a value (a URL, a JAAS line)
        # between separators: a short password such as "1" must not flag tasks.max=1's neighbours
        # by substring (that both fails wrongly and reveals the password's content).
        if any(_holds(value, secret) for secret in secrets):
            # Never echo the value: the message names the key only.
            problems.append(_err(key, "holds a known secret value in plaintext"))
    return problems


def check_config(config: Mapping[str, str], known_secrets: Iterable[str] = ()) -> list[Problem]:
    """Every problem found in ``config``; an empty list means our checks pass.

    ``known_secrets`` are real secret values (e.g. the resolved Oracle password) searched for in
    every key and value; messages never contain them.
    """
    problems: list[Problem] = []
    connector_class = config.get("connector.class", "")
    is_oracle = connector_class == ORACLE_CONNECTOR_CLASS
    if connector_class not in (ORACLE_CONNECTOR_CLASS, POSTGRES_CONNECTOR_CLASS):
        problems.append(
            _err("connector.class", f"{connector_class!r} is neither the Oracle connector nor the stand-in")
        )
    problems += _legacy(config)
    if not config.get("name"):
        problems.append(_err("name", "missing"))
    if config.get("tasks.max") != "1":
        problems.append(_err("tasks.max", f"must be 1 (is {config.get('tasks.max')!r}): one ordered stream"))
    if not config.get("topic.prefix"):
        problems.append(_err("topic.prefix", "missing: it fixes every topic name"))
    if is_oracle:
        for key in HISTORY_KEYS:
            if not config.get(key):
                problems.append(
                    _err(key, "required: the plugin does not check it, the task would fail at start")
                )
        for key in ("database.hostname", "database.port", "database.dbname", "database.user"):
            if not config.get(key):
                problems.append(_err(key, "missing"))
        for key in config:
            if key.startswith(REMOVED_IN_36_PREFIXES):
                problems.append(
                    _warn(key, "Debezium <= 3.5 tunable: ignored since 3.6 (use log.mining.log.count.min)")
                )
        if config.get("log.mining.strategy") == "redo_log_catalog":
            problems.append(_warn("log.mining.strategy", "redo_log_catalog is deprecated since 3.6"))
    problems += _enums(config, ORACLE_ENUMS if is_oracle else POSTGRES_ENUMS)
    problems += _enums(config, COMMON_ENUMS)
    if config.get("event.processing.failure.handling.mode") in ("warn", "skip", "ignore"):
        problems.append(
            _err("event.processing.failure.handling.mode", "warn/skip/ignore drop events silently")
        )
    for (key, value), loss in LOSSY_VALUES.items():
        if config.get(key) == value:
            problems.append(_err(key, f"{value!r} {loss}: use the connector's default mapping"))
    problems += _signals(config)
    problems += _scope(config)
    problems += _secrets(config, known_secrets)
    return problems
