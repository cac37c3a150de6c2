"""The real Debezium plugins validate our configs (real broker + Connect workers)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from wms_connector.cli import main
from wms_connector.connect.config_checks import check_config
from wms_connector.connect.connector_config import OracleSource, build_config
from wms_connector.connect.rest import BackOff, DatabaseUnreachableError, HttpConnectApi, validation_errors
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage

pytestmark = pytest.mark.integration

STAGES = [Stage("main"), Stage("val"), Stage("production"), Stage("feature-x")]
PASSWORD = "never-shown-" + "x" * 8
#: Resolves nowhere (.invalid), so validation fails fast on the connection and nothing else.
UNREACHABLE = DbInfo(
    host="oracle.wms.example.invalid",
    port=1521,
    db="CDB1",
    pdb_name="PDB1",
    user="c##dbz",
    password=SecretStr(PASSWORD),
)
#: A closed port on loopback: refused at once.
CLOSED_PORT = DbInfo(host="127.0.0.1", port=9, db="WMSDB", user="dbz", password=SecretStr(PASSWORD))


@pytest.fixture(scope="module")
def api(local_cluster: Any) -> HttpConnectApi:
    client = HttpConnectApi(local_cluster.rest_urls[0], backoff=BackOff(scale_ms=500, max_attempts=10))
    yield client
    client.close()


@pytest.mark.parametrize("stage", STAGES, ids=str)
@pytest.mark.parametrize("db", [UNREACHABLE, CLOSED_PORT], ids=["unresolvable", "closed-port"])
def test_oracle_plugin_reports_only_the_connection_error(
    api: HttpConnectApi, local_cluster: Any, stage: Stage, db: DbInfo
) -> None:
    config = build_config(stage, OracleSource(db), local_cluster.bootstrap, KafkaAuth.PLAINTEXT)
    assert check_config(config, known_secrets=[PASSWORD]) == []
    errors = validation_errors(api.validate("OracleConnector", config))
    assert errors, "validation cannot pass without a database"
    assert [e for e in errors if not e.is_connection_error] == []


def test_every_oracle_key_is_known_to_the_plugin(api: HttpConnectApi, local_cluster: Any) -> None:
    config = build_config(
        Stage("main"), OracleSource(UNREACHABLE), local_cluster.bootstrap, KafkaAuth.PLAINTEXT
    )
    answer = api.validate("OracleConnector", config)
    known = {item["definition"]["name"] for item in answer["configs"]}
    passthrough = (
        "schema.history.internal.producer.",
        "schema.history.internal.consumer.",
        "signal.consumer.",
    )
    # schema.include.list is honoured at run time but is not in the Oracle ConfigDef (reference §10);
    # topic.heartbeat.prefix belongs to the topic naming strategy (AbstractTopicNamingStrategy), and
    # signal.kafka.* and key/value converter keys to other ConfigDefs.
    not_in_configdef = {"schema.include.list", "topic.heartbeat.prefix"}
    unknown = [
        k
        for k in config
        if k not in known
        and not k.startswith(passthrough)
        and k not in not_in_configdef
        and not k.startswith(
            ("signal.kafka.", "key.converter", "value.converter", "schema.history.internal.")
        )
    ]
    assert unknown == []
    assert "connection.validation.timeout.ms" in known


def test_plugin_does_not_catch_what_our_checks_catch(api: HttpConnectApi, local_cluster: Any) -> None:
    """Why our checks exist: the plugin accepts tasks.max=2 and a 1.x name, our checks do not."""
    config = build_config(
        Stage("main"), OracleSource(UNREACHABLE), local_cluster.bootstrap, KafkaAuth.PLAINTEXT
    )
    config["tasks.max"] = "2"
    config["database.server.name"] = "wms"
    plugin_keys = {e.key for e in validation_errors(api.validate("OracleConnector", config))}
    assert "tasks.max" not in plugin_keys and "database.server.name" not in plugin_keys
    ours = {p.key for p in check_config(config) if p.is_error}
    assert {"tasks.max", "database.server.name"} <= ours


def test_put_with_unreachable_oracle_is_a_clear_error(local_cluster: Any) -> None:
    client = HttpConnectApi(
        local_cluster.rest_urls[0],
        backoff=BackOff(scale_ms=500, max_attempts=10),
        unreachable_backoff=BackOff(scale_ms=100, max_attempts=2),
    )
    config = build_config(
        Stage("main"), OracleSource(CLOSED_PORT), local_cluster.bootstrap, KafkaAuth.PLAINTEXT
    )
    with pytest.raises(DatabaseUnreachableError, match="source database unreachable"):
        client.put_config(
            "wms-connector-main-oracle-unreachable",
            {**config, "name": "wms-connector-main-oracle-unreachable"},
        )
    client.close()


def test_cli_validate_says_only_the_connection_fails(
    local_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["config", "--stage", "val", "--offline", "--validate", "--connect-url", local_cluster.rest_urls[0]]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the only error is the database connection" in out


def test_cli_validate_of_the_standin_counts_a_refused_database_as_the_connection(
    local_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens on the stand-in port: the real PostgreSQL plugin's refusal is the connection."""
    from wms_connector.local.procs import free_port

    argv = ["config", "--stage", "val", "--source", "standin", "--validate"]
    code = main([*argv, "--connect-url", local_cluster.rest_urls[0], "--standin-port", str(free_port())])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert "plugin connection database.hostname" in out and "the only error is the database connection" in out
