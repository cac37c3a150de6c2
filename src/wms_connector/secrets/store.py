"""Where secrets live, and resolution with fallback.

Each secret ``X`` is looked up at ``wms/<stage>/X`` first and at ``wms/default/X`` only when the
stage's secret *does not exist*. Any other failure (access denied, throttling, a KMS error) stops
with a message: falling back on those would silently run a stage on another stage's credentials.

Values never leave this package in a printable form (see :mod:`wms_connector.secrets.shapes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, Protocol, TypeVar

from pydantic import (
    SecretStr,
    ValidationError,
)

from wms_connector.errors import InputError, WmsError
from wms_connector.naming import names_for
from wms_connector.secrets.shapes import (
    ALERT_EMAILS,
    ALL_SECRETS,
    BROKER_STRING,
    DB_INFO,
    DB_PASSWORD,
    IAM_PATH,
    KAFKA_CLIENT_CERT,
    MSK_CLUSTER_ARN,
    PERMISSIONS_BOUNDARY,
    VPC,
    AlertEmails,
    BrokerString,
    DbInfo,
    IamPath,
    MskCluster,
    PermissionsBoundary,
    SecretSpec,
    VpcInfo,
)
from wms_connector.stages import Stage

T = TypeVar("T")

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

    def exists(self, path: str) -> bool:
        """Whether the secret exists, from its metadata only (never its value)."""
        ...


def _unreachable(path: str, error: Exception) -> SecretAccessError:
    """Secrets Manager could not be reached at all (fetch and describe alike)."""
    return SecretAccessError(
        f"cannot reach AWS Secrets Manager for {path!r} ({type(error).__name__}); check the "
        "region, credentials and network, or use --offline / --secrets-file"
    )


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
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code == "InvalidRequestException" and "delet" in message.lower():  # "marked for deletion"
                raise SecretAccessError(
                    f"secret {path!r} is scheduled for deletion in AWS Secrets Manager; restore it "
                    f"(aws secretsmanager restore-secret --secret-id {path}) or delete it for good, "
                    "then retry (not falling back to the default path meanwhile)"
                ) from error
            raise SecretAccessError(
                f"cannot read secret {path!r} from AWS Secrets Manager ({code}); not falling back to "
                "the default path, because only a missing secret may fall back. Check the caller's "
                "IAM permissions (secretsmanager:GetSecretValue, kms:Decrypt) and retry."
            ) from error
        except BotoCoreError as error:
            raise _unreachable(path, error) from error
        text = answer.get("SecretString")
        if text is None:
            raise SecretAccessError(f"secret {path!r} holds binary data; store it as a string (JSON)")
        return str(text)

    def exists(self, path: str) -> bool:
        """``DescribeSecret``: metadata only, so the caller needs no right to read the value."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.describe_secret(SecretId=path)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == "ResourceNotFoundException":
                return False
            raise SecretAccessError(
                f"cannot describe secret {path!r} in AWS Secrets Manager ({code}); not falling back to "
                "the default path, because only a missing secret may fall back. Check the caller's "
                "IAM permissions (secretsmanager:DescribeSecret) and retry."
            ) from error
        except BotoCoreError as error:
            raise _unreachable(path, error) from error
        if answer.get("DeletedDate") is not None:
            raise SecretAccessError(
                f"secret {path!r} is scheduled for deletion in AWS Secrets Manager; restore it "
                f"(aws secretsmanager restore-secret --secret-id {path}) or delete it for good, "
                "then retry (not falling back to the default path meanwhile)"
            )
        return True


_UTF8_BOM: Final = b"\xef\xbb\xbf"


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json`` object hook: a key given twice is an error (json keeps the last one silently)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


