"""Secrets: their shapes, where they live, and resolution with fallback.

Each secret ``X`` is looked up at ``wms/<stage>/X`` first and at ``wms/default/X`` only when the
stage's secret *does not exist*. Any other failure (access denied, throttling, a KMS error) stops
with a message: falling back on those would silently run a stage on another stage's credentials.

Values never leave this module in a printable form: models hold the password as ``SecretStr``,
and validation errors are re-worded without the offending input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, Protocol, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from wms_connector.errors import InputError, WmsError
from wms_connector.naming import names_for
from wms_connector.stages import Stage

# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

_HOST_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]")


class Broker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class BrokerString(BaseModel):
    """``brokerString``: the MSK bootstrap list, ``host:port[,host:port...]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    brokers: tuple[Broker, ...] = Field(min_length=1)

    @classmethod
    def parse(cls, raw: str) -> BrokerString:
        text = raw.strip()
        if text.startswith('"') or text.startswith("{"):
            loaded = json.loads(text)
            text = loaded if isinstance(loaded, str) else str(loaded.get("brokerString", ""))
        brokers = []
        for index, item in enumerate(p.strip() for p in text.split(",")):
            host, sep, port = item.rpartition(":")
            if not item or not sep or not host:
                raise ValueError(f"entry {index + 1} {item!r} is not host:port")
            if not set(host) <= _HOST_CHARS:
                raise ValueError(f"entry {index + 1} has an invalid host {host!r}")
            if not port.isdigit():
                raise ValueError(f"entry {index + 1} {item!r} has a non-numeric port")
            brokers.append({"host": host, "port": int(port)})
        return cls.model_validate({"brokers": brokers})

    def __str__(self) -> str:
        return ",".join(str(b) for b in self.brokers)


class DbInfo(BaseModel):
    """``dbInfo``: how the connector reaches Oracle, and as whom."""

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
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _non_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @property
    def is_cdb(self) -> bool:
        return self.pdb_name is not None


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
        for subnet in value:
            if not subnet.startswith("subnet-") or not subnet[7:].isalnum():
                raise ValueError(f"{subnet!r} is not a subnet id (subnet-...)")
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
DB_INFO: Final = SecretSpec("dbInfo", True, _json_model(DbInfo), "Oracle host, port, db, PDB, user, password")
VPC: Final = SecretSpec("vpc", True, _json_model(VpcInfo), "VPC id, private subnets and their zones")
ALERT_EMAILS: Final = SecretSpec("alertEmails", True, AlertEmails.parse, "alert e-mail recipients")
IAM_PATH: Final = SecretSpec("iamPath", False, _plain_or_json(IamPath, "path"), "IAM path for roles")
PERMISSIONS_BOUNDARY: Final = SecretSpec(
    "permissionsBoundary", False, _plain_or_json(PermissionsBoundary, "arn"), "IAM permissions boundary"
)
ALL_SECRETS: Final[tuple[SecretSpec[Any], ...]] = (
    BROKER_STRING,
    DB_INFO,
    VPC,
    ALERT_EMAILS,
    IAM_PATH,
    PERMISSIONS_BOUNDARY,
)

# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


class SecretAccessError(WmsError):
    """A secret exists (or may exist) but could not be read. Never a reason to fall back."""


class SecretMissingError(InputError):
    """Neither the stage's nor the default path holds the secret."""


class SecretShapeError(InputError):
    """A secret was found but its value has the wrong shape."""


class SecretsBackend(Protocol):
    """Where secret text comes from. ``fetch`` returns ``None`` only when the secret does not exist."""

    @property
    def label(self) -> str: ...

    def fetch(self, path: str) -> str | None: ...


