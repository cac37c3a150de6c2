"""TEST ONLY: Debezium's JDBC sink connector as the downstream consumer of the round-trip tests.

The sink's jars come from ``tests/sink/pom.xml`` through the same fetch as the runtime's
(``wms_connector.local.fetch``: Maven, checksums, a manifest), into their own directory of the jar
cache, and only the test suite's local workers get that directory on their plugin path: the image
and ``wms-connector local`` never see it.

The sink replays the four stand-in data topics into a second database on the stand-in server
(:meth:`StandInPostgres.create_copy`: the same tables and column types), with upserts keyed by the
record key and deletes, so the two databases can be compared row by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from wms_connector.connect.connector_config import JSON_CONVERTER, STANDIN_PASSWORD_ENV
from wms_connector.connect.secret_refs import env_placeholder
from wms_connector.local.fetch import FetchResult, fetch
from wms_connector.local.paths import cache_dir, repo_root
from wms_connector.local.pom import pinned_versions
from wms_connector.local.standin import KEY_COLUMN, StandInPostgres, flat_quoted, quoted
from wms_connector.naming import CAPTURED_TABLES, SCHEMAS, TableId, names_for
from wms_connector.stages import Stage

SINK_POM: Final = Path("tests") / "sink" / "pom.xml"
SINK_DIST: Final = "test-sink"
SINK_CONNECTOR_CLASS: Final = "io.debezium.connector.jdbc.JdbcSinkConnector"
#: The second database on the stand-in server, where the sink writes.
SINK_DB: Final = "wms_sink"


def fetch_sink() -> FetchResult:
    """The JDBC sink plugin (Maven only when the cache lacks it), in ``.cache/runtime/test-sink``."""
    pom = repo_root() / SINK_POM
    version = pinned_versions(pom.read_text())["debezium-jdbc-sink"]
    jar = f"plugins/debezium-connector-jdbc/debezium-connector-jdbc-{version}.jar"
    return fetch(pom, cache_dir(), dist=SINK_DIST, required=(jar,))


def sink_config(stage: Stage, standin: StandInPostgres) -> dict[str, str]:
    """The JDBC sink's config: the stage's four data topics into :data:`SINK_DB`, upsert + delete."""
    schemas = "|".join(SCHEMAS)
    return {
        "connector.class": SINK_CONNECTOR_CLASS,
        "tasks.max": "1",
        "topics": ",".join(names_for(stage).data_topics.values()),
        # stringtype=unspecified: the decimals arrive as JSON strings (decimal.handling.mode=string)
        # and the server, not the driver, turns them into numeric, digit for digit.
        "connection.url": (
            f"jdbc:postgresql://{standin.host}:{standin.port}/{SINK_DB}?stringtype=unspecified"
        ),
        "connection.username": standin.user,
        "connection.password": env_placeholder(STANDIN_PASSWORD_ENV),
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "schema.evolution": "none",
        "quote.identifiers": "true",
        "use.time.zone": "UTC",
        # <namespace><prefix>.<SCHEMA>.<TABLE> -> <SCHEMA>_<TABLE> (standin.flat_quoted): the sink
        # maps a topic to one table name in its default schema.
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": rf"^.*\.({schemas})\.([A-Z0-9_]+)$",
        "transforms.route.replacement": "$1_$2",
        "key.converter": JSON_CONVERTER,
        "key.converter.schemas.enable": "true",
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "true",
        "errors.tolerance": "none",
    }


Rows = dict[int, tuple[Any, ...]]


def table_rows(
    standin: StandInPostgres, table: TableId, dbname: str, *, flat: bool = False
) -> tuple[tuple[str, ...], Rows]:
    """Every row of ``table`` in ``dbname`` by key, every column, as PostgreSQL returns it
    (``flat``: the sink's copy, :func:`flat_quoted`)."""
    key = KEY_COLUMN[table.table]
    name = flat_quoted(table) if flat else quoted(table)
    with standin.connect(dbname=dbname) as conn:
        cursor = conn.execute(f'SELECT * FROM {name} ORDER BY "{key}"')
        columns = tuple(d.name for d in cursor.description or ())
        rows = {int(row[columns.index(key)]): tuple(row) for row in cursor.fetchall()}  # type: ignore[call-overload]
    return columns, rows


def exact(value: Any) -> Any:
    """A value compared digit for digit: a Decimal by its text (so 1.10 != 1.1: the scale too)."""
    return str(value) if isinstance(value, Decimal) else value


def differences(standin: StandInPostgres, source_db: str, sink_db: str = SINK_DB) -> list[str]:
    """Every difference between the source and the sink database: missing or extra rows, and
    each column that differs, for the four tables. Empty when they are equal."""
    found: list[str] = []
    for table in CAPTURED_TABLES:
        columns, source = table_rows(standin, table, source_db)
        sink_columns, sink = table_rows(standin, table, sink_db, flat=True)
        if columns != sink_columns:
            found.append(f"{table.qualified}: columns {columns} != {sink_columns}")
            continue
        for key in sorted(source.keys() - sink.keys()):
            found.append(f"{table.qualified} {key}: missing in the sink")
        for key in sorted(sink.keys() - source.keys()):
            found.append(f"{table.qualified} {key}: in the sink only (a delete was not applied)")
        for key in sorted(source.keys() & sink.keys()):
            for column, left, right in zip(columns, source[key], sink[key], strict=True):
                if exact(left) != exact(right):
                    found.append(f"{table.qualified} {key}.{column}: source {left!r}, sink {right!r}")
    return found


def row_count(standin: StandInPostgres, dbname: str) -> Mapping[str, int]:
    return {t.qualified: len(table_rows(standin, t, dbname, flat=True)[1]) for t in CAPTURED_TABLES}
