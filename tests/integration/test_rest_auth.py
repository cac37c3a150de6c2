"""Connect's REST API behind the basic-auth extension, on a local cluster of two real workers.

Opt-in (``LocalCluster.rest_credential``, ``local up --rest-auth``): the rest of the suite keeps
its open REST API. Writes without the credential are refused; the agent's wiring and an operator
command carry it; a write sent to a follower is forwarded to the leader with the caller's header.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from wms_connector.cli import main
from wms_connector.commands.agent import AgentSource, build_agent
from wms_connector.connect.rest import ConnectRestError, HttpConnectApi
from wms_connector.connect.rest_auth import PASSWORD_ENV, USER_ENV, RestCredential
from wms_connector.local.cluster import LocalCluster
from wms_connector.local.fetch import FetchResult
from wms_connector.naming import names_for
from wms_connector.stages import Stage

pytestmark = pytest.mark.integration

STAGE = Stage("it-rest-auth")
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


@pytest.fixture(scope="module")
def credential() -> RestCredential:
    return RestCredential("wms-agent", SecretStr(secrets.token_urlsafe(24)))


@pytest.fixture(scope="module")
def auth_cluster(
    runtime_jars: FetchResult, tmp_path_factory: pytest.TempPathFactory, credential: RestCredential
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        tmp_path_factory.mktemp("rest-auth-cluster"), runtime_jars.layout, rest_credential=credential
    )
    cluster.up(STAGE, 2)
    try:
        yield cluster
    finally:
        cluster.down()


def file_source(tmp: Path, name: str) -> dict[str, str]:
    source = tmp / f"{name}.txt"
    source.write_text("")
    return {
        "connector.class": FILE_SOURCE,
        "tasks.max": "1",
        "file": str(source),
        "topic": f"{names_for(STAGE).topic_namespace}rest-auth-{name}",
    }


def eventually_listed(api: HttpConnectApi, names: set[str], timeout_s: float = 30) -> None:
    """A follower learns of a new connector when it reads the config topic: moments later."""
    deadline = time.monotonic() + timeout_s
    while not names <= set(api.list_connectors()):
        assert time.monotonic() < deadline, f"{names} not listed by {api.base_url}"
        time.sleep(0.25)


def test_a_write_without_the_credential_is_refused_with_401(
    auth_cluster: LocalCluster, tmp_path: Path
) -> None:
    for url in auth_cluster.rest_urls:
        answer = httpx.put(
            f"{url}/connectors/anonymous/config", json=file_source(tmp_path, "anon"), timeout=30
        )
        assert answer.status_code == 401, answer.text
        wrong = httpx.put(
            f"{url}/connectors/anonymous/config",
            json=file_source(tmp_path, "anon"),
            auth=("wms-agent", "not-the-password"),
            timeout=30,
        )
        assert wrong.status_code == 401
    # Nothing was created by either attempt.
    assert httpx.get(f"{auth_cluster.rest_urls[0]}/connectors", timeout=30).status_code == 401


def test_the_client_without_a_credential_says_what_to_set(auth_cluster: LocalCluster) -> None:
    api = HttpConnectApi(auth_cluster.rest_urls[0], timeout_s=30)
    with pytest.raises(ConnectRestError) as caught:
        api.list_connectors()
    assert caught.value.status == 401
    assert USER_ENV in str(caught.value) and PASSWORD_ENV in str(caught.value)


def test_writes_through_either_worker_succeed_so_the_follower_forwards_with_the_header(
    auth_cluster: LocalCluster, credential: RestCredential, tmp_path: Path
) -> None:
    # Two workers, one leader: whichever it is, one of these two writes reached a follower, which
    # forwarded it to the leader with the caller's Authorization header.
    created = []
    for index, url in enumerate(auth_cluster.rest_urls):
        api = HttpConnectApi(url, timeout_s=60, credential=credential)
        name = f"rest-auth-{index}"
        api.put_config(name, file_source(tmp_path, name))
        created.append(name)
    for url in auth_cluster.rest_urls:
        api = HttpConnectApi(url, timeout_s=60, credential=credential)
        eventually_listed(api, set(created))
    for name in created:
        HttpConnectApi(auth_cluster.rest_urls[1], timeout_s=60, credential=credential).delete(name)


def test_the_agent_and_an_operator_command_carry_the_credential_from_their_environment(
    auth_cluster: LocalCluster,
    credential: RestCredential,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": auth_cluster.bootstrap,
        "WMS_STANDIN_HOST": "127.0.0.1",
        "WMS_STANDIN_PORT": "5432",
        "WMS_STANDIN_DB": "wms",
        "WMS_STANDIN_USER": "wms",
        USER_ENV: credential.user,
        PASSWORD_ENV: credential.password.get_secret_value(),
    }
    _, api = build_agent(
        stage_name=STAGE.name,
        source=AgentSource.STANDIN,
        connect_url=auth_cluster.rest_urls[1],
        metrics_url="http://127.0.0.1:9/metrics",
        worker_id=auth_cluster.rest_urls[1].removeprefix("http://"),
        state_file=None,
        reconcile_enabled=False,
        env=env,
    )
    try:
        api.put_config("rest-auth-agent", file_source(tmp_path, "agent"))
        eventually_listed(api, {"rest-auth-agent"})
        api.delete("rest-auth-agent")
    finally:
        api.close()
    monkeypatch.setenv(USER_ENV, credential.user)
    monkeypatch.setenv(PASSWORD_ENV, credential.password.get_secret_value())
    code = main(
        [
            "status",
            "--stage",
            STAGE.name,
            "--connect-url",
            auth_cluster.rest_urls[0],
            "--source",
            "standin",
            "--json",
        ]
    )
    shown = capsys.readouterr().out
    report = json.loads(shown)
    assert "error" not in report, report
    assert credential.password.get_secret_value() not in shown
    assert report["worker_version"], report  # it read the worker: no 401
    assert code == 1, code  # no stand-in connector runs here: status says so by its exit code
