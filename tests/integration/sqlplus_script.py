"""The DBA's scripts (``docs/sql``) read the way SQL*Plus reads them (pure; TEST ONLY).

The opt-in Oracle suite applies them through python-oracledb as a DBA, and the parser test hands
their SQL to sqlglot; both need the same split: comments dropped, ``&&NAME`` substituted (a
``.`` right after a name ends it and is consumed, so ``&&CDC_USER..T`` is ``C##X.T``), a SQL
statement ends with ``;`` at the end of a line, a PL/SQL block (``BEGIN``/``DECLARE``) with a
line holding only ``/``, and SQL*Plus's own commands (``WHENEVER``, ``SET``, ``ACCEPT``,
``SHUTDOWN``, ``STARTUP`` ...) are returned as such, since no SQL driver runs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: SQL*Plus commands (first word), not SQL: the runner skips or refuses them.
SQLPLUS_COMMANDS: Final = frozenset(
    {"WHENEVER", "SET", "ACCEPT", "SHUTDOWN", "STARTUP", "PROMPT", "DEFINE", "UNDEFINE", "SPOOL", "EXEC"}
)
_VARIABLE: Final = re.compile(r"&&([A-Za-z_][A-Za-z0-9_]*)(\.?)")


class Kind(StrEnum):
    SQL = "sql"
    PLSQL = "plsql"
    SQLPLUS = "sqlplus"


@dataclass(frozen=True)
class Statement:
    kind: Kind
    text: str
    line: int


class ScriptError(ValueError):
    """A script this reader cannot split (a statement without its terminator, an unknown variable)."""


def variables(script: str) -> set[str]:
    """Every ``&&NAME`` a script uses (comments included: they document the variables)."""
    return {match.group(1) for match in _VARIABLE.finditer(script)}


def substitute(text: str, values: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ScriptError(f"no value for &&{name}")
        return values[name]

    return _VARIABLE.sub(one, text)


def split(script: str, values: Mapping[str, str] | None = None) -> list[Statement]:
    """The statements of ``script`` in order; with ``values``, variables substituted."""
    statements: list[Statement] = []
    buffer: list[str] = []
    start = 0
    in_block = False
    for number, raw in enumerate(script.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.strip()
        if not in_block and not buffer:
            if not stripped or stripped.startswith("--"):
                continue
            first = stripped.split()[0].upper().rstrip(";")
            if first in SQLPLUS_COMMANDS:
                statements.append(Statement(Kind.SQLPLUS, stripped, number))
                continue
            start = number
            in_block = first in {"BEGIN", "DECLARE"}
        if in_block:
            if stripped == "/":
                statements.append(Statement(Kind.PLSQL, "\n".join(buffer), start))
                buffer, in_block = [], False
            else:
                buffer.append(line)
            continue
        if stripped.startswith("--"):
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            text = "\n".join(buffer).strip()
            statements.append(Statement(Kind.SQL, text[:-1].rstrip(), start))
            buffer = []
    if buffer:
        raise ScriptError(f"the statement at line {start} has no terminator (';' or '/')")
    if values is not None:
        statements = [Statement(s.kind, substitute(s.text, values), s.line) for s in statements]
    return statements
