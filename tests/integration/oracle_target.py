"""The one way to name a real Oracle for the opt-in tests (``make test-oracle``).

Environment only (never argv: the passwords would show in ``ps``):

=============================  ===========================================================
``WMS_TEST_ORACLE_DSN``        ``host:port/service``: the service Debezium connects to
                               (``database.dbname``: the CDB root's service for a CDB)
``WMS_TEST_ORACLE_PDB``        the PDB holding WMS and MMDL, for a CDB; unset for a non-CDB
``WMS_TEST_ORACLE_CDC_USER``   the connector's user (default ``C##WMS_CDC`` with a PDB,
                               ``WMS_CDC`` without); the DBA scripts create it
``WMS_TEST_ORACLE_CDC_PASSWORD``  its password (the DBA scripts set it)
``WMS_TEST_ORACLE_DBA_USER``   an account that may run ``docs/sql`` (default ``SYSTEM``;
                               ``SYS`` connects AS SYSDBA)
``WMS_TEST_ORACLE_DBA_PASSWORD``  its password
=============================  ===========================================================

``python -m tests.integration.oracle_target`` checks them: one line naming what is missing and
exit 2, or one line describing the target (no password) and exit 0.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr

from wms_connector.errors import InputError
from wms_connector.preflight.database import ConnectSpec
from wms_connector.preflight.target import PASSWORD_ENV, parse_dsn
from wms_connector.secrets.shapes import DbInfo

DSN_ENV: Final = "WMS_TEST_ORACLE_DSN"
PDB_ENV: Final = "WMS_TEST_ORACLE_PDB"
CDC_USER_ENV: Final = "WMS_TEST_ORACLE_CDC_USER"
CDC_PASSWORD_ENV: Final = "WMS_TEST_ORACLE_CDC_PASSWORD"
DBA_USER_ENV: Final = "WMS_TEST_ORACLE_DBA_USER"
DBA_PASSWORD_ENV: Final = "WMS_TEST_ORACLE_DBA_PASSWORD"
NEEDS: Final = (
    f"make test-oracle needs a real Oracle: set {DSN_ENV}=host:port/service ({PDB_ENV}=PDB for a CDB), "
    f"{CDC_PASSWORD_ENV} and {DBA_PASSWORD_ENV} (users: {CDC_USER_ENV}, {DBA_USER_ENV}); "
    "see README 'The Oracle suite'"
)


class MissingOracleError(InputError):
    """No (complete) Oracle named in the environment."""


@dataclass(frozen=True)
class OracleTarget:
    host: str
    port: int
    service: str
    pdb: str | None
    cdc_user: str
    cdc_password: SecretStr
    dba_user: str
    dba_password: SecretStr

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OracleTarget:
        dsn = environ.get(DSN_ENV, "").strip()
        if not dsn:
            raise MissingOracleError(NEEDS)
        missing = [name for name in (CDC_PASSWORD_ENV, DBA_PASSWORD_ENV) if not environ.get(name)]
        if missing:
            raise MissingOracleError(f"{DSN_ENV} is set but {' and '.join(missing)} not: {NEEDS}")
        if "@" in dsn:
            raise MissingOracleError(
                f"{DSN_ENV} is host:port/service, without a user or password (those come from "
                f"{CDC_USER_ENV}/{CDC_PASSWORD_ENV} and {DBA_USER_ENV}/{DBA_PASSWORD_ENV})"
            )
        pdb = environ.get(PDB_ENV, "").strip() or None
        cdc_user = environ.get(CDC_USER_ENV, "").strip() or ("C##WMS_CDC" if pdb else "WMS_CDC")
        try:
            # The product's own grammar for host:port/service (the preflight's --dsn).
            spec = parse_dsn(f"{cdc_user}@{dsn}", {PASSWORD_ENV: environ[CDC_PASSWORD_ENV]})
        except InputError as error:
            raise MissingOracleError(f"{DSN_ENV}: {error}") from None
        return cls(
            host=spec.host,
            port=spec.port,
            service=spec.service,
            pdb=pdb,
            cdc_user=cdc_user,
            cdc_password=SecretStr(environ[CDC_PASSWORD_ENV]),
            dba_user=environ.get(DBA_USER_ENV, "").strip() or "SYSTEM",
            dba_password=SecretStr(environ[DBA_PASSWORD_ENV]),
        )

    @property
    def is_cdb(self) -> bool:
        return self.pdb is not None

    def cdc_spec(self) -> ConnectSpec:
        """What the preflight connects with (the connector's user)."""
        return ConnectSpec(
            self.cdc_user, self.cdc_password.get_secret_value(), self.host, self.port, self.service
        )

    def dba_spec(self) -> ConnectSpec:
        return ConnectSpec(
            self.dba_user, self.dba_password.get_secret_value(), self.host, self.port, self.service
        )

    def db_info(self) -> DbInfo:
        """The ``dbInfo`` secret's shape, for the connector config."""
        return DbInfo(
            host=self.host,
            port=self.port,
            db=self.service,
            pdb_name=self.pdb,
            user=self.cdc_user,
            password=self.cdc_password,
        )

    def describe(self) -> str:
        where = f"{self.host}:{self.port}/{self.service}"
        kind = f"CDB, PDB {self.pdb}" if self.pdb else "non-CDB"
        return f"Oracle at {where} ({kind}); CDC user {self.cdc_user}, DBA {self.dba_user}"


def target_or_skip_reason(environ: Mapping[str, str] | None = None) -> tuple[OracleTarget | None, str]:
    """The target, or ``None`` with the one line saying what is missing (the tests' skip reason)."""
    try:
        return OracleTarget.from_env(os.environ if environ is None else environ), ""
    except MissingOracleError as missing:
        return None, str(missing)


def main() -> int:
    target, reason = target_or_skip_reason()
    if target is None:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    print(target.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
