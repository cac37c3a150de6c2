"""Kafka Connect REST API: a Protocol with one method per endpoint, one httpx implementation,
and a Strimzi-style reconcile.

Retries live inside the client: a 409 (the group is rebalancing) on any call and a 404 just after
a create are retried with a :class:`BackOff`, so callers never see them (a 409 "already exists"
is final and raised at once). An Oracle connector cannot
be created or changed while Oracle is unreachable: Connect validates before storing and answers
HTTP 400 with the connection error; that becomes :class:`DatabaseUnreachableError` (a ``WmsError``)
after the back-off is spent, never a crash.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol
from urllib.parse import quote

import httpx

from wms_connector.errors import WmsError

#: Keys Connect adds to a stored config (echoed by GET) that a desired config may not carry.
ECHOED_KEYS: Final = ("name",)
#: Phrases of the validation error Connect returns when the database cannot be reached.
_UNREACHABLE_MARKERS: Final = (
    "unable to connect",
    "connection refused",
    "could not connect",
    "failed to resolve oracle database version",
    "ora-12541",
    "ora-12514",
    "connection attempt failed",
    "unknownhost",
    "timed out",
    # PgJDBC (the stand-in's PostgreSQL connector): "Connection to HOST:PORT refused. Check that
    # the hostname and port are correct and that the postmaster is accepting TCP/IP connections."
    "postmaster is accepting tcp/ip connections",
)


@dataclass(frozen=True)
class BackOff:
    """Delays ``scale_ms * base**n`` for attempt ``n`` (0-based), at most ``max_attempts`` attempts."""

    scale_ms: int = 200
    base: float = 2.0
    max_attempts: int = 6

    def delay_ms(self, attempt: int) -> int:
        return int(self.scale_ms * self.base**attempt)

    def delays_ms(self) -> list[int]:
        """The waits between attempts (one fewer than the attempts)."""
        return [self.delay_ms(n) for n in range(self.max_attempts - 1)]


class ConnectRestError(WmsError):
    """A non-2xx answer from Connect, with its status code so callers can branch on it."""

    def __init__(self, status: int, message: str, url: str = "") -> None:
        super().__init__(f"Kafka Connect answered {status} for {url}: {message}" if url else message)
        self.status = status
        self.message = message
        self.url = url


class ConnectUnreachableError(WmsError):
    """The Connect REST endpoint does not answer."""


class DatabaseUnreachableError(WmsError):
    """Connect refused a create/update because the source database cannot be reached."""


#: PostgreSQL's JDBC driver (the stand-in): "Connection to 127.0.0.1:5432 refused. Check that ...".
_REFUSED_TO = re.compile(r"connection to \S+ refused")


def is_unreachable_message(message: str) -> bool:
    text = message.lower()
    return any(marker in text for marker in _UNREACHABLE_MARKERS) or bool(_REFUSED_TO.search(text))


class ConnectApi(Protocol):
    """One method per Kafka Connect REST endpoint we use."""

    def root(self) -> dict[str, Any]: ...
    def health(self) -> tuple[int, dict[str, Any]]: ...
    def plugins(self) -> list[dict[str, Any]]: ...
    def validate(self, plugin: str, config: Mapping[str, str]) -> dict[str, Any]: ...
    def list_connectors(self) -> dict[str, Any]: ...
    def get_config(self, name: str) -> dict[str, str]: ...
    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]: ...
    def create(
        self, name: str, config: Mapping[str, str], initial_state: str = "RUNNING"
    ) -> dict[str, Any]: ...
    def status(self, name: str) -> dict[str, Any]: ...
    def restart(self, name: str, include_tasks: bool = False, only_failed: bool = False) -> None: ...
    def restart_task(self, name: str, task: int) -> None: ...
    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def stop(self, name: str) -> None: ...
    def delete(self, name: str) -> None: ...
    def offsets(self, name: str) -> dict[str, Any]: ...
    def delete_offsets(self, name: str) -> None: ...
    def alter_offsets(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]: ...


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return str(body)[:500]


def _is_conflict_that_stays(response: httpx.Response) -> bool:
    """A 409 that no retry can change: ``POST /connectors`` for a name that already exists.

    Connect's other 409s (a rebalance or a concurrent config change) mean the request was not
    carried out and may be retried.
    """
    return response.status_code == 409 and "already exists" in _message(response).lower()


def _is_rebalance(response: httpx.Response) -> bool:
    """Connect also answers 500 "Request cannot be completed because a rebalance is expected" (seen
    right after a create/delete on Kafka 4.3): as retriable as a 409."""
    return response.status_code == 500 and "rebalance" in _message(response).lower()


@dataclass
class HttpConnectApi:
    """The real client. ``sleep`` is injected so tests and callers control waiting."""

    base_url: str
    timeout_s: float = 90.0
    backoff: BackOff = field(default_factory=BackOff)
    unreachable_backoff: BackOff = field(default_factory=lambda: BackOff(scale_ms=1000, max_attempts=1))
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout_s)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        retry_404: bool = False,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        retriable = {409} | ({404} if retry_404 else set())
        attempt = 0
        while True:
            try:
                response = self._http().request(method, path, json=json, params=params)
            except httpx.TransportError as error:
                raise ConnectUnreachableError(
                    f"Kafka Connect at {self.base_url} does not answer ({type(error).__name__}: {error}); "
                    "is the worker running and the URL right?"
                ) from error
            if response.is_success or response.status_code in ok:
                return response
            if (
                (response.status_code in retriable and not _is_conflict_that_stays(response))
                or _is_rebalance(response)
            ) and attempt + 1 < self.backoff.max_attempts:
                self.sleep(self.backoff.delay_ms(attempt) / 1000)
                attempt += 1
                continue
            raise ConnectRestError(response.status_code, _message(response), f"{method} {path}")

    @staticmethod
    def _c(name: str) -> str:
        return f"/connectors/{quote(name, safe='')}"

    # -- endpoints -------------------------------------------------------------------------------
    def root(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/").json()
        return result

    def health(self) -> tuple[int, dict[str, Any]]:
        """``GET /health`` (Kafka 3.9+): 200 healthy, 503 starting, 500 unhealthy."""
        response = self._call("GET", "/health", ok=(500, 503))
        return response.status_code, response.json()

    def plugins(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/connector-plugins").json()
        return result

    def validate(self, plugin: str, config: Mapping[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PUT", f"/connector-plugins/{quote(plugin, safe='')}/config/validate", json=dict(config)
        ).json()
        return result

    def list_connectors(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/connectors", params={"expand": "status"}).json()
        return result

    def get_config(self, name: str) -> dict[str, str]:
        result: dict[str, str] = self._call("GET", f"{self._c(name)}/config").json()
        return result

    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        """Create or update (idempotent). An unreachable database becomes
        :class:`DatabaseUnreachableError` after ``unreachable_backoff`` is spent."""
        attempt = 0
        while True:
            try:
                result: dict[str, Any] = self._call(
                    "PUT", f"{self._c(name)}/config", json=dict(config)
                ).json()
                return result
            except ConnectRestError as error:
                reason = self._connection_refusal(error, config)
                if reason is None:
                    raise
                if attempt + 1 >= self.unreachable_backoff.max_attempts:
                    raise DatabaseUnreachableError(
                        f"source database unreachable: Kafka Connect refused connector {name!r} because "
                        f"validation could not connect ({reason.strip()[:300]}). Connect stores no "
                        "connector while the database is unreachable: check host/port in dbInfo, the "
                        "network path and the listener, then retry."
                    ) from error
                self.sleep(self.unreachable_backoff.delay_ms(attempt) / 1000)
                attempt += 1

    def _connection_refusal(self, error: ConnectRestError, config: Mapping[str, str]) -> str | None:
        """The connection error behind a refused create/update; ``None`` when the cause is another.

        Connect normally answers 400 with the validation errors. Connect 4.3 with Debezium 3.6.1
        answers 500 instead (a NullPointerException while formatting them, from ConfigDef keys that
        have no ConfigValue), so the errors are asked for again from the validate endpoint.
        """
        if error.status == 400 and is_unreachable_message(error.message):
            return error.message
        plugin = config.get("connector.class", "").rsplit(".", 1)[-1]
        if error.status not in (400, 500) or not plugin:
            return None
        errors = validation_errors(self.validate(plugin, config))
        if not errors:
            return None
        if all(e.is_connection_error for e in errors):
            return "; ".join(f"{e.key}: {e.message}" for e in errors)
        listed = "; ".join(f"{e.key}: {e.message}" for e in errors)
        raise ConnectRestError(
            error.status, f"the connector config is invalid: {listed}", error.url
        ) from error

    def create(self, name: str, config: Mapping[str, str], initial_state: str = "RUNNING") -> dict[str, Any]:
        """``POST /connectors`` with ``initial_state`` (KIP-980): RUNNING, PAUSED or STOPPED."""
        body = {"name": name, "config": {**config, "name": name}, "initial_state": initial_state}
        result: dict[str, Any] = self._call("POST", "/connectors", json=body).json()
        return result

    def status(self, name: str) -> dict[str, Any]:
        # 404 just after a create: the status is written asynchronously.
        result: dict[str, Any] = self._call("GET", f"{self._c(name)}/status", retry_404=True).json()
        return result

    def restart(self, name: str, include_tasks: bool = False, only_failed: bool = False) -> None:
        params = {"includeTasks": str(include_tasks).lower(), "onlyFailed": str(only_failed).lower()}
        self._call("POST", f"{self._c(name)}/restart", params=params)

    def restart_task(self, name: str, task: int) -> None:
        self._call("POST", f"{self._c(name)}/tasks/{task}/restart")

    def pause(self, name: str) -> None:
        self._call("PUT", f"{self._c(name)}/pause")

    def resume(self, name: str) -> None:
        self._call("PUT", f"{self._c(name)}/resume")

    def stop(self, name: str) -> None:
        self._call("PUT", f"{self._c(name)}/stop")

    def delete(self, name: str) -> None:
        self._call("DELETE", self._c(name))

    def offsets(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"{self._c(name)}/offsets").json()
        return result

    def delete_offsets(self, name: str) -> None:
        """``DELETE /connectors/{n}/offsets`` (KIP-875): the connector must be STOPPED."""
        self._call("DELETE", f"{self._c(name)}/offsets")

    def alter_offsets(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /connectors/{n}/offsets`` (KIP-875) with ``{"offsets": [...]}``: STOPPED only."""
        result: dict[str, Any] = self._call("PATCH", f"{self._c(name)}/offsets", json=dict(body)).json()
        return result


