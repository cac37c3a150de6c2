from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from wms_connector.connect.rest import (
    BackOff,
    ConnectRestError,
    DatabaseUnreachableError,
    HttpConnectApi,
    ReconcileAction,
    config_diff,
    normalize,
    reconcile,
    validation_errors,
)


class FakeConnect:
    """A stateful in-memory Connect: real 404 and PUT semantics, counts writes."""

    def __init__(self) -> None:
        self.configs: dict[str, dict[str, str]] = {}
        self.puts = 0

    def get_config(self, name: str) -> dict[str, str]:
        if name not in self.configs:
            raise ConnectRestError(404, f"Connector {name} not found")
        return dict(self.configs[name])

    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        self.puts += 1
        self.configs[name] = {**config, "name": name}
        return {"name": name, "config": self.configs[name]}


def test_backoff_schedule() -> None:
    assert BackOff(scale_ms=100, base=2, max_attempts=5).delays_ms() == [100, 200, 400, 800]
    assert BackOff(max_attempts=1).delays_ms() == []


def test_reconcile_creates_then_noops_then_updates() -> None:
    fake = FakeConnect()
    desired = {"connector.class": "x.Y", "tasks.max": "1"}
    first = reconcile(fake, "c", desired)  # type: ignore[arg-type]
    assert first.action is ReconcileAction.CREATED
    second = reconcile(fake, "c", desired)  # type: ignore[arg-type]
    assert second.action is ReconcileAction.UNCHANGED
    assert fake.puts == 1
    third = reconcile(fake, "c", {**desired, "tasks.max": "2"})  # type: ignore[arg-type]
    assert third.action is ReconcileAction.UPDATED
    assert third.changed_keys == ("tasks.max",)
    assert fake.puts == 2


def test_normalize_and_diff() -> None:
    assert normalize({"a": "1"}, "n") == {"a": "1", "name": "n"}
    assert config_diff({"a": "1", "b": "2"}, {"a": "1", "c": "3"}) == ("b", "c")


def _api(handler: Any, **kwargs: Any) -> tuple[HttpConnectApi, list[float]]:
    slept: list[float] = []
    api = HttpConnectApi("http://connect.test", sleep=slept.append, **kwargs)
    api._client = httpx.Client(base_url="http://connect.test", transport=httpx.MockTransport(handler))
    return api, slept


