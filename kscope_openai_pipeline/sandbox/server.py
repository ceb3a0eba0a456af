"""The sandbox HTTP server: a loopback stand-in for the OpenAI Admin API.

Why: the pipeline, its tests, the demo and the benchmarks must exercise real HTTP
(auth, both pagination styles, the API's 400s, retries on 429/5xx) without an OpenAI
account. `Sandbox.start()` serves a deterministic `SyntheticOrg` (a pure function of seed
and size, built once per process and cached) on a free loopback port, with the API's
rules enforced and faults injectable per request.

    with Sandbox.start(seed=7, size="tiny") as sb:
        sb.base_url, sb.admin_key, sb.org, sb.requests
        sb.inject(Fault(kind="429", path="/organization/usage/*", times=2))

The server is read-only: every documented GET listed in routes_admin/routes_usage is
served; other methods and paths answer OpenAI's 404 "Invalid URL (...)".
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from . import routes_admin as admin
from .api_errors import AUDIT_LOGGING_OFF, ApiError, invalid_url
from .auth import authorize
from .families import FAMILIES
from .faults import Fault, FaultPlan
from .jsonbody import dumps
from .model import SyntheticOrg
from .query import Query
from .routes_usage import costs_page, usage_page
from .view import OrgView

__all__ = ["Fault", "Sandbox", "ServedRequest", "load_org"]

USAGE_SCOPE = "api.usage.read"
MANAGEMENT_SCOPE = "api.management.read"
AUDIT_SCOPE = "api.audit_logs.read"
#: Every scope a route needs; `deny_scopes` takes these.
SCOPES = (MANAGEMENT_SCOPE, USAGE_SCOPE, AUDIT_SCOPE)
AUDIT_LOGS_PATH = "/organization/audit_logs"

Handler = Callable[..., dict[str, Any] | bytes]


class ServedRequest(NamedTuple):
    """One request as the sandbox saw it; `path` is after `/v1`, status 0 = dropped."""

    method: str
    path: str
    query: list[tuple[str, str]]
    status: int


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    handler: Handler
    scope: str


def _route(path: str, handler: Handler, scope: str = MANAGEMENT_SCOPE) -> _Route:
    return _Route(re.compile("^" + path.replace("{id}", "([^/]+)") + "$"), handler, scope)


def _usage_handler(view: OrgView, q: Query, family: str) -> bytes:
    return usage_page(view, q, family)


ROUTES: tuple[_Route, ...] = (
    _route("/organization/projects", admin.list_projects),
    _route("/organization/projects/{id}", admin.get_project),
    _route("/organization/projects/{id}/api_keys", admin.list_project_keys),
    _route("/organization/projects/{id}/api_keys/{id}", admin.get_project_key),
    _route("/organization/projects/{id}/service_accounts", admin.list_service_accounts),
    _route("/organization/projects/{id}/users", admin.list_project_users),
    _route("/organization/admin_api_keys", admin.list_admin_keys),
    _route("/organization/admin_api_keys/{id}", admin.get_admin_key),
    _route("/organization/users", admin.list_users),
    _route("/organization/users/{id}", admin.get_user),
    _route("/organization/invites", admin.list_invites),
    _route("/organization/invites/{id}", admin.get_invite),
    _route(AUDIT_LOGS_PATH, admin.list_audit_logs, AUDIT_SCOPE),
    _route("/organization/costs", costs_page, USAGE_SCOPE),
    _route(f"/organization/usage/({'|'.join(FAMILIES)})", _usage_handler, USAGE_SCOPE),
)


# -- org cache -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def load_org(seed: int, size: str) -> SyntheticOrg:
    """The synthetic org for (seed, size), built once per process."""
    from .org import build_org  # imported lazily: generation is heavy and optional here

    return build_org(seed, size)


@functools.lru_cache(maxsize=8)
def _cached_view(seed: int, size: str) -> OrgView:
    return OrgView(load_org(seed, size))


_VIEWS_BY_ORG: dict[int, OrgView] = {}
_VIEWS_LOCK = threading.Lock()


def _view_of(org: SyntheticOrg) -> OrgView:
    """The view of a caller-supplied org, reused while the same object is passed again."""
    with _VIEWS_LOCK:
        view = _VIEWS_BY_ORG.get(id(org))
        if view is None or view.org is not org:
            if len(_VIEWS_BY_ORG) >= 8:
                _VIEWS_BY_ORG.pop(next(iter(_VIEWS_BY_ORG)))
            view = _VIEWS_BY_ORG[id(org)] = OrgView(org)
        return view


# -- fault responses ---------------------------------------------------------------------


def _fault_error(fault: Fault, full_path: str) -> ApiError:
    if fault.kind in ("429", "429_no_retry_after"):
        headers: dict[str, str] = {}
        wait = "later"
        if fault.kind == "429" and fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
            if fault.retry_after.isdigit():
                wait = f"in {fault.retry_after}s"
        if fault.kind == "429" and fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        return ApiError(
            429,
            f"Rate limit reached for requests to {full_path}. Please try again {wait}.",
            type="requests",
            param=None,
            code="rate_limit_exceeded",
            headers=headers,
        )
    messages = {
        "500": "The server had an error while processing your request. Sorry about that!",
        "502": "Bad gateway.",
        "503": "The server is overloaded or not ready yet.",
    }
    return ApiError(int(fault.kind), messages[fault.kind], type="server_error", param=None,
                    code=None)


def _as_payload(payload: dict[str, Any] | bytes) -> dict[str, Any]:
    """A route's result as a dict (usage/costs pages arrive pre-rendered as bytes)."""
    if isinstance(payload, bytes):
        return json.loads(payload, parse_float=Decimal)
    return payload


