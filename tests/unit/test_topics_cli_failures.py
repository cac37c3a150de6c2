"""``topics`` commands on an expected failure: one error line and exit 1, never a traceback."""

from __future__ import annotations

import pytest

from wms_connector.cli import main


def test_iam_auth_without_aws_credentials_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No credentials anywhere: the MSK IAM token cannot be signed, so the client never gets one.
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(
        [
            "topics",
            "create",
            "--stage",
            "feature-x",
            "--bootstrap",
            "127.0.0.1:1",
            "--auth",
            "iam",
            "--region",
            "us-east-1",
            "--dry-run",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert "cannot open a Kafka client for 127.0.0.1:1 (iam auth)" in err
    assert "check the AWS credentials" in err
