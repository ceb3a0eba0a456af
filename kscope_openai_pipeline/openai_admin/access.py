"""A preflight of the admin key: one cheap request per permission the crawl needs.

Why: a key that lost a scope should fail in seconds with a table naming what is missing
and what to do, not deep inside a backfill on the first usage page. Each permission is
probed with the smallest request that needs it (`limit=1`, one day of usage, one page of
costs); the audit log is probed too but is optional (many organizations never switched
it on). One attempt per probe, a short timeout, no retries: the question is "may this key
read X", and a retry storm against an API that is down would only delay the answer.

The probes also collect what the API says about the organization (the
`openai-organization` header, `organization_id` on cost rows): see organization.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from .client import DEFAULT_BASE_URL
from .errors import (
    AUDIT_LOGGING_HOW_TO,
    AdminApiError,
    AdminApiRetryExhausted,
    is_audit_logging_off,
    status_error,
)
from .organization import HEADER, OrganizationEvidence
from .secret import BearerAuth, Secret, register_for_log_redaction, unregister_for_log_redaction
from .tls import ssl_context
from .window import utc_midnight

OK = "ok"
DENIED = "denied (403)"
INVALID_KEY = "invalid key (401)"
NOT_ENABLED = "not enabled"
UNREACHABLE = "unreachable"
NOT_CHECKED = "not checked"
NOT_THE_API = "error (not the Admin API)"

#: Days of costs the costs probe asks for (one page): enough to find a cost row that
#: names the organization in most organizations, still one small response.
COST_PROBE_DAYS = 31
PROBE_TIMEOUT = 10.0

_MISSING_SCOPE = re.compile(r"missing scopes?:\s*([\w.:, ]+?)(?:\.\s|\.?$)", re.I)


@dataclass(frozen=True)
class Permission:
    """One permission the pipeline needs, and the endpoint that proves it."""

    name: str
    required: bool
    reads: str  # what the pipeline reads with it, for the advice
    path: str  # the endpoint probed; {project_id} = the first listed project

    @property
    def label(self) -> str:
        return self.name if self.required else f"{self.name} (optional)"


PERMISSIONS: tuple[Permission, ...] = (
    Permission("read:organization", True, "the organization's admin keys",
               "/organization/admin_api_keys"),
    Permission("read:projects", True, "projects, their members and service accounts",
               "/organization/projects"),
    Permission("read:api_keys", True, "every project's API keys",
               "/organization/projects/{project_id}/api_keys"),
    Permission("read:users", True, "members and invites", "/organization/users"),
    Permission("read:usage", True, "usage of every family", "/organization/usage/completions"),
    Permission("read:costs", True, "costs", "/organization/costs"),
    Permission("read:audit_log", False, "the audit log", "/organization/audit_logs"),
)  # fmt: skip


@dataclass(frozen=True)
class Probe:
    """The answer for one permission: what was asked, what came back, what to do."""

    permission: Permission
    endpoint: str  # as shown: method, path and the query that matters
    result: str  # OK, DENIED, INVALID_KEY, NOT_ENABLED, UNREACHABLE, NOT_CHECKED, "error (...)"
    advice: str = ""
    status: int | None = None
    detail: str | None = None  # the API's message or the connection error

    @property
    def ok(self) -> bool:
        return self.result == OK

    @property
    def transient(self) -> bool:
        """Worth trying again later (the API or the network), not a key problem."""
        return self.result == UNREACHABLE or (
            self.status is not None and (self.status in (408, 409, 429) or self.status >= 500)
        )


@dataclass(frozen=True)
class AccessReport:
    """Every probe, in PERMISSIONS order, and what the responses said about the org."""

    base_url: str
    probes: tuple[Probe, ...]
    evidence: OrganizationEvidence

    @property
    def missing(self) -> list[Probe]:
        """Required permissions that are not ok."""
        return [p for p in self.probes if p.permission.required and not p.ok]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def transient(self) -> bool:
        """Every missing permission failed for a reason a later attempt may not have
        (the API or the network; a probe not checked follows the one it waited for)."""
        failed = [p for p in self.missing if p.result != NOT_CHECKED]
        return bool(failed) and all(p.transient for p in failed)

    def summary(self) -> str:
        required = sum(p.permission.required for p in self.probes)
        if self.ok:
            return f"All {required} required permissions are ok."
        names = ", ".join(p.permission.name for p in self.missing)
        return f"{len(self.missing)} of {required} required permissions are not ok: {names}."

    def table(self) -> str:
        """The probes as an aligned text table (permission, endpoint, result, what to do)."""
        header = ("permission", "endpoint probed", "result", "what to do")
        rows = [(p.permission.label, p.endpoint, p.result, p.advice) for p in self.probes]
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(3)]

        def line(cells: Sequence[str]) -> str:
            padded = [c.ljust(w) for c, w in zip(cells, widths, strict=False)]
            return "  ".join([*padded, cells[3]]).rstrip()

        return "\n".join(
            [line(header), line(["-" * w for w in widths] + ["-" * len(header[3])])]
            + [line(r) for r in rows]
        )


def _default_day() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


class _Prober:
    """One httpx client, one attempt per request; collects the organization evidence."""

    def __init__(
        self,
        secret: Secret,
        base_url: str,
        timeout: float,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.headers: list[str] = []
        self.cost_rows: list[str] = []
        self.http = httpx.Client(
            base_url=self.base_url + "/",
            auth=BearerAuth(secret),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "kscope-openai-pipeline"},
            follow_redirects=False,
            transport=transport,
            verify=ssl_context(),
        )

    def get(
        self, path: str, params: Mapping[str, str]
    ) -> tuple[int, Any, str | None] | httpx.TransportError:
        """(status, JSON body or None, the API's error message) or the transport error."""
        try:
            response = self.http.get(path.lstrip("/"), params=dict(params))
        except httpx.TransportError as err:
            return err
        org = response.headers.get(HEADER)
        if org:
            self.headers.append(org)
        try:
            body = response.json()
        except ValueError:
            body = None
        message = None
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            text = error.get("message") if isinstance(error, dict) else None
            if not isinstance(text, str):
                text = response.text[:300].strip() or None
            message = self.secret.scrub(text) if text else None
        return response.status_code, body, message

    def close(self) -> None:
        self.http.close()


def _advice(permission: Permission, status: int, message: str | None) -> tuple[str, str]:
    """(result, what to do) for an HTTP error answer."""
    said = message or ""
    if is_audit_logging_off(permission.path, status, message, None):
        return NOT_ENABLED, (
            AUDIT_LOGGING_HOW_TO + ("" if permission.required else "; the crawl runs without it")
        )
    if status == 401:
        return INVALID_KEY, (
            "check OPENAI_ADMIN_KEY: a current admin key (sk-admin-...), not revoked or expired"
        )
    if status == 403:
        scope = _MISSING_SCOPE.search(said)
        lacks = f"the key lacks {scope.group(1).strip()}: " if scope else ""
        return DENIED, (
            f"{lacks}use an admin key allowed to read {permission.reads} (an Owner creates "
            "one in Organization settings > Admin keys)"
        )
    if status == 404:
        return f"error (HTTP {status})", "check OPENAI_BASE_URL ends with /v1"
    return f"error (HTTP {status})", (
        f"the API answered {status}{': ' + said if said else ''}; try again later"
    )


def _shown(path: str, params: Mapping[str, str]) -> str:
    if "start_time" in params:
        first = datetime.fromtimestamp(int(params["start_time"]), UTC).date()
        last = datetime.fromtimestamp(int(params["end_time"]), UTC).date() - timedelta(days=1)
        days = str(first) if first == last else f"{first}..{last}"
        return f"GET {path} ({days})"
    return f"GET {path}?limit={params['limit']}"


def _params(permission: Permission, day: date) -> dict[str, str]:
    end = str(utc_midnight(day + timedelta(days=1)))
    if permission.name == "read:usage":
        return {"start_time": str(utc_midnight(day)), "end_time": end,
                "bucket_width": "1d", "limit": "1"}  # fmt: skip
    if permission.name == "read:costs":
        start = day - timedelta(days=COST_PROBE_DAYS - 1)
        return {"start_time": str(utc_midnight(start)), "end_time": end,
                "bucket_width": "1d", "limit": str(COST_PROBE_DAYS)}  # fmt: skip
    if permission.name == "read:projects":
        return {"limit": "1", "include_archived": "true"}
    if permission.name == "read:api_keys":
        return {"limit": "1", "owner_project_access": "any"}
    return {"limit": "1"}


def _cost_row_organizations(body: Any) -> list[str]:
    """`organization_id` of every cost result in a costs page (tolerant of any shape)."""
    found: list[str] = []
    for bucket in body.get("data", []) if isinstance(body, dict) else []:
        results = bucket.get("results", bucket.get("result")) if isinstance(bucket, dict) else []
        for result in results if isinstance(results, list) else []:
            org = result.get("organization_id") if isinstance(result, dict) else None
            if isinstance(org, str) and org:
                found.append(org)
    return found


def _first_project(body: Any) -> str | None:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        pid = data[0].get("id")
        return pid if isinstance(pid, str) and pid else None
    return None


def check_access(
    api_key: str | Secret,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: float = PROBE_TIMEOUT,
    day: date | None = None,
    transport: httpx.BaseTransport | None = None,
) -> AccessReport:
    """Probe every permission once (see the module docstring) and report.

    `day` is the UTC day whose usage (and the 31 days of costs ending with it) the probes
    ask for: yesterday by default; a run over a range of days probes its last day. After
    one probe finds the API unreachable the rest are not tried (same answer, no storm).
    """
    secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
    day = day or _default_day()
    prober = _Prober(secret, base_url, timeout, transport)
    register_for_log_redaction(secret)
    probes: list[Probe] = []
    project: str | None = None
    unreachable: str | None = None
    try:
        for permission in PERMISSIONS:
            params = _params(permission, day)
            path = permission.path
            if "{project_id}" in path:
                if project is None and unreachable is None:
                    probes.append(Probe(
                        permission, f"GET {path.replace('{project_id}', '...')}", NOT_CHECKED,
                        "needs read:projects first (no project to list the keys of)",
                    ))  # fmt: skip
                    continue
                path = path.format(project_id=project or "...")
            shown = _shown(path, params)
            if unreachable is not None:
                probes.append(Probe(
                    permission, shown, UNREACHABLE,
                    f"check OPENAI_BASE_URL ({prober.base_url}) and the network "
                    "(not tried: the API was unreachable)", detail=unreachable,
                ))  # fmt: skip
                continue
            answer = prober.get(path, params)
            if isinstance(answer, httpx.TransportError):
                unreachable = f"{type(answer).__name__}: {secret.scrub(str(answer)) or 'no answer'}"
                probes.append(Probe(
                    permission, shown, UNREACHABLE,
                    f"check OPENAI_BASE_URL ({prober.base_url}) and the network: {unreachable}",
                    detail=unreachable,
                ))  # fmt: skip
                continue
            status, body, message = answer
            if 200 <= status < 300 and not isinstance(body, dict):
                probes.append(Probe(
                    permission, shown, NOT_THE_API,
                    f"check OPENAI_BASE_URL ({prober.base_url}): HTTP {status} without a JSON "
                    "object came back", status,
                ))  # fmt: skip
                continue
            if 200 <= status < 300:
                if permission.name == "read:projects":
                    project = _first_project(body)
                if permission.name == "read:costs":
                    prober.cost_rows.extend(_cost_row_organizations(body))
                probes.append(Probe(permission, shown, OK, status=status))
                continue
            result, advice = _advice(permission, status, message)
            probes.append(Probe(permission, shown, result, advice, status, message))
    finally:
        prober.close()
        unregister_for_log_redaction(secret)
    evidence = OrganizationEvidence.of(header=prober.headers, cost_rows=prober.cost_rows)
    return AccessReport(prober.base_url, tuple(probes), evidence)


def identify_organization(
    api_key: str | Secret,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: float = PROBE_TIMEOUT,
    day: date | None = None,
    transport: httpx.BaseTransport | None = None,
) -> OrganizationEvidence:
    """What one small costs request (31 days ending `day`, ungrouped) says about the org.

    The header answers whatever the status; without it, a refused or failed request
    raises the client's typed error (401, 403, ..., or AdminApiRetryExhausted after the
    one attempt), since its cost rows could not be read.
    """
    secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
    costs = next(p for p in PERMISSIONS if p.name == "read:costs")
    params = _params(costs, day or _default_day())
    prober = _Prober(secret, base_url, timeout, transport)
    register_for_log_redaction(secret)
    try:
        answer = prober.get(costs.path, params)
    finally:
        prober.close()
        unregister_for_log_redaction(secret)
    if isinstance(answer, httpx.TransportError):
        raise AdminApiRetryExhausted(
            f"{costs.path}: the Admin API at {prober.base_url} is unreachable "
            f"({type(answer).__name__}: {secret.scrub(str(answer))})",
            endpoint=costs.path,
            attempts=1,
            last_status=type(answer).__name__,
        ) from None
    status, body, message = answer
    evidence = OrganizationEvidence.of(
        header=prober.headers,
        cost_rows=_cost_row_organizations(body) if 200 <= status < 300 else [],
    )
    if not (200 <= status < 300) and not evidence.header:
        error: AdminApiError = status_error(
            endpoint=costs.path, status=status, api_message=message, param=None, code=None
        )
        raise error
    return evidence
