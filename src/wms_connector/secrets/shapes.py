"""The shape of every secret a stage reads, and the list of them (pure).

Each model validates a secret's text once, at the edge; errors are re-worded without the offending
input, and the Oracle password is held as ``SecretStr`` so it never prints. Where a secret lives
and how it is fetched is :mod:`wms_connector.secrets.store`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    TypeAdapter,
    field_validator,
)

from wms_connector.kafka.bootstrap import HostPort, parse_bootstrap
from wms_connector.secrets.client_cert import KafkaClientCert

# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------


class Broker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)

    def __str__(self) -> str:
        return str(HostPort(self.host, self.port))


class BrokerString(BaseModel):
    """``brokerString``: the MSK bootstrap list, ``host:port[,host:port...]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    brokers: tuple[Broker, ...] = Field(min_length=1)

    @classmethod
    def parse(cls, raw: str) -> BrokerString:
        text = raw.strip()
        if text.startswith('"') or text.startswith("{"):
            loaded = json.loads(text)
            if isinstance(loaded, dict):
                loaded = loaded.get("brokerString", "")
            if not isinstance(loaded, str):
                raise ValueError('must be a string host:port[,host:port...] or {"brokerString": ...}')
            text = loaded
        # The one bootstrap grammar (kafka.bootstrap); its errors name the position, never the text.
        brokers = [{"host": b.host, "port": b.port} for b in parse_bootstrap(text)]
        return cls.model_validate({"brokers": brokers})

    def __str__(self) -> str:
        return ",".join(str(b) for b in self.brokers)


class DbInfo(BaseModel):
    """``dbInfo``: how the connector reaches Oracle, and as whom (never the password, since issue 23).

    ``password`` is the *legacy* layout: the password belongs in its own secret, ``dbPassword``
    (:class:`DbPassword`), so that synth and the deploy role read only the fields here. A
    ``dbInfo`` that still holds it keeps working (see ``secrets.store.resolve_stage``), with a
    warning."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    db: str = Field(
        min_length=1,
        validation_alias=AliasChoices("db", "dbname", "service_name", "serviceName"),
        description="database.dbname: the CDB name in a multitenant database, else the database name",
    )
    pdb_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("pdb_name", "pdbName", "pdb"),
        description="set only for a CDB: the PDB that holds the WMS and MMDL schemas",
    )
    user: str = Field(min_length=1)
    password: SecretStr | None = Field(
        default=None, description="legacy: the password now lives in its own secret, dbPassword"
    )
    cidr: str | None = Field(
        default=None,
        pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
        description="optional: the network Oracle listens in; the workers' Oracle egress goes there only",
    )

    @field_validator("password")
    @classmethod
    def _non_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @property
    def is_cdb(self) -> bool:
        return self.pdb_name is not None

    @property
    def target(self) -> DbTarget:
        """The non-secret fields the connector's config is built from."""
        return DbTarget(host=self.host, port=self.port, db=self.db, pdb_name=self.pdb_name, user=self.user)


@dataclass(frozen=True)
class DbTarget:
    """Where the connector connects and as whom: ``dbInfo`` without anything secret (pure)."""

    host: str
    port: int
    db: str
    pdb_name: str | None
    user: str


class DbPassword(BaseModel):
    """``dbPassword``: the Oracle password, alone. A plain string or ``{"password": "..."}``.

    Only the task's execution role (into the short-lived ``connect-secrets`` container), the
    scheduled audit and a person's preflight read it; synth reads only its metadata."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _non_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @classmethod
    def parse(cls, raw: str) -> DbPassword:
        return cls.model_validate({"password": unwrap_password(raw)})


def unwrap_password(raw: str) -> str:
    """The password in ``dbPassword``'s text: ``{"password": "..."}`` unwrapped, anything else as is.

    Text that starts with ``{`` but is not JSON is a plain password that happens to start so. The
    ``connect-secrets`` container applies the same rule (``runtime/entrypoint.sh``), because ECS
    injects the secret whole: synth never reads the value, so it cannot choose a JSON key."""
    if raw.lstrip().startswith("{"):
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError:
            return raw
        if (
            not isinstance(loaded, dict)
            or set(loaded) != {"password"}
            or not isinstance(loaded["password"], str)
        ):
            raise ValueError('must be the password as plain text or {"password": "..."} (that one key)')
        return loaded["password"]
    # A plain string, as is: a password may start or end with spaces, so it is not stripped.
    return raw


class VpcInfo(BaseModel):
    """``vpc``: the existing VPC the Connect service runs in, imported by attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", validation_alias=AliasChoices("id", "vpcId"))
    cidr: str | None = Field(default=None, pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
    private_subnets: tuple[str, ...] = Field(
        min_length=1, validation_alias=AliasChoices("private_subnets", "privateSubnets", "subnets")
    )
    availability_zones: tuple[str, ...] = Field(
        min_length=1, validation_alias=AliasChoices("availability_zones", "availabilityZones", "azs")
    )

    @field_validator("private_subnets")
    @classmethod
    def _subnet_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, subnet in enumerate(value, start=1):
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", subnet):
                raise ValueError(f"entry {index} is not a subnet id (subnet- and 8 to 17 hex digits)")
        if len(set(value)) != len(value):
            raise ValueError("lists a subnet twice")
        return value

    def model_post_init(self, __context: Any) -> None:
        if len(self.availability_zones) != len(self.private_subnets):
            raise ValueError(
                "availability_zones must name one zone per private subnet "
                f"({len(self.availability_zones)} zones for {len(self.private_subnets)} subnets)"
            )


_EMAILS: Final = TypeAdapter(list[EmailStr])


class AlertEmails(BaseModel):
    """``alertEmails``: who the stage's SNS topic mails. A JSON list or a comma-separated string."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    addresses: tuple[str, ...] = Field(min_length=1)

    @classmethod
    def parse(cls, raw: str) -> AlertEmails:
        text = raw.strip()
        items: Any = json.loads(text) if text.startswith(("[", '"', "{")) else text.split(",")
        if isinstance(items, str):
            items = items.split(",")
        if not isinstance(items, list):
            raise ValueError("must be a list of e-mail addresses or a comma-separated string")
        cleaned = [str(i).strip() for i in items if str(i).strip()]
        if not cleaned:
            raise ValueError("must hold at least one e-mail address")
        valid = _EMAILS.validate_python(cleaned)
        seen: dict[str, str] = {}
        for address in valid:
            seen.setdefault(address.lower(), address)
        return cls(addresses=tuple(seen.values()))


class IamPath(BaseModel):
    """``iamPath`` (optional): the path every IAM role of the stage is created under."""

    model_config = ConfigDict(frozen=True)
    path: str = Field(default="/", pattern=r"^/([\x21-\x7e]+/)?$", max_length=512)


class PermissionsBoundary(BaseModel):
    """``permissionsBoundary`` (optional): the managed policy ARN attached as every role's boundary."""

    model_config = ConfigDict(frozen=True)
    arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/.+$")


_MSK_CLUSTER_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):kafka:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"cluster/(?P<name>[A-Za-z0-9-]{1,64})/(?P<uuid>[A-Za-z0-9-]{1,64})$"
)