# -- reconcile -------------------------------------------------------------------------------------


class ReconcileAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DEFERRED = "deferred"  # differs, but another writer owns the config (see ``reconcile``)


@dataclass(frozen=True)
class ReconcileResult:
    name: str
    action: ReconcileAction
    changed_keys: tuple[str, ...] = ()


def normalize(desired: Mapping[str, str], name: str) -> dict[str, str]:
    """``desired`` plus the keys Connect echoes back, so equal configs compare equal."""
    result = {key: str(value) for key, value in desired.items()}
    result.setdefault("name", name)
    return result


def config_diff(desired: Mapping[str, str], actual: Mapping[str, str]) -> tuple[str, ...]:
    """Keys whose value differs, or that exist on only one side (sorted)."""
    keys = set(desired) | set(actual)
    return tuple(sorted(k for k in keys if desired.get(k) != actual.get(k)))


def reconcile(
    api: ConnectApi,
    name: str,
    desired: Mapping[str, str],
    *,
    ignore: frozenset[str] = frozenset(),
    defer: Callable[[Mapping[str, str]], bool] | None = None,
) -> ReconcileResult:
    """Make the connector's stored config equal ``desired``: 404 -> create, diff -> PUT, equal -> nothing.

    Keys in ``ignore`` do not count as a difference (the agent's generation stamp). When the
    configs differ and ``defer(actual)`` is true, nothing is written (a newer writer owns it).
    """
    wanted = normalize(desired, name)
    try:
        actual = api.get_config(name)
    except ConnectRestError as error:
        if error.status != 404:
            raise
        api.put_config(name, wanted)
        return ReconcileResult(name, ReconcileAction.CREATED, tuple(sorted(wanted)))
    changed = tuple(k for k in config_diff(wanted, actual) if k not in ignore)
    if not changed:
        return ReconcileResult(name, ReconcileAction.UNCHANGED)
    if defer is not None and defer(actual):
        return ReconcileResult(name, ReconcileAction.DEFERRED, changed)
    api.put_config(name, wanted)
    return ReconcileResult(name, ReconcileAction.UPDATED, changed)


# -- validation answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    key: str
    message: str

    @property
    def is_connection_error(self) -> bool:
        return is_unreachable_message(self.message)


def validation_errors(answer: Mapping[str, Any]) -> list[FieldError]:
    """Every per-field error in a ``/config/validate`` answer, in the plugin's order."""
    found = []
    for item in answer.get("configs", []):
        value = item.get("value") or {}
        for message in value.get("errors", []):
            found.append(FieldError(str(value.get("name", "?")), str(message)))
    return found