def test_409_is_retried_with_backoff() -> None:
    answers = iter([409, 409, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={"name": "c", "config": {}})

    api, slept = _api(handler, backoff=BackOff(scale_ms=100, base=2, max_attempts=5))
    api.put_config("c", {"a": "1"})
    assert slept == [0.1, 0.2]


def test_409_gives_up_after_max_attempts() -> None:
    api, slept = _api(
        lambda r: httpx.Response(409, json={"message": "rebalance"}),
        backoff=BackOff(scale_ms=1, max_attempts=3),
    )
    with pytest.raises(ConnectRestError) as caught:
        api.restart("c")
    assert caught.value.status == 409
    assert len(slept) == 2


def test_status_retries_404_after_create_but_get_config_does_not() -> None:
    calls: list[str] = []
    answers = iter([404, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/status"):
            return httpx.Response(next(answers), json={"connector": {"state": "RUNNING"}})
        return httpx.Response(404, json={"message": "not found"})

    api, _ = _api(handler, backoff=BackOff(scale_ms=1, max_attempts=3))
    assert api.status("c")["connector"]["state"] == "RUNNING"
    with pytest.raises(ConnectRestError) as caught:
        api.get_config("c")
    assert caught.value.status == 404


def test_unreachable_database_on_put_is_a_clear_error_after_backoff() -> None:
    message = (
        "Connector configuration is invalid and contains the following 1 error(s):\n"
        "Unable to connect (primary): Failed to resolve Oracle database version"
    )
    api, slept = _api(
        lambda r: httpx.Response(400, json={"error_code": 400, "message": message}),
        unreachable_backoff=BackOff(scale_ms=10, base=2, max_attempts=3),
    )
    with pytest.raises(DatabaseUnreachableError, match="source database unreachable"):
        api.put_config("wms-connector-main-oracle", {"a": "1"})
    assert slept == [0.01, 0.02]


def test_other_400_is_not_mistaken_for_unreachable() -> None:
    api, _ = _api(
        lambda r: httpx.Response(400, json={"message": "Missing required configuration topic.prefix"})
    )
    with pytest.raises(ConnectRestError) as caught:
        api.put_config("c", {})
    assert caught.value.status == 400


def test_restart_sends_flags() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={})

    api, _ = _api(handler)
    api.restart("a b", include_tasks=True, only_failed=True)
    assert (
        seen[0].url.path == "/connectors/a%20b/restart"
        or seen[0].url.raw_path == b"/connectors/a%20b/restart?includeTasks=true&onlyFailed=true"
    )
    assert dict(seen[0].url.params) == {"includeTasks": "true", "onlyFailed": "true"}


def test_validation_errors_parsed() -> None:
    answer = json.loads(
        '{"name":"OracleConnector","error_count":2,"configs":['
        '{"value":{"name":"topic.prefix","value":null,"errors":["A value is required"]}},'
        '{"value":{"name":"database.hostname","value":"h","errors":["Unable to connect (primary): x"]}},'
        '{"value":{"name":"tasks.max","value":"1","errors":[]}}]}'
    )
    errors = validation_errors(answer)
    assert [(e.key, e.is_connection_error) for e in errors] == [
        ("topic.prefix", False),
        ("database.hostname", True),
    ]


def test_500_from_connect_is_explained_through_validate() -> None:
    """Connect 4.3 + Debezium 3.6.1 answer 500 (an NPE) instead of 400: the client asks validate."""
    npe = (
        'Cannot invoke "ConfigValueInfo.errors()" because the return value of '
        '"ConfigInfo.configValue()" is null'
    )
    answer = {
        "configs": [
            {"definition": {"name": "database.out.server.name"}, "value": None},
            {"value": {"name": "database.hostname", "errors": ["Unable to connect (primary): x"]}},
        ]
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/config/validate"):
            assert request.url.path == "/connector-plugins/OracleConnector/config/validate"
            return httpx.Response(200, json=answer)
        return httpx.Response(500, json={"error_code": 500, "message": npe})

    api, slept = _api(handler, unreachable_backoff=BackOff(scale_ms=1, max_attempts=2))
    with pytest.raises(DatabaseUnreachableError, match=r"database\.hostname"):
        api.put_config("c", {"connector.class": "io.debezium.connector.oracle.OracleConnector"})
    assert len(slept) == 1


def test_500_with_other_validation_errors_lists_them() -> None:
    answer = {"configs": [{"value": {"name": "topic.prefix", "errors": ["A value is required"]}}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/config/validate"):
            return httpx.Response(200, json=answer)
        return httpx.Response(500, json={"message": "boom"})

    api, _ = _api(handler)
    with pytest.raises(ConnectRestError, match=r"topic\.prefix: A value is required"):
        api.put_config("c", {"connector.class": "x.OracleConnector"})


def test_500_rebalance_expected_is_retried() -> None:
    answers = iter(
        [
            httpx.Response(
                500, json={"message": "Request cannot be completed because a rebalance is expected"}
            ),
            httpx.Response(200, json={"a": "1"}),
        ]
    )
    api, slept = _api(lambda r: next(answers), backoff=BackOff(scale_ms=10, max_attempts=3))
    assert api.get_config("c") == {"a": "1"}
    assert slept == [0.01]


def test_create_of_an_existing_connector_fails_at_once_but_a_rebalance_409_is_retried() -> None:
    rebalance = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        message = rebalance if len(calls) == 1 else "Connector c already exists"
        return httpx.Response(409, json={"error_code": 409, "message": message})

    # A long back-off (as `local run` uses): retrying "already exists" would wait ~17 minutes.
    api, slept = _api(handler, backoff=BackOff(scale_ms=500, max_attempts=12))
    with pytest.raises(ConnectRestError, match="already exists") as raised:
        api.create("c", {"connector.class": "x.Y"})
    assert raised.value.status == 409
    assert calls == ["POST /connectors", "POST /connectors"]
    assert slept == [0.5]
