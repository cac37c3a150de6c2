"""The "property by property" tables of docs/wms-config-details.md, generated from the builder.

``connect.connector_config.build_settings`` is the one source of the connector configuration and of the
reason for each value. This module renders it as Markdown for the DBA's reference, over every
variant a stage can take (CDB and non-CDB ``dbInfo``; IAM (the default), mtls and the tls opt-out
for Kafka auth), with the values that
come from secrets shown by where they come from (``dbInfo.host``, ``brokerString``) rather than by
an example value. ``tests/unit/test_config_doc.py`` fails when the document and the builder differ;
``python -m wms_connector.connect.config_doc`` rewrites the document's generated part.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from wms_connector.connect.connector_config import OPTIONAL_SETTINGS, OracleSource, Setting, build_settings
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage

DOC: Final = Path(__file__).resolve().parents[3] / "docs" / "wms-config-details.md"
BEGIN: Final = "<!-- BEGIN generated: connector properties (python -m wms_connector.connect.config_doc) -->"
END: Final = "<!-- END generated: connector properties -->"

#: The stage whose derived values (topic names) the table shows; ephemeral stages prefix them.
SHOWN_STAGE: Final = Stage("main")
_BOOTSTRAP: Final = "b-1.example.invalid:9094"
_DB_FIELDS: Final = {"host": "oracle.example.invalid", "port": 1521, "db": "WMSCDB", "user": "C##WMS_CDC"}
#: Where secret-derived values come from, shown instead of an example value.
_SOURCES: Final = {
    _BOOTSTRAP: "brokerString",
    "oracle.example.invalid": "dbInfo.host",
    "1521": "dbInfo.port",
    "WMSCDB": "dbInfo.db",
    "WMSPDB": "dbInfo.pdb_name",
    "C##WMS_CDC": "dbInfo.user",
}
#: For the few values the builder leaves unexplained (Debezium's identity keys).
_PLAIN: Final = {
    "connector.class": "Debezium's Oracle connector (LogMiner)",
    "database.hostname": "from the stage's dbInfo secret",
}


def _variants() -> list[tuple[str, list[Setting]]]:
    found = []
    for label, pdb in (("CDB", "WMSPDB"), ("non-CDB", None)):
        db = DbInfo.model_validate({**_DB_FIELDS, "pdb_name": pdb, "password": "not-used-here"})
        for auth in (KafkaAuth.IAM, KafkaAuth.MTLS, KafkaAuth.TLS):
            settings = build_settings(SHOWN_STAGE, OracleSource(db), _BOOTSTRAP, auth)
            found.append((f"{label}, {auth.value}", settings))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _value(value: str) -> str:
    return _SOURCES.get(value, f"`{_cell(value)}`")


def _describe(labels: list[str]) -> str:
    """What the variant labels ("CDB, tls", ...) have in common: "CDB", "iam" or "CDB, iam"."""
    kinds = {label.split(", ")[0] for label in labels}
    auths = {label.split(", ")[1] for label in labels}
    parts = [*(kinds if len(kinds) == 1 else ()), *(auths if len(auths) == 1 else ())]
    return ", ".join(parts) or "all"


def property_rows() -> list[tuple[str, str, str]]:
    """``(key, value, why)`` for every key any variant emits, in the builder's order."""
    seen: dict[str, list[tuple[str, Setting]]] = {}
    for label, settings in _variants():
        for setting in settings:
            seen.setdefault(setting.key, []).append((label, setting))
    every = len(_variants())
    rows = []
    for key, found in seen.items():
        values = list(dict.fromkeys(_value(s.value) for _, s in found))
        if len(values) == 1:
            shown = values[0]
        else:
            shown = "; ".join(
                f"{v} ({_describe([label for label, s in found if _value(s.value) == v])})" for v in values
            )
        reasons = list(dict.fromkeys(s.reason for _, s in found if s.reason))
        why = " / ".join(_cell(r) for r in reasons) or _PLAIN.get(key, "")
        if len(found) < every:
            why = f"({_describe([label for label, _ in found])} only) {why}"
        rows.append((key, shown, why))
    return rows


def render() -> str:
    lines = [
        BEGIN,
        "",
        f"Values shown for stage `{SHOWN_STAGE.name}`; an ephemeral stage S prefixes every topic name with",
        "`--wms--S--`. `dbInfo.*` and `brokerString` name the secret a value comes from.",
        "",
        "| property | value | why |",
        "|---|---|---|",
    ]
    lines += [f"| `{key}` | {value} | {why} |" for key, value, why in property_rows()]
    lines += [
        "",
        "Deliberately not set; set them only in the situation described:",
        "",
        "| property | example | when |",
        "|---|---|---|",
    ]
    lines += [f"| `{s.key}` | `{_cell(s.value)}` | {_cell(s.reason)} |" for s in OPTIONAL_SETTINGS]
    lines += ["", END]
    return "\n".join(lines)


def generated_part(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def rewrite(path: Path = DOC) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(generated_part(text), render()), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    rewrite(Path(args[0]) if args else DOC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