class AwsSecretsBackend:
    """AWS Secrets Manager through a boto3 ``secretsmanager`` client (passed in)."""

    def __init__(self, client: Any, label: str = "aws-secretsmanager") -> None:
        self._client = client
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    def fetch(self, path: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.get_secret_value(SecretId=path)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == "ResourceNotFoundException":
                return None
            raise SecretAccessError(
                f"cannot read secret {path!r} from AWS Secrets Manager ({code}); not falling back to "
                "the default path, because only a missing secret may fall back. Check the caller's "
                "IAM permissions (secretsmanager:GetSecretValue, kms:Decrypt) and retry."
            ) from error
        except BotoCoreError as error:
            raise SecretAccessError(
                f"cannot reach AWS Secrets Manager for {path!r} ({type(error).__name__}); check the "
                "region, credentials and network, or use --offline / --secrets-file"
            ) from error
        text = answer.get("SecretString")
        if text is None:
            raise SecretAccessError(f"secret {path!r} holds binary data; store it as a string (JSON)")
        return str(text)


class FileSecretsBackend:
    """A local JSON file ``{"wms/main/dbInfo": {...}, "wms/default/brokerString": "h:9094"}``.

    For offline synth, local runs and tests. Object values are stored as JSON, strings as is.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise InputError(
                f"secrets file {str(path)!r} does not exist; pass --secrets-file with an existing file "
                "(see config/secrets.example.json)"
            ) from error
        except json.JSONDecodeError as error:
            raise InputError(
                f"secrets file {str(path)!r} is not valid JSON (line {error.lineno}, column {error.colno})"
            ) from error
        if not isinstance(loaded, dict):
            raise InputError(f"secrets file {str(path)!r} must hold a JSON object of path -> value")
        self._values: Mapping[str, Any] = loaded

    @property
    def label(self) -> str:
        return f"file:{self.path}"

    def fetch(self, path: str) -> str | None:
        if path not in self._values:
            return None
        value = self._values[path]
        return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A secret that was found: the path it came from, the backend, and the parsed value."""

    name: str
    path: str
    backend: str
    value: T
    from_default: bool


@dataclass(frozen=True)
class Lookup:
    """Where a secret resolved to, without its value (for `wms-connector secrets`)."""

    name: str
    required: bool
    path: str | None
    backend: str
    tried: tuple[str, ...]
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None


def locate(stage: Stage, name: str, backend: SecretsBackend) -> tuple[str, str] | None:
    """Return ``(path, text)`` of the first existing path for ``name``, or ``None``."""
    for path in names_for(stage).secret_paths(name):
        text = backend.fetch(path)
        if text is not None:
            return path, text
    return None


def _describe(error: ValidationError) -> str:
    # Never echo the input: it may be the secret itself.
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in item["loc"]) or "value"
        parts.append(f"field {where!r}: {item['msg']}")
    return "; ".join(parts)


def parse_secret(spec: SecretSpec[T], path: str, text: str) -> T:
    try:
        return spec.parse(text)
    except ValidationError as error:
        raise SecretShapeError(f"secret {path!r} ({spec.name}) is malformed: {_describe(error)}") from None
    except json.JSONDecodeError as error:
        raise SecretShapeError(
            f"secret {path!r} ({spec.name}) is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:
        raise SecretShapeError(f"secret {path!r} ({spec.name}) is malformed: {error}") from None


def resolve(stage: Stage, spec: SecretSpec[T], backend: SecretsBackend) -> Resolved[T]:
    """Find and parse ``spec`` for ``stage``: stage path, then default path (only if not found)."""
    found = locate(stage, spec.name, backend)
    if found is None:
        tried = " and ".join(repr(p) for p in names_for(stage).secret_paths(spec.name))
        raise SecretMissingError(
            f"secret {spec.name!r} ({spec.what}) not found at {tried} in {backend.label}; create one of "
            "them (the stage path overrides the default)"
        )
    path, text = found
    value = parse_secret(spec, path, text)
    return Resolved(spec.name, path, backend.label, value, from_default="/default/" in path)


def resolve_optional(stage: Stage, spec: SecretSpec[T], backend: SecretsBackend) -> Resolved[T] | None:
    found = locate(stage, spec.name, backend)
    if found is None:
        return None
    path, text = found
    return Resolved(spec.name, path, backend.label, parse_secret(spec, path, text), "/default/" in path)


def lookup_all(stage: Stage, backend: SecretsBackend) -> list[Lookup]:
    """Where every secret of the stage resolves, and whether it parses. Never returns a value."""
    results = []
    for spec in ALL_SECRETS:
        tried = names_for(stage).secret_paths(spec.name)
        path: str | None = None
        problem: str | None = None
        try:
            found = locate(stage, spec.name, backend)
            if found is None:
                problem = "missing" if spec.required else None
            else:
                path = found[0]
                parse_secret(spec, *found)
        except WmsError as error:
            problem = str(error)
        results.append(Lookup(spec.name, spec.required, path, backend.label, tried, problem))
    return results


@dataclass(frozen=True)
class StageSecrets:
    """The secrets a deployment of a stage needs, resolved and parsed."""

    broker_string: Resolved[BrokerString]
    db_info: Resolved[DbInfo]
    vpc: Resolved[VpcInfo]
    alert_emails: Resolved[AlertEmails]
    iam_path: Resolved[IamPath] | None
    permissions_boundary: Resolved[PermissionsBoundary] | None


def resolve_stage(stage: Stage, backend: SecretsBackend) -> StageSecrets:
    return StageSecrets(
        broker_string=resolve(stage, BROKER_STRING, backend),
        db_info=resolve(stage, DB_INFO, backend),
        vpc=resolve(stage, VPC, backend),
        alert_emails=resolve(stage, ALERT_EMAILS, backend),
        iam_path=resolve_optional(stage, IAM_PATH, backend),
        permissions_boundary=resolve_optional(stage, PERMISSIONS_BOUNDARY, backend),
    )


#: The checked-in example secrets file with obviously fake values (offline synth, local runs).
EXAMPLE_SECRETS_FILE: Final = Path(__file__).resolve().parent / "data" / "secrets.example.json"