class MskCluster(BaseModel):
    """``mskClusterArn`` (optional): the stage's MSK cluster, so IAM grants name it and no other.

    A plain ARN (``arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID``) or ``{"arn": "..."}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    arn: str

    @field_validator("arn")
    @classmethod
    def _cluster_arn(cls, value: str) -> str:
        if not _MSK_CLUSTER_ARN.match(value):
            raise ValueError("must be an MSK cluster ARN: arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID")
        return value

    @classmethod
    def parse(cls, raw: str) -> MskCluster:
        text = raw.strip()
        if text.startswith("{"):
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise ValueError('must be an ARN or {"arn": "..."}')
            return cls.model_validate({"arn": loaded.get("arn", loaded.get("mskClusterArn", ""))})
        return cls.model_validate({"arn": json.loads(text) if text.startswith('"') else text})

    def _part(self, name: str) -> str:
        match = _MSK_CLUSTER_ARN.match(self.arn)
        assert match is not None  # validated at construction
        return match[name]

    @property
    def region(self) -> str:
        return self._part("region")

    @property
    def account(self) -> str:
        return self._part("account")

    @property
    def cluster_path(self) -> str:
        """``NAME/UUID``: the cluster part of every topic, group and transactional-id ARN."""
        return f"{self._part('name')}/{self._part('uuid')}"


T = TypeVar("T")


@dataclass(frozen=True)
class SecretSpec(Generic[T]):
    """One secret we read: its name, whether a stage needs it, and how to parse its text."""

    name: str
    required: bool
    parse: Callable[[str], T]
    what: str


def _json_model(model: type[BaseModel]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        # json.loads first, so a syntax error gets the same message for every secret.
        return model.model_validate(json.loads(raw))

    return parse


def _plain_or_json(model: type[IamPath] | type[PermissionsBoundary], key: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        text = raw.strip()
        if text.startswith("{"):
            return model.model_validate_json(text)
        return model.model_validate({key: json.loads(text) if text.startswith('"') else text})

    return parse


BROKER_STRING: Final = SecretSpec("brokerString", True, BrokerString.parse, "MSK bootstrap brokers")
DB_INFO: Final = SecretSpec("dbInfo", True, _json_model(DbInfo), "Oracle host, port, db, PDB, user")
#: Required, unless a legacy ``dbInfo`` still holds ``password`` (secrets.store.resolve_password).
DB_PASSWORD: Final = SecretSpec("dbPassword", False, DbPassword.parse, "the Oracle password, alone")
VPC: Final = SecretSpec("vpc", True, _json_model(VpcInfo), "VPC id, private subnets and their zones")
ALERT_EMAILS: Final = SecretSpec("alertEmails", True, AlertEmails.parse, "alert e-mail recipients")
IAM_PATH: Final = SecretSpec("iamPath", False, _plain_or_json(IamPath, "path"), "IAM path for roles")
PERMISSIONS_BOUNDARY: Final = SecretSpec(
    "permissionsBoundary", False, _plain_or_json(PermissionsBoundary, "arn"), "IAM permissions boundary"
)
MSK_CLUSTER_ARN: Final = SecretSpec(
    "mskClusterArn", False, MskCluster.parse, "the stage's MSK cluster ARN (scopes the IAM grants)"
)
#: Read only where the certificate is used (the secrets container, the topics Lambda, an operator's
#: ``wms-connector secrets``), never by synth: the template names the secret, nothing reads its key.
KAFKA_CLIENT_CERT: Final = SecretSpec(
    "kafkaClientCert",
    False,
    KafkaClientCert.parse,
    "the Kafka client certificate and key (kafka_auth = mtls)",
)
ALL_SECRETS: Final[tuple[SecretSpec[Any], ...]] = (
    BROKER_STRING,
    DB_INFO,
    DB_PASSWORD,
    VPC,
    ALERT_EMAILS,
    IAM_PATH,
    PERMISSIONS_BOUNDARY,
    MSK_CLUSTER_ARN,
    KAFKA_CLIENT_CERT,
)