class FileSecretsBackend:
    """A local JSON file ``{"wms/main/dbInfo": {...}, "wms/default/brokerString": "h:9094"}``.

    For offline synth, local runs and tests. Object values are stored as JSON, strings as is.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        shown = str(path)
        if path.is_dir() or not shown or shown == ".":
            raise InputError(f"secrets file {shown!r} is a directory; pass --secrets-file with a JSON file")
        try:
            raw = path.read_bytes()
            if raw.startswith(_UTF8_BOM):
                raise InputError(
                    f"secrets file {shown!r} starts with a UTF-8 byte order mark (BOM), which JSON does not "
                    "allow; save it as UTF-8 without BOM"
                )
            loaded = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicates)
        except _DuplicateKeyError as error:
            raise InputError(
                f"secrets file {shown!r} names {error.key!r} twice in one object; JSON keeps only the last, "
                "silently: keep one"
            ) from None
        except FileNotFoundError as error:
            raise InputError(
                f"secrets file {shown!r} does not exist; pass --secrets-file with an existing file "
                f"(the example with fake values: {EXAMPLE_SECRETS_FILE}, or use --offline)"
            ) from error
        except OSError as error:
            raise InputError(f"secrets file {shown!r} cannot be read ({error.strerror})") from error
        except UnicodeDecodeError as error:
            raise InputError(
                f"secrets file {shown!r} is not UTF-8 text (byte {error.start}); save it as UTF-8 JSON"
            ) from None
        except json.JSONDecodeError as error:
            raise InputError(
                f"secrets file {shown!r} is not valid JSON (line {error.lineno}, column {error.colno})"
            ) from None
        except RecursionError:
            raise InputError(f"secrets file {shown!r} nests JSON too deeply to be a secrets file") from None
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

    def exists(self, path: str) -> bool:
        return path in self._values


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
    #: The problem is bad input (missing, malformed: exit 2), not a failure to read (exit 1).
    input_problem: bool = False

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


def locate_metadata(stage: Stage, name: str, backend: SecretsBackend) -> str | None:
    """The first existing path for ``name`` by metadata alone (``DescribeSecret``), or ``None``.

    The same fallback contract as :func:`locate`: the default path only when the stage's secret
    does not exist; any other failure raises."""
    for path in names_for(stage).secret_paths(name):
        if backend.exists(path):
            return path
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
    except RecursionError:
        raise SecretShapeError(f"secret {path!r} ({spec.name}) nests JSON too deeply") from None
    except ValueError as error:
        # Our own parsers word their errors by position and rule, never with the value.
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
    """Where every secret of the stage resolves, and whether it parses. Never returns a value, and
    never reads ``dbPassword`` or ``kafkaClientCert`` (``DescribeSecret`` only)."""
    results = []
    for spec in ALL_SECRETS:
        tried = names_for(stage).secret_paths(spec.name)
        path: str | None = None
        problem: str | None = None
        is_input = True
        try:
            if spec in (DB_PASSWORD, KAFKA_CLIENT_CERT):
                # Located by metadata only, like synth: whoever runs this needs no right to read the
                # password or the client key (their shapes are checked where they are read:
                # write-secrets, preflight, `kafka-cert write`, the topics Lambda).
                path = locate_metadata(stage, spec.name, backend)
            else:
                found = locate(stage, spec.name, backend)
                if found is None:
                    problem = "missing" if spec.required else None
                else:
                    path = found[0]
                    parse_secret(spec, *found)
        except WmsError as error:
            problem, is_input = str(error), isinstance(error, InputError)
        results.append(Lookup(spec.name, spec.required, path, backend.label, tried, problem, is_input))
    return results


@dataclass(frozen=True)
class PasswordSource:
    """Where the Oracle password of a stage lives, found without reading it (synth, deploy).

    ``key`` is the JSON key ECS injects: ``None`` for ``dbPassword`` (the whole value; the
    ``connect-secrets`` container unwraps ``{"password": ...}``), ``"password"`` for a legacy
    ``dbInfo`` that still holds it."""

    path: str
    key: str | None
    #: The legacy layout: the password is read from ``dbInfo`` (so is everything synth reads).
    legacy: bool
    #: ``dbPassword`` is used, but ``dbInfo`` still holds a ``password`` too (ignored).
    shadowed: bool = False

    @property
    def from_default(self) -> bool:
        return "/default/" in self.path


def locate_password(stage: Stage, db_info: Resolved[DbInfo], backend: SecretsBackend) -> PasswordSource:
    """``dbPassword`` by metadata (stage path, then default); else a legacy ``dbInfo``'s ``password``.

    When both exist, ``dbPassword`` wins and :func:`password_warnings` says to remove the old key:
    refusing would break the migration between its two steps (create ``dbPassword``, then remove
    the key from ``dbInfo``)."""
    path = locate_metadata(stage, DB_PASSWORD.name, backend)
    legacy = db_info.value.password is not None
    if path is not None:
        return PasswordSource(path, None, legacy=False, shadowed=legacy)
    if legacy:
        return PasswordSource(db_info.path, "password", legacy=True)
    tried = " and ".join(repr(p) for p in names_for(stage).secret_paths(DB_PASSWORD.name))
    raise SecretMissingError(
        f"secret {DB_PASSWORD.name!r} ({DB_PASSWORD.what}) not found at {tried} in {backend.label}, and "
        f"{db_info.path!r} holds no password either; create one of them (a plain string or "
        '{"password": "..."}; the stage path overrides the default)'
    )


def password_warnings(source: PasswordSource, db_info_path: str) -> tuple[str, ...]:
    """What synth says about where the password lives (pure; nothing when it is ``dbPassword`` alone)."""
    if source.legacy:
        return (
            f"the Oracle password is read from {db_info_path!r} (its 'password' key): whoever synthesizes "
            "or deploys (the CI deploy role) must be able to read the password. Fix, in this order: create "
            f"{DB_PASSWORD.name!r} at the same scope (a plain string, or JSON with the one key 'password'), "
            "deploy, then remove 'password' from dbInfo (earlier, the running task definition still "
            "points at that key), then drop the deploy role's GetSecretValue on the password "
            "(docs/infrastructure.md, 'Who can do what')",
        )
    if source.shadowed:
        return (
            f"{db_info_path!r} still holds a 'password' key, which is ignored: the connector uses "
            f"{source.path!r}. Remove the key from dbInfo once this deploy has finished, or the deploy "
            "role must still be able to read a password",
        )
    return ()


def resolve_password(stage: Stage, db_info: DbInfo, backend: SecretsBackend) -> SecretStr:
    """The password itself, for whoever really connects (preflight, the local run, the audit).

    ``dbPassword`` (stage path, then default), else a legacy ``dbInfo``'s ``password``."""
    found = resolve_optional(stage, DB_PASSWORD, backend)
    if found is not None:
        return found.value.password
    if db_info.password is not None:
        return db_info.password
    tried = " and ".join(repr(p) for p in names_for(stage).secret_paths(DB_PASSWORD.name))
    raise SecretMissingError(
        f"secret {DB_PASSWORD.name!r} ({DB_PASSWORD.what}) not found at {tried} in {backend.label}, and "
        "dbInfo holds no password either; create one of them"
    )


