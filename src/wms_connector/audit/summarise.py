"""The source summariser's process: ``python -m wms_connector.audit.summarise`` (read-only).

Started by ``StandInSnapshot.summaries``: reads one pickled request on stdin (the connection, the
exported snapshot, the tables, the range size) and writes one pickled answer per table on stdout
(``("ranges", schema, table, [KeyRange, ...])``, or ``("error", schema, table, message)``). It
imports only the stand-in reader, not the CLI: its memory is the interpreter's, psycopg's and one
batch of rows.
"""

from __future__ import annotations

import pickle
import sys

from wms_connector.audit.standin import summarise_in_snapshot


def main() -> int:
    request = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by our parent
    out = sys.stdout.buffer

    def answer(message: tuple[str, str, str, object]) -> None:
        pickle.dump(message, out)
        out.flush()

    summarise_in_snapshot(request, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
