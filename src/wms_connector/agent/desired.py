"""The desired connector config inside a task, from the stage and the task's environment (pure).

The agent builds the config with the same builder as every other caller
(:func:`wms_connector.connect.connector_config.build_config`). It reads only non-secret values
from its environment: the password never reaches the agent, and the builder writes only the
placeholder ``${dir:/opt/connect/secrets:oracle-password}``, which the *worker* resolves.

Environment contract (the agent container in ``infra/connect_service.py``; keep in step):

====================================  ===========================================================
``WMS_STAGE``                         the stage
``KAFKA_BOOTSTRAP_SERVERS``           MSK bootstrap list
``WMS_KAFKA_AUTH``                    optional: tls|iam|plaintext instead of the stage's setting
``ORACLE_HOST/PORT/DB/PDB/USER``      the Oracle source (``--source oracle``, the default)
``WMS_STANDIN_HOST/PORT/DB/USER``     the local STAND-IN PostgreSQL (``--source standin``)
``WMS_ORACLE_PASSWORD_REF``           optional: the password placeholder instead of the image's
                                      ``${dir:/opt/connect/secrets:oracle-password}`` (a local
                                      worker: ``${env:ORACLE_PASSWORD}``)
====================================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from pydantic import SecretStr, ValidationError

from wms_connector.connect.connector_config import (
    OracleSource,
    PostgresStandIn,
    SourceAdapter,
    build_config,
)
from wms_connector.errors import InputError
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import DbInfo
from wms_connector.stages import KafkaAuth, Stage, settings_for

#: The builder never reads the password (it writes a placeholder); DbInfo needs a
#: non-empty one, so the agent passes this marker, which no config or log can carry as a secret.
NOT_IN_AGENT: Final = "<the password stays in the worker's environment>"
ORACLE_KEYS: Final = ("ORACLE_HOST", "ORACLE_PORT", "ORACLE_DB", "ORACLE_USER")
PASSWORD_REF_ENV: Final = "WMS_ORACLE_PASSWORD_REF"
STANDIN_KEYS: Final = ("WMS_STANDIN_HOST", "WMS_STANDIN_PORT", "WMS_STANDIN_DB", "WMS_STANDIN_USER")


def _require(env: Mapping[str, str], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if not env.get(k)]
    if missing:
        raise InputError(
            f"the agent's environment lacks {', '.join(missing)}: the task definition must pass them "
            "(see infra/connect_service.py, agent_environment)"
        )


def _port(env: Mapping[str, str], key: str) -> int:
    value = env[key]
    if not value.isdigit():
        raise InputError(f"{key}={value!r} is not a port number")
    return int(value)


def source_from_env(kind: str, env: Mapping[str, str]) -> SourceAdapter:
    if kind == "standin":
        _require(env, STANDIN_KEYS)
        return PostgresStandIn(
            env["WMS_STANDIN_HOST"],
            _port(env, "WMS_STANDIN_PORT"),
            env["WMS_STANDIN_DB"],
            env["WMS_STANDIN_USER"],
        )
    _require(env, ORACLE_KEYS)
    try:
        db = DbInfo(
            host=env["ORACLE_HOST"],
            port=_port(env, "ORACLE_PORT"),
            db=env["ORACLE_DB"],
            pdb_name=env.get("ORACLE_PDB") or None,
            user=env["ORACLE_USER"],
            password=SecretStr(NOT_IN_AGENT),
        )
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
        raise InputError(f"the agent's ORACLE_* environment is invalid ({fields})") from None
    ref = env.get(PASSWORD_REF_ENV)
    return OracleSource(db, password_ref=ref) if ref else OracleSource(db)


def auth_from_env(stage: Stage, env: Mapping[str, str]) -> KafkaAuth:
    value = env.get("WMS_KAFKA_AUTH")
    if not value:
        return settings_for(stage).kafka_auth
    try:
        return KafkaAuth(value)
    except ValueError:
        raise InputError(
            f"WMS_KAFKA_AUTH={value!r} is not one of {', '.join(a.value for a in KafkaAuth)}"
        ) from None


def desired_from_env(stage: Stage, kind: str, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """``(connector name, config)`` the agent keeps the worker's connector equal to."""
    _require(env, ("KAFKA_BOOTSTRAP_SERVERS",))
    source = source_from_env(kind, env)
    config = build_config(stage, source, env["KAFKA_BOOTSTRAP_SERVERS"], auth_from_env(stage, env))
    return source.connector_name(names_for(stage)), config
