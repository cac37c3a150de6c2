"""A python-oracledb connection answering with documented shapes (tests/fixtures/oracle/preflight_doc_shapes).

The answers are not recordings of a database: each has the columns, Oracle types and value forms
that Oracle's Database Reference documents for the view (see that folder's README), until a capture
from a real database replaces them (``tests/integration/test_preflight_oracle.py`` checks real
answers against these shapes when ``make test-oracle`` runs).

It stands exactly where ``oracledb.connect`` returns: ``cursor()``, ``cursor.execute(sql, params)``,
``cursor.description``, ``cursor.fetchall()``, ``cursor.close()``, ``call_timeout``, ``close()``. The
preflight's real ``OracleDatabase`` runs on top of it. Errors are real ``oracledb`` exceptions.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import oracledb
from oracledb import errors as oracledb_errors

from wms_connector.preflight.model import Expectations
from wms_connector.preflight.queries import catalog, set_container

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oracle" / "preflight_doc_shapes"


def oracle_error(code: int, message: str) -> oracledb.Error:
    """The exception python-oracledb raises for a server error ``ORA-<code>``."""
    error = oracledb_errors._Error(message, code=code)
    return error.exc_type(error)


def decode(value: Any) -> Any:
    if isinstance(value, dict) and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if isinstance(value, dict) and "$decimal" in value:
        return Decimal(value["$decimal"])
    return value


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class ShapedCursor:
    def __init__(self, connection: ShapedConnection) -> None:
        self._connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._connection.executed.append((sql, dict(params or {})))
        name = self._connection.sql_to_name.get(sql)
        if name is None:
            raise AssertionError(f"the preflight sent SQL that no query of the catalog has: {sql!r}")
        answer = self._connection.answers.get(name)
        if name == "set_container" and answer is None:
            self._connection.container = sql.rsplit("=", 1)[1].strip()
            self.description, self._rows = None, []
            return
        if answer is None:
            raise AssertionError(f"no documented answer shape for query {name!r}")
        if "error" in answer:
            raise oracle_error(answer["error"]["code"], answer["error"]["message"])
        query = self._connection.queries.get(name)
        columns = [c[0] for c in answer["columns"]]
        if query is not None and tuple(columns) != query.columns:
            raise AssertionError(
                f"the shape's columns {columns} differ from the query's {list(query.columns)}"
            )
        self.description = [
            (c, getattr(oracledb, t), None, None, None, None, True) for c, t in answer["columns"]
        ]
        self._rows = [tuple(decode(v) for v in row) for row in answer["rows"]]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        pass


class ShapedConnection:
    """Answers keyed by the SQL the preflight sends (mapped to the query's name in the fixture)."""

    def __init__(self, answers: dict[str, Any], expect: Expectations) -> None:
        self.answers = answers
        self.queries = catalog(expect)
        self.sql_to_name = {q.sql: q.name for q in self.queries.values()}
        if expect.pdb_name:
            self.sql_to_name[set_container(expect.pdb_name)] = "set_container"
        self.executed: list[tuple[str, dict[str, Any]]] = []
        self.container: str | None = None
        self.call_timeout = 0
        self.closed = False

    def cursor(self) -> ShapedCursor:
        return ShapedCursor(self)

    def close(self) -> None:
        self.closed = True


class DocShapes:
    """A ready database's documented answer shapes, loaded for one test: change answers, then
    build the connection."""

    def __init__(self, name: str) -> None:
        raw = load(name)
        self.target = raw["target"]
        self.answers: dict[str, Any] = copy.deepcopy(raw["answers"])

    def rows(self, name: str) -> list[list[Any]]:
        return self.answers[name]["rows"]

    def set_rows(self, name: str, rows: list[list[Any]]) -> None:
        self.answers[name]["rows"] = rows

    def fail(self, name: str, code: int, message: str) -> None:
        self.answers[name] = {"error": {"code": code, "message": message}}

    def column(self, name: str, column: str) -> int:
        return [c[0] for c in self.answers[name]["columns"]].index(column)

    def set_value(self, name: str, column: str, value: Any, row: int = 0) -> None:
        self.answers[name]["rows"][row][self.column(name, column)] = value

    def connection(self, expect: Expectations) -> ShapedConnection:
        return ShapedConnection(self.answers, expect)
