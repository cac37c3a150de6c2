"""Secret resolution against moto's server (real HTTP), shapes, and the never-fall-back-on-errors rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from wms_connector.secrets.shapes import ALERT_EMAILS, BROKER_STRING, DB_INFO, VPC
from wms_connector.secrets.store import (
    EXAMPLE_SECRETS_FILE,
    AwsSecretsBackend,
    FileSecretsBackend,
    SecretAccessError,
    SecretMissingError,
    SecretShapeError,
    lookup_all,
    resolve,
    resolve_password,
    resolve_stage,
)
from wms_connector.stages import Stage

STAGE = Stage("feature-sec")
DB = {"host": "db.example.com", "port": 1521, "db": "ORCLCDB", "pdb_name": "ORCLPDB1", "user": "c##dbz"}
PASSWORD = "Sup3r-Secret-Value-42"


@pytest.fixture
def sm(moto_endpoint: str) -> Iterator[Any]:
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto_endpoint)
    created: list[str] = []

    def put(name: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        client.create_secret(Name=name, SecretString=text)
        created.append(name)

    client.put = put  # type: ignore[attr-defined]
    yield client
    for name in created:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_stage_secret_wins_over_default(sm: Any) -> None:
    sm.put("wms/feature-sec/dbInfo", {**DB, "password": PASSWORD})
    sm.put("wms/default/dbInfo", {**DB, "host": "default.example.com", "password": "other"})
    got = resolve(STAGE, DB_INFO, AwsSecretsBackend(sm))
    assert got.path == "wms/feature-sec/dbInfo"
    assert got.value.host == "db.example.com"
    assert got.value.password.get_secret_value() == PASSWORD
    assert not got.from_default
    assert got.backend == "aws-secretsmanager"


def test_missing_stage_secret_falls_back_to_default(sm: Any) -> None:
    sm.put("wms/default/brokerString", "b-1.example.com:9094,b-2.example.com:9094")
    got = resolve(STAGE, BROKER_STRING, AwsSecretsBackend(sm))
    assert got.path == "wms/default/brokerString"
    assert got.from_default
    assert [str(b) for b in got.value.brokers] == ["b-1.example.com:9094", "b-2.example.com:9094"]


def test_missing_both_paths_names_both(sm: Any) -> None:
    with pytest.raises(SecretMissingError) as caught:
        resolve(STAGE, VPC, AwsSecretsBackend(sm))
    assert "'wms/feature-sec/vpc' and 'wms/default/vpc'" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException", "DecryptionFailure"])
def test_errors_other_than_not_found_never_fall_back(code: str) -> None:
    # moto cannot deny access, so this one error path uses botocore's Stubber on a real client.
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_secret_value", service_error_code=code, expected_params={"SecretId": "wms/feature-sec/dbInfo"}
    )
    with stubber, pytest.raises(SecretAccessError) as caught:
        resolve(STAGE, DB_INFO, AwsSecretsBackend(client))
    assert code in str(caught.value)
    assert "not falling back" in str(caught.value)
    stubber.assert_no_pending_responses()  # the default path was never asked


def test_malformed_json_names_the_path(sm: Any) -> None:
    sm.put("wms/feature-sec/dbInfo", "{not json")
    with pytest.raises(SecretShapeError, match=r"'wms/feature-sec/dbInfo' \(dbInfo\) is not valid JSON"):
        resolve(STAGE, DB_INFO, AwsSecretsBackend(sm))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({**DB, "port": "abc", "password": PASSWORD}, "'port'"),
        ({**DB, "port": 70000, "password": PASSWORD}, "'port'"),
        ({**DB, "port": 0, "password": PASSWORD}, "'port'"),
        ({k: v for k, v in DB.items() if k != "host"} | {"password": PASSWORD}, "'host'"),
        ({**DB, "password": ""}, "'password'"),
        ({**DB, "user": 12, "password": PASSWORD}, "'user'"),
    ],
)
def test_db_info_shape_errors_name_field_and_never_the_value(
    sm: Any, value: dict[str, Any], field: str
) -> None:
    sm.put("wms/default/dbInfo", value)
    with pytest.raises(SecretShapeError) as caught:
        resolve(STAGE, DB_INFO, AwsSecretsBackend(sm))
    message = str(caught.value)
    assert "wms/default/dbInfo" in message
    assert field in message
    assert PASSWORD not in message


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("[]", "at least one"),
        ('""', "at least one"),
        ('["not-an-address"]', "'0'"),
        ("ops@example.com, bad@", "'1'"),
        ('{"a": 1}', "list of e-mail"),
    ],
)
def test_alert_emails_shape(sm: Any, raw: str, problem: str) -> None:
    sm.put("wms/default/alertEmails", raw)
    with pytest.raises(SecretShapeError, match=problem):
        resolve(STAGE, ALERT_EMAILS, AwsSecretsBackend(sm))


def test_alert_emails_are_deduplicated(sm: Any) -> None:
    sm.put("wms/default/alertEmails", '["Ops@example.com", "ops@example.com", "dba@example.com"]')
    got = resolve(STAGE, ALERT_EMAILS, AwsSecretsBackend(sm))
    assert got.value.addresses == ("Ops@example.com", "dba@example.com")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "names no broker"),
        ("host-without-port", "entry 1: the port is missing"),
        ("h:9094,h2:x", "entry 2: the port is not a number"),
        ("h:70000", "entry 1: the port is outside 1..65535"),
        ("h:9094,,h2:9094", "entry 2"),
    ],
)
def test_broker_string_shape(sm: Any, raw: str, problem: str) -> None:
    sm.put("wms/default/brokerString", raw or " ")
    with pytest.raises(SecretShapeError, match=problem):
        resolve(STAGE, BROKER_STRING, AwsSecretsBackend(sm))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            {"id": "vpc-12", "private_subnets": ["subnet-1a2b3c4d"], "availability_zones": ["us-east-1a"]},
            "'id'",
        ),
        ({"id": "vpc-0123456789abcdef0", "private_subnets": [], "availability_zones": []}, "private_subnets"),
        (
            {
                "id": "vpc-0123456789abcdef0",
                "private_subnets": ["sub-1"],
                "availability_zones": ["us-east-1a"],
            },
            "not a subnet id",
        ),
        (
            {
                "id": "vpc-0123456789abcdef0",
                "private_subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "availability_zones": ["a"],
            },
            "one zone per private subnet",
        ),
    ],
)
def test_vpc_shape(sm: Any, value: dict[str, Any], problem: str) -> None:
    sm.put("wms/default/vpc", value)
    with pytest.raises(SecretShapeError, match=problem):
        resolve(STAGE, VPC, AwsSecretsBackend(sm))


def test_example_file_resolves_every_required_secret() -> None:
    secrets = resolve_stage(Stage("main"), FileSecretsBackend(EXAMPLE_SECRETS_FILE))
    assert secrets.db_info.path == "wms/default/dbInfo"
    assert secrets.db_info.value.password is None  # the password lives in dbPassword (located, not read)
    assert secrets.password_source.path == "wms/default/dbPassword"
    assert secrets.db_info.value.is_cdb
    assert secrets.iam_path is None
    prod = resolve_stage(Stage("production"), FileSecretsBackend(EXAMPLE_SECRETS_FILE))
    assert prod.alert_emails.path == "wms/production/alertEmails"


def test_password_is_never_in_a_repr() -> None:
    backend = FileSecretsBackend(EXAMPLE_SECRETS_FILE)
    secrets = resolve_stage(Stage("main"), backend)
    password = resolve_password(Stage("main"), secrets.db_info.value, backend).get_secret_value()
    assert "FAKE" in password
    assert password not in repr(secrets)
    assert password not in str(secrets.db_info.value)


def test_lookup_all_reports_paths_without_values(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps({"wms/default/dbInfo": {**DB, "password": PASSWORD}, "wms/default/vpc": "{bad"})
    )
    rows = {row.name: row for row in lookup_all(STAGE, FileSecretsBackend(path))}
    assert rows["dbInfo"].path == "wms/default/dbInfo"
    assert rows["dbInfo"].problem is None
    assert rows["brokerString"].problem == "missing"
    assert rows["vpc"].problem is not None and "not valid JSON" in rows["vpc"].problem
    assert rows["iamPath"].problem is None and not rows["iamPath"].found
    assert all(PASSWORD not in str(row) for row in rows.values())


@pytest.mark.parametrize(
    ("content", "problem"), [(None, "does not exist"), ("{x", "not valid JSON"), ("[]", "JSON object")]
)
def test_bad_secrets_file(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "secrets.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(Exception, match=problem) as caught:
        FileSecretsBackend(path)
    assert str(path) in str(caught.value)


def test_a_secret_scheduled_for_deletion_says_so_and_does_not_fall_back(sm: Any) -> None:
    from wms_connector.secrets.store import SecretAccessError

    sm.put("wms/feature-sec/brokerString", "b:9094")
    sm.put("wms/default/brokerString", "other:9094")
    sm.delete_secret(SecretId="wms/feature-sec/brokerString", RecoveryWindowInDays=7)
    with pytest.raises(SecretAccessError, match="scheduled for deletion") as info:
        resolve(STAGE, BROKER_STRING, AwsSecretsBackend(sm))
    assert "IAM" not in str(info.value)
