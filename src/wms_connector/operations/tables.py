"""The tables an operator may name: exactly the captured tables of ``naming`` (pure).

An operator types ``MMDL.PLAN_BASE_WVR_TBL`` (any case). Anything else, including a bare table
name that exists in both schemas, is refused before anything is sent, with the closest captured
table as the suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from wms_connector.errors import InputError
from wms_connector.naming import CAPTURED_TABLES, TableId

#: How the connector kind names its tables in a signal's ``data-collections``.
ORACLE: str = "oracle"
STANDIN: str = "standin"


def _known() -> str:
    return ", ".join(t.qualified for t in CAPTURED_TABLES)


def resolve_tables(given: Sequence[str]) -> tuple[TableId, ...]:
    """The captured tables named by ``given`` (``SCHEMA.TABLE``, case-insensitive), in the
    order given, without repeats; :class:`InputError` naming the first value that is not one."""
    if not given:
        raise InputError(f"name at least one table: one of {_known()}")
    by_name = {t.qualified.upper(): t for t in CAPTURED_TABLES}
    chosen: list[TableId] = []
    for raw in given:
        text = raw.strip().upper()
        table = by_name.get(text)
        if table is None:
            bare = [t for t in CAPTURED_TABLES if t.table == text]
            if bare:
                options = " or ".join(t.qualified for t in bare)
                raise InputError(f"table {raw!r} is in more than one schema: name it as {options}")
            close = difflib.get_close_matches(text, list(by_name), n=1, cutoff=0.6)
            hint = f"did you mean {by_name[close[0]].qualified}? " if close else ""
            raise InputError(f"table {raw!r} is not captured by this connector: {hint}captured: {_known()}")
        if table not in chosen:
            chosen.append(table)
    return tuple(chosen)


def catalog(source: str, config: Mapping[str, str]) -> str | None:
    """The first part of a table's id inside the connector: Oracle's TableId catalog is the PDB
    when ``database.pdb.name`` is set, else ``database.dbname`` (Debezium's
    ``OracleConnectorConfig.getCatalogName``); the stand-in (PostgreSQL) has none."""
    if source != ORACLE:
        return None
    name = config.get("database.pdb.name") or config.get("database.dbname")
    if not name:
        raise InputError(
            "the connector's config has neither database.pdb.name nor database.dbname: "
            "is this the Oracle connector? (--source standin for the local stand-in)"
        )
    return name


def data_collection(table: TableId, catalog_name: str | None) -> str:
    """The table as Debezium matches it in ``data-collections`` (a case-insensitive regex matched
    against the table's identifier: ``CATALOG.SCHEMA.TABLE`` for Oracle, ``SCHEMA.TABLE`` for
    PostgreSQL)."""
    return f"{catalog_name}.{table.qualified}" if catalog_name else table.qualified