@dataclass(frozen=True)
class StageSecrets:
    """The secrets a deployment of a stage needs, resolved and parsed."""

    broker_string: Resolved[BrokerString]
    db_info: Resolved[DbInfo]
    vpc: Resolved[VpcInfo]
    alert_emails: Resolved[AlertEmails]
    iam_path: Resolved[IamPath] | None
    permissions_boundary: Resolved[PermissionsBoundary] | None
    msk_cluster: Resolved[MskCluster] | None = None
    #: Where the password is: found by metadata, never read (``None`` only in hand-built values).
    db_password: PasswordSource | None = None

    @property
    def password_source(self) -> PasswordSource:
        if self.db_password is not None:
            return self.db_password
        if self.db_info.value.password is None:
            raise SecretMissingError(
                f"no Oracle password: {self.db_info.path!r} holds none and no dbPassword"
            )
        return PasswordSource(self.db_info.path, "password", legacy=True)


def resolve_stage(stage: Stage, backend: SecretsBackend) -> StageSecrets:
    """Everything synth needs. The password is *located*, never read: ``dbPassword`` by metadata."""
    db_info = resolve(stage, DB_INFO, backend)
    return StageSecrets(
        broker_string=resolve(stage, BROKER_STRING, backend),
        db_info=db_info,
        vpc=resolve(stage, VPC, backend),
        alert_emails=resolve(stage, ALERT_EMAILS, backend),
        iam_path=resolve_optional(stage, IAM_PATH, backend),
        permissions_boundary=resolve_optional(stage, PERMISSIONS_BOUNDARY, backend),
        msk_cluster=resolve_optional(stage, MSK_CLUSTER_ARN, backend),
        db_password=locate_password(stage, db_info, backend),
    )


#: The checked-in example secrets file with obviously fake values (offline synth, local runs).
EXAMPLE_SECRETS_FILE: Final = Path(__file__).resolve().parents[1] / "data" / "secrets.example.json"


def backend_for(secrets_file: Path | None, offline: bool, region: str | None = None) -> SecretsBackend:
    """The file backend when a file is given or ``offline``; AWS Secrets Manager otherwise."""
    if secrets_file is not None:
        return FileSecretsBackend(secrets_file)
    if offline:
        return FileSecretsBackend(EXAMPLE_SECRETS_FILE)
    from wms_connector.aws import client

    return AwsSecretsBackend(client("secretsmanager", region))