def corrupt_type(payload: dict[str, Any]) -> dict[str, Any]:
    """Give one field of a 200 body the wrong type (what a 'wrong_type' fault sends).

    A page: the first metric of the first result becomes "abc" (a costs amount value
    likewise); a list: the first item's `created_at` (or `effective_at`) becomes "abc";
    anything without such a field: `data` becomes an object.
    """
    data = payload.get("data")
    if payload.get("object") == "page" and isinstance(data, list):
        for bucket in data:
            for result in bucket.get("results", []):
                if "amount" in result:
                    result["amount"]["value"] = "abc"
                    return payload
                for name, value in result.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        result[name] = "abc"
                        return payload
    if isinstance(data, list) and data:
        for field in ("created_at", "effective_at", "added_at"):
            if field in data[0]:
                data[0][field] = "abc"
                return payload
    if "created_at" in payload:
        payload["created_at"] = "abc"
        return payload
    payload["data"] = {"object": "list"}
    return payload


# -- the server --------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid 40 ms stalls
    server_version = "kscope-openai-sandbox"
    sys_version = ""
    sandbox: Sandbox  # set on the per-sandbox subclass

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.sandbox._serve(self)

    def _other(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.sandbox._serve(self)

    do_POST = do_DELETE = do_PUT = do_PATCH = _other

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: request lines are in `Sandbox.requests`; headers are never logged."""


class Sandbox:
    """A running sandbox server; use `Sandbox.start(...)` (a context manager)."""

    def __init__(
        self,
        org: SyntheticOrg,
        view: OrgView,
        host: str,
        port: int,
        faults: Iterable[Fault] = (),
        expired_keys: Iterable[str] = (),
        admin_key: str | None = None,
        deny_scopes: Iterable[str] = (),
        audit_logging: bool = True,
        organization_header: bool = True,
        organization_in_costs: bool = True,
    ) -> None:
        self.org = org
        self.view = view
        self.admin_key: str = admin_key or org.admin_key
        self.expired_keys = frozenset(expired_keys)
        self.deny_scopes = frozenset(deny_scopes)
        unknown = sorted(self.deny_scopes - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scope(s) {unknown}; the sandbox's scopes: {SCOPES}")
        self.audit_logging = audit_logging
        self.organization_header = organization_header
        self.organization_in_costs = organization_in_costs
        self._faults = FaultPlan(list(faults))
        self._log: list[ServedRequest] = []
        self._log_lock = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0
        self._counter = 0
        handler = type("SandboxHandler", (_RequestHandler,), {"sandbox": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
            name=f"sandbox-{self.port}", daemon=True,
        )
        self._stopped = False

    @classmethod
    def start(
        cls,
        seed: int = 7,
        size: str = "tiny",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: Iterable[Fault] | None = None,
        expired_keys: Iterable[str] = (),
        org: SyntheticOrg | None = None,
        admin_key: str | None = None,
        deny_scopes: Iterable[str] = (),
        audit_logging: bool = True,
        organization_header: bool = True,
        organization_in_costs: bool = True,
    ) -> Sandbox:
        """Build (or reuse) the org for (seed, size) and serve it; port 0 = a free port.

        `org` serves a hand-built org instead (tests); `expired_keys` are keys answered
        with the 401 expiry error; `admin_key` overrides the org's accepted key.
        `deny_scopes` (of SCOPES) are scopes the admin key lacks: their routes answer the
        403 a project key gets. `audit_logging=False` is an organization that never
        switched audit logging on. The organization's id is told the way the live API
        tells it: the `openai-organization` response header and an `organization_id` on
        every cost result; `organization_header` / `organization_in_costs` switch each off.
        """
        if org is None:
            view = _cached_view(seed, size)
            org = view.org
        else:
            view = _view_of(org)
        sandbox = cls(
            org, view, host, port, faults or (), expired_keys, admin_key,
            deny_scopes=deny_scopes,
            audit_logging=audit_logging,
            organization_header=organization_header,
            organization_in_costs=organization_in_costs,
        )  # fmt: skip
        sandbox._thread.start()
        view.warm_in_background()
        return sandbox

    # -- public surface ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def requests(self) -> list[ServedRequest]:
        """A snapshot of every request served so far, in arrival order."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._peak_in_flight = self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """Most requests being served at the same moment since the start (or the last
        `clear_requests`): how concurrent a client really was, counted by the server. A
        request counts from its arrival until its answer starts to go out, not until its
        handler thread ends: a client that waits for each answer before the next request
        must count as 1 however late the handler finishes."""
        with self._log_lock:
            return self._peak_in_flight

    def inject(self, fault: Fault) -> None:
        """Add a fault; it applies to the next matching requests (see Fault)."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:  # never shows the key
        return f"Sandbox(base_url={self.base_url!r}, seed={self.org.seed}, size={self.org.size!r})"

    # -- request handling ------------------------------------------------------------------

    def _record(self, method: str, path: str, query: Query, status: int) -> None:
        with self._log_lock:
            self._log.append(ServedRequest(method, path, list(query.pairs), status))

    def _next_request_id(self) -> str:
        with self._log_lock:
            self._counter += 1
            n = self._counter
        digest = hashlib.sha256(f"{self.org.seed}:{self.port}:{n}".encode()).hexdigest()
        return f"req_{digest[:32]}"

    def _dispatch(self, method: str, full_path: str, api_path: str | None, q: Query,
                  auth: str | None) -> dict[str, Any] | bytes:
        if method != "GET" or api_path is None:
            raise invalid_url(method, full_path)
        for route in ROUTES:
            match = route.pattern.match(api_path)
            if match:
                authorize(auth, self.admin_key, self.expired_keys, route.scope,
                           self.deny_scopes)
                if api_path == AUDIT_LOGS_PATH and not self.audit_logging:
                    raise ApiError(403, AUDIT_LOGGING_OFF, param=None, code=None)
                if route.handler is costs_page:
                    org = self.org.organization_id if self.organization_in_costs else None
                    return costs_page(self.view, q, organization_id=org)
                return route.handler(self.view, q, *match.groups())
        raise invalid_url(method, full_path)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._log_lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        left = False

        def leave() -> None:
            """The request stops counting as in flight (once; see `peak_in_flight`)."""
            nonlocal left
            if not left:
                left = True
                with self._log_lock:
                    self._in_flight -= 1

        try:
            self._serve_counted(h, leave)
        finally:
            leave()

    def _serve_counted(self, h: BaseHTTPRequestHandler, leave: Callable[[], None]) -> None:
        began = time.perf_counter()
        split = urlsplit(h.path)
        full_path = split.path
        api_path = full_path[3:] if full_path.startswith("/v1/") else None
        log_path = api_path if api_path is not None else full_path
        q = Query(split.query)
        headers: dict[str, str] = {}
        payload: dict[str, Any] | bytes
        fault = self._faults.take(log_path, after=False)
        if fault is not None and fault.kind == "drop":
            self._record(h.command, log_path, q, 0)
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        try:
            if fault is not None:
                raise _fault_error(fault, full_path)
            payload = self._dispatch(h.command, full_path, api_path, q,
                                     h.headers.get("Authorization"))
            status = 200
        except ApiError as err:
            status, payload, headers = err.status, err.body(), dict(err.headers)
        except Exception:  # a sandbox bug must still answer like the API does
            status = 500
            payload = _fault_error(Fault(kind="500"), full_path).body()
        truncate = False
        if status == 200:
            after = self._faults.take(log_path, after=True)
            if after is not None and after.kind == "wrong_type":
                payload = corrupt_type(_as_payload(payload))
            truncate = after is not None and after.kind == "truncated"
        body = payload if isinstance(payload, bytes) else dumps(payload)
        if truncate:
            body = body[: len(body) // 2]
        self._record(h.command, log_path, q, status)
        leave()  # before the first byte goes out: the client may send its next request then
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.send_header("x-request-id", self._next_request_id())
            if self.organization_header and status != 401:  # no valid key: no organization
                h.send_header("openai-organization", self.org.organization_id)
            h.send_header("openai-version", "2020-10-01")
            h.send_header("openai-processing-ms", str(int((time.perf_counter() - began) * 1000)))
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True
