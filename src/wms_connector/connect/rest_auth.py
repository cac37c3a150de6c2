"""Connect's REST API behind a credential: Kafka's basic-auth REST extension (pure).

With ``BasicAuthSecurityRestExtension`` every REST request needs HTTP basic credentials that the
JAAS login module ``PropertyFileLoginModule`` finds in a properties file (``user=password``).
Only the connect-agent and the operators' commands hold the stage's credential (in ECS: a
generated secret; ECS gives it to the agent container, and the short-lived secrets container
writes the worker's file). Two exceptions, by Kafka's design: the worker-to-worker endpoints
(``POST /connectors/<c>/tasks``, ``PUT /connectors/<c>/fence``) are signed with the group's
session key instead, and a follower forwards a request to the leader *with the caller's
Authorization header*, so every worker of the group must accept the same credential.

A health probe without credentials gets 401 from a live worker: that answer is enough to say the
worker is up (``infra.connect_service.health_check_command``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr

from wms_connector.errors import InputError

REST_EXTENSION_CLASS: Final = (
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
)
LOGIN_MODULE: Final = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
#: The JAAS section name the extension reads (Kafka's constant).
JAAS_SECTION: Final = "KafkaConnect"
#: Environment of the callers (the agent, the CLI) and of the secrets container.
USER_ENV: Final = "WMS_REST_USER"
PASSWORD_ENV: Final = "WMS_REST_PASSWORD"
#: The credentials file in the worker's secrets directory (runtime/entrypoint.sh writes it).
CREDENTIALS_FILE: Final = "rest-credentials.properties"
#: Characters a user name or password may hold: nothing a properties file or a header must escape.
_SAFE: Final = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@dataclass(frozen=True)
class RestCredential:
    """One user of Connect's REST API. The password never prints."""

    user: str
    password: SecretStr

    def __post_init__(self) -> None:
        if not _SAFE.match(self.user):
            raise InputError(f"{USER_ENV} {self.user!r} must be 1 to 128 of A-Z a-z 0-9 . _ -")
        if not _SAFE.match(self.password.get_secret_value()):
            # Never echo the value: say what the rule is.
            raise InputError(f"{PASSWORD_ENV} must be 1 to 128 of A-Z a-z 0-9 . _ - (the value is not shown)")

    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        pair = f"{self.user}:{self.password.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def properties_line(self) -> str:
        """The line of the worker's credentials file for this user."""
        return f"{self.user}={self.password.get_secret_value()}\n"


def credential_from_env(env: Mapping[str, str]) -> RestCredential | None:
    """The caller's credential when the environment holds one (both variables), else ``None``."""
    user, password = env.get(USER_ENV), env.get(PASSWORD_ENV)
    if not user and not password:
        return None
    if not user or not password:
        missing = USER_ENV if not user else PASSWORD_ENV
        raise InputError(f"{missing} is not set but its pair is: set both, or neither for an open REST API")
    return RestCredential(user, SecretStr(password))


def jaas_config(credentials_path: str) -> str:
    """The JAAS file that points the extension's login module at ``credentials_path``."""
    if '"' in credentials_path or "\\" in credentials_path or "\n" in credentials_path:
        raise InputError(
            f"the REST credentials path {credentials_path!r} must hold no quote, backslash or newline"
        )
    return f'{JAAS_SECTION} {{\n  {LOGIN_MODULE} required\n  file="{credentials_path}";\n}};\n'


def jaas_jvm_flag(jaas_path: str) -> str:
    return f"-Djava.security.auth.login.config={jaas_path}"
