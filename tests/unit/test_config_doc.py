"""docs/wms-config-details.md section 14 is the connector builder's output, and nothing else."""

from __future__ import annotations

import re

from wms_connector.connect.config_doc import DOC, generated_part, render
from wms_connector.connect.connector_config import OPTIONAL_SETTINGS, OracleSource, build_settings
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage


def _doc_rows(header: str) -> dict[str, str]:
    """``property -> why`` from the generated table whose header row starts with ``header``."""
    part = generated_part(DOC.read_text())
    table = part[part.index(header) :].split("\n\n")[0]
    rows = re.findall(r"^\| `([^`]+)` \| .+? \| (.*) \|$", table, re.MULTILINE)
    return dict(rows)


def test_doc_table_is_exactly_what_the_builder_generates() -> None:
    assert generated_part(DOC.read_text()) == render(), "run: python -m wms_connector.connect.config_doc"


def test_every_emitted_property_is_documented_with_a_reason_and_vice_versa() -> None:
    emitted: dict[str, set[str]] = {}
    for pdb in ("SOMEPDB", None):
        db = DbInfo.model_validate(
            {
                "host": "h.invalid",
                "port": 1521,
                "db": "CDB1",
                "pdb_name": pdb,
                "user": "C##U",
                "password": "x",
            }
        )
        for stage in ("main", "val", "production", "feature-x"):
            for auth in (KafkaAuth.IAM, KafkaAuth.MTLS, KafkaAuth.TLS):
                for setting in build_settings(Stage(stage), OracleSource(db), "b.invalid:9094", auth):
                    emitted.setdefault(setting.key, set()).add(setting.reason)
    documented = _doc_rows("| property | value | why |")
    assert set(documented) == set(emitted)
    for key, why in documented.items():
        assert why.strip(), f"{key} has no reason in the document"
        for reason in emitted[key] - {""}:
            assert reason.replace("|", "\\|") in why, key


def test_optional_properties_are_documented() -> None:
    documented = _doc_rows("| property | example | when |")
    assert set(documented) == {s.key for s in OPTIONAL_SETTINGS}
    assert all(why.strip() for why in documented.values())
