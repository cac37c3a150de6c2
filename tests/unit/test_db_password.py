"""``dbPassword``: synth locates it by metadata only (moto's server, every call recorded), the
fallback contract holds for DescribeSecret too, the legacy layout keeps working and warns, and
whoever really connects reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from wms_connector.commands.audit import oracle_credentials
from wms_connector.errors import InputError
from wms_connector.secrets.shapes import DB_INFO, DB_PASSWORD, DbPassword, unwrap_password
from wms_connector.secrets.store import (
    AwsSecretsBackend,
    FileSecretsBackend,
    PasswordSource,
    SecretAccessError,
    SecretMissingError,
    SecretShapeError,
    lookup_all,
    parse_secret,
    password_warnings,
    resolve,
    resolve_password,
    resolve_stage,
)
from wms_connector.stages import Stage

STAGE = Stage("feature-pw")
DB = {"host": "db.example.com", "port": 1521, "db": "ORCLCDB", "pdb_name": "ORCLPDB1", "user": "c##dbz"}
PASSWORD = "Sup3r-Secret-Value-42"
OTHERS = {
    "brokerString": "b-1.example.invalid:9094",
    "vpc": {
        "id": "vpc-0123456789abcdef0",
        "private_subnets": ["subnet-0123456789abcdef0"],
        "azs": ["us-east-1a"],
    },
    "alertEmails": ["oncall@example.com"],
}


class Recording:
    """A real boto3 client (moto's server) that records each call and its SecretId."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, str(kwargs.get("SecretId", ""))))
            return method(**kwargs)

        return call

    def read(self, what: str) -> list[str]:
        return [path for call, path in self.calls if call == "get_secret_value" and what in path]

    def described(self, what: str) -> list[str]:
        return [path for call, path in self.calls if call == "describe_secret" and what in path]


@pytest.fixture
def sm(moto_endpoint: str) -> Iterator[Any]:
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto_endpoint)
    created: list[str] = []

    def put(name: str, value: Any) -> None:
        client.create_secret(Name=name, SecretString=value if isinstance(value, str) else json.dumps(value))
        created.append(name)

    for name, value in OTHERS.items():
        put(f"wms/default/{name}", value)
    client.put = put  # type: ignore[attr-defined]
    yield client
    for name in created:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_synth_locates_db_password_by_metadata_and_never_reads_it(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    sm.put("wms/default/dbPassword", PASSWORD)
    recording = Recording(sm)
    secrets = resolve_stage(STAGE, AwsSecretsBackend(recording))
    assert secrets.password_source == PasswordSource("wms/default/dbPassword", None, legacy=False)
    # The stage path first, then the default (only because the stage's does not exist) ...
    assert recording.described("dbPassword") == ["wms/feature-pw/dbPassword", "wms/default/dbPassword"]
    # ... and GetSecretValue never on a dbPassword path: the deploy role needs no right to read it.
    assert recording.read("dbPassword") == []
    assert password_warnings(secrets.password_source, secrets.db_info.path) == ()
    assert PASSWORD not in repr(secrets)


def test_the_stage_db_password_wins_and_the_default_is_not_even_described(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    sm.put("wms/feature-pw/dbPassword", {"password": PASSWORD})
    sm.put("wms/default/dbPassword", "other")
    recording = Recording(sm)
    source = resolve_stage(STAGE, AwsSecretsBackend(recording)).password_source
    assert (source.path, source.from_default) == ("wms/feature-pw/dbPassword", False)
    assert recording.described("dbPassword") == ["wms/feature-pw/dbPassword"]
    assert recording.read("dbPassword") == []


def test_a_legacy_db_info_with_the_password_keeps_working_and_warns(sm: Any) -> None:
    sm.put("wms/feature-pw/dbInfo", {**DB, "password": PASSWORD})
    secrets = resolve_stage(STAGE, AwsSecretsBackend(sm))
    source = secrets.password_source
    assert source == PasswordSource("wms/feature-pw/dbInfo", "password", legacy=True)
    [warning] = password_warnings(source, secrets.db_info.path)
    assert "deploy role" in warning and "must be able to read the password" in warning  # the risk
    assert "dbPassword" in warning and "remove 'password' from dbInfo" in warning  # the fix
    assert PASSWORD not in warning
    # Whoever really connects still gets it.
    assert (
        resolve_password(STAGE, secrets.db_info.value, AwsSecretsBackend(sm)).get_secret_value() == PASSWORD
    )


def test_both_present_prefers_db_password_and_warns_to_remove_the_old_key(sm: Any) -> None:
    sm.put("wms/default/dbInfo", {**DB, "password": "the-old-one"})
    sm.put("wms/feature-pw/dbPassword", PASSWORD)
    secrets = resolve_stage(STAGE, AwsSecretsBackend(sm))
    source = secrets.password_source
    assert (source.path, source.legacy, source.shadowed) == ("wms/feature-pw/dbPassword", False, True)
    [warning] = password_warnings(source, secrets.db_info.path)
    assert (
        "still holds a 'password' key, which is ignored" in warning
        and "'wms/feature-pw/dbPassword'" in warning
    )
    password = resolve_password(STAGE, secrets.db_info.value, AwsSecretsBackend(sm))
    assert password.get_secret_value() == PASSWORD


def test_no_password_anywhere_names_both_db_password_paths(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    with pytest.raises(SecretMissingError) as caught:
        resolve_stage(STAGE, AwsSecretsBackend(sm))
    message = str(caught.value)
    assert "'wms/feature-pw/dbPassword' and 'wms/default/dbPassword'" in message
    assert "'wms/default/dbInfo' holds no password" in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_describe_errors_other_than_not_found_never_fall_back(code: str) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_secret", service_error_code=code, expected_params={"SecretId": "wms/feature-pw/dbPassword"}
    )
    with stubber, pytest.raises(SecretAccessError) as caught:
        AwsSecretsBackend(client).exists("wms/feature-pw/dbPassword")
    assert code in str(caught.value) and "secretsmanager:DescribeSecret" in str(caught.value)
    assert "not falling back" in str(caught.value)
    stubber.assert_no_pending_responses()


def test_a_db_password_scheduled_for_deletion_stops_instead_of_falling_back(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    sm.put("wms/feature-pw/dbPassword", PASSWORD)
    sm.put("wms/default/dbPassword", "other")
    sm.delete_secret(SecretId="wms/feature-pw/dbPassword", RecoveryWindowInDays=7)
    recording = Recording(sm)
    with pytest.raises(SecretAccessError, match="scheduled for deletion"):
        resolve_stage(STAGE, AwsSecretsBackend(recording))
    assert recording.described("dbPassword") == ["wms/feature-pw/dbPassword"]


@pytest.mark.parametrize(
    ("raw", "password"),
    [
        (PASSWORD, PASSWORD),
        (json.dumps({"password": PASSWORD}), PASSWORD),
        ("  spaces kept  ", "  spaces kept  "),
        ("{starts with a brace, not JSON", "{starts with a brace, not JSON"),
    ],
)
def test_db_password_is_a_plain_string_or_one_json_key(raw: str, password: str) -> None:
    parsed = parse_secret(DB_PASSWORD, "wms/x/dbPassword", raw)
    assert parsed.password.get_secret_value() == password == unwrap_password(raw)
    assert PASSWORD not in repr(parsed)


@pytest.mark.parametrize(
    "raw", ["", json.dumps({"password": ""}), json.dumps({"password": PASSWORD, "user": "u"})]
)
def test_a_malformed_db_password_names_the_path_never_the_value(raw: str) -> None:
    with pytest.raises(SecretShapeError) as caught:
        parse_secret(DB_PASSWORD, "wms/x/dbPassword", raw)
    assert "'wms/x/dbPassword' (dbPassword)" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_db_info_without_password_is_the_new_layout() -> None:
    db = parse_secret(DB_INFO, "wms/x/dbInfo", json.dumps(DB))
    assert db.password is None
    assert db.target.host == DB["host"] and db.target.pdb_name == DB["pdb_name"]
    assert DbPassword.parse(PASSWORD).password.get_secret_value() == PASSWORD


def test_resolve_password_reads_db_password_with_the_fallback(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    sm.put("wms/default/dbPassword", json.dumps({"password": PASSWORD}))
    db = resolve(STAGE, DB_INFO, AwsSecretsBackend(sm)).value
    assert resolve_password(STAGE, db, AwsSecretsBackend(sm)).get_secret_value() == PASSWORD


def test_the_secrets_command_locates_db_password_without_reading_it(sm: Any) -> None:
    sm.put("wms/default/dbInfo", DB)
    sm.put("wms/feature-pw/dbPassword", PASSWORD)
    recording = Recording(sm)
    rows = {row.name: row for row in lookup_all(STAGE, AwsSecretsBackend(recording))}
    assert (rows["dbPassword"].path, rows["dbPassword"].problem) == ("wms/feature-pw/dbPassword", None)
    assert recording.read("dbPassword") == [] and recording.described("dbPassword") == [
        "wms/feature-pw/dbPassword"
    ]


def _file(tmp_path: Path, data: dict[str, Any]) -> FileSecretsBackend:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(data))
    return FileSecretsBackend(path)


def test_the_scheduled_audit_reads_the_paths_the_deploy_named(tmp_path: Path) -> None:
    backend = _file(
        tmp_path,
        {
            "wms/default/dbInfo": DB,
            "wms/default/dbPassword": {"password": PASSWORD},
            "wms/x/dbInfo": {**DB, "password": "old"},
        },
    )
    db, password = oracle_credentials(STAGE, backend, "wms/default/dbInfo", "wms/default/dbPassword")
    assert (db.host, password.get_secret_value()) == (DB["host"], PASSWORD)
    # Legacy: the deploy named a dbInfo that holds the password, and no --password-secret.
    assert oracle_credentials(STAGE, backend, "wms/x/dbInfo")[1].get_secret_value() == "old"
    # By hand, without paths: the fallback (dbPassword wins over nothing in dbInfo).
    assert oracle_credentials(STAGE, backend)[1].get_secret_value() == PASSWORD
    with pytest.raises(InputError, match="--password-secret 'wms/none/dbPassword' does not exist"):
        oracle_credentials(STAGE, backend, "wms/default/dbInfo", "wms/none/dbPassword")
