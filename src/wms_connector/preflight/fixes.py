"""Fixes are cut from the SQL the DBA reviews (``docs/sql/``), never written twice.

A script marks a fix block with ``-- @fix <id>`` and ends it with ``-- @end``. The preflight prints
the block (or the lines of it that concern what is missing) with the SQL*Plus substitution
variables filled in: ``&&CDC_USER`` with the user it connected as, ``&&PDB_NAME`` with the PDB.

Layout: ``common/`` holds scripts that are the same for a CDB and a non-CDB, ``cdb/`` and
``non-cdb/`` the ones that differ, ``rds/`` the Amazon RDS variants (not used by the preflight,
which cannot tell a self-managed database from RDS by a read-only query it may run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from wms_connector.errors import WmsError
from wms_connector.preflight.model import Fix

#: ``docs/sql`` of the source tree this package runs from (installed editable, as the Makefile does).
SQL_DIR: Final = Path(__file__).resolve().parents[3] / "docs" / "sql"
VARIANTS: Final = ("cdb", "non-cdb")

_BEGIN: Final = re.compile(r"^--\s*@fix\s+([a-z0-9_]+)\s*$")
_END: Final = re.compile(r"^--\s*@end\s*$")
_SUBSTITUTION: Final = re.compile(r"&{1,2}([A-Z_][A-Z0-9_]*)\.?")
_GRANT: Final = re.compile(r"^GRANT\s+(.+?)\s+TO\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    file: str
    name: str
    lines: tuple[str, ...]


def parse_blocks(text: str, file: str) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    current: str | None = None
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        begin, end = _BEGIN.match(line.strip()), _END.match(line.strip())
        if begin:
            if current is not None:
                raise ValueError(f"{file}:{number}: block {begin.group(1)!r} opens inside {current!r}")
            current, lines = begin.group(1), []
        elif end:
            if current is None:
                raise ValueError(f"{file}:{number}: '-- @end' without a block")
            blocks[current] = Block(file, current, tuple(lines))
            current = None
        elif current is not None:
            lines.append(line)
    if current is not None:
        raise ValueError(f"{file}: block {current!r} is never closed with '-- @end'")
    return blocks


@cache
def blocks_for(variant: str, sql_dir: Path = SQL_DIR) -> dict[str, Block]:
    """Every fix block visible to one variant: ``common/`` then ``<variant>/``."""
    if not sql_dir.is_dir():
        raise WmsError(
            f"the DBA scripts are not at {sql_dir}: run the preflight from a checkout of the repository"
        )
    found: dict[str, Block] = {}
    for folder in ("common", variant):
        for path in sorted((sql_dir / folder).glob("*.sql")):
            relative = path.relative_to(sql_dir.parent.parent).as_posix()
            for name, block in parse_blocks(path.read_text(encoding="utf-8"), relative).items():
                if name in found:
                    raise ValueError(f"fix block {name!r} is defined in {found[name].file} and {relative}")
                found[name] = block
    return found


def substitute(text: str, values: dict[str, str]) -> str:
    """Fill SQL*Plus substitution variables (``&&X``, ``&X``, with the terminating ``.``)."""

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _SUBSTITUTION.sub(replace, text)


def grant_item(line: str) -> str | None:
    """``GRANT SELECT ON SYS.V_$LOG TO &&CDC_USER ...;`` -> ``SELECT ON SYS.V_$LOG``."""
    match = _GRANT.match(line.strip())
    return " ".join(match.group(1).upper().split()) if match else None


def grant_items(variant: str) -> Iterator[tuple[str, Block]]:
    for block in blocks_for(variant).values():
        for line in block.lines:
            item = grant_item(line)
            if item:
                yield item, block


def make_fix(
    variant: str,
    block: str,
    values: dict[str, str],
    keep: Callable[[str], bool] | None = None,
) -> Fix:
    """The block's SQL with values filled in; with ``keep``, only the statements it selects.

    A container switch in the block is always kept: the statements after it must run in the PDB.
    """
    found = blocks_for(variant)[block]
    if keep is None:
        lines = [line for line in found.lines if line.strip()]
    else:
        lines = [
            line
            for line in found.lines
            if line.strip()
            and not line.lstrip().startswith("--")
            and (keep(line) or line.upper().lstrip().startswith("ALTER SESSION SET CONTAINER"))
        ]
    return Fix(found.file, block, substitute("\n".join(lines), values))


def grants_fix(variant: str, items: set[str], values: dict[str, str]) -> Fix | None:
    """The GRANT statements (from whichever blocks hold them) for the missing ``items``."""
    blocks = sorted({block.name for item, block in grant_items(variant) if item in items})
    if not blocks:
        return None
    parts = [make_fix(variant, name, values, keep=lambda line: grant_item(line) in items) for name in blocks]
    return Fix(
        ", ".join(sorted({p.file for p in parts})),
        ", ".join(p.block for p in parts),
        "\n".join(p.sql for p in parts),
    )
