"""Every response shape the sandbox serves validates against OpenAI's official OpenAPI spec.

The spec is read from $OPENAI_OPENAPI_SPEC or ../shared/reference/openai-openapi.yaml
(never copied into the repo); the module is skipped, saying why, when it is absent.
Successful responses (and declared 429s) are validated with openapi-core against the
operation they came from; error bodies of undeclared statuses (400/401/403/404) against
`#/components/schemas/ErrorResponse` with the spec's own JSON Schema dialect.

Two adjustments, both in memory and both documented here:
- The spec's `UsageTimeBucket.results` is a `oneOf` with `discriminator: {propertyName:
  object}` but no `mapping`, so the implicit mapping (discriminator value = schema name)
  can never match values like "organization.usage.completions.result". The test adds the
  explicit mapping each `oneOf` target declares through its single-value `object` enum;
  without it no real API response would validate either.
- Costs `amount.value` is `number` in the spec, but the live API sometimes sends a JSON
  string ("12.50", see reference quirk 7) and the sandbox does so on purpose. Such bodies
  are validated twice: as sent, where the only violations allowed are those string
  amounts (each a plain decimal text), and with those strings read as numbers, which
  must validate fully.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.families import COSTS_API_KEY_FLOOR, FAMILIES
from kscope_openai_pipeline.sandbox.faults import Fault
from kscope_openai_pipeline.sandbox.server import Sandbox

from .clients import client

DAY = 86_400
_DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openai-openapi.yaml"
SPEC_PATH = Path(os.environ.get("OPENAI_OPENAPI_SPEC") or _DEFAULT_SPEC)

if not SPEC_PATH.is_file():
    pytest.skip(
        f"official OpenAPI spec not found at {SPEC_PATH} (set OPENAI_OPENAPI_SPEC to its path)",
        allow_module_level=True,
    )

yaml = pytest.importorskip("yaml")
openapi_core = pytest.importorskip("openapi_core")
from jsonschema.exceptions import ValidationError  # noqa: E402
from openapi_core import OpenAPI  # noqa: E402
from openapi_core.testing import MockRequest, MockResponse  # noqa: E402
from openapi_core.validation.response.exceptions import InvalidData  # noqa: E402
from openapi_schema_validator import OAS31Validator  # noqa: E402

DECIMAL_TEXT = re.compile(r"^-?[0-9]+\.[0-9]{2,9}$")


def add_discriminator_mappings(spec: dict[str, Any]) -> int:
    """Give each mapping-less discriminator the mapping its targets' `object` enums imply."""
    schemas = spec["components"]["schemas"]
    added = 0

    def walk(node: Any) -> None:
        nonlocal added
        if isinstance(node, dict):
            disc, alts = node.get("discriminator"), node.get("oneOf") or node.get("anyOf")
            if isinstance(disc, dict) and alts and "mapping" not in disc:
                mapping = {}
                for alt in alts:
                    ref = alt.get("$ref", "")
                    target = schemas.get(ref.rsplit("/", 1)[-1], {})
                    enum = target.get("properties", {}).get(disc["propertyName"], {}).get("enum")
                    if ref and enum and len(enum) == 1:
                        mapping[enum[0]] = ref
                if len(mapping) == len(alts):
                    disc["mapping"] = mapping
                    added += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["components"])
    walk(spec["paths"])
    return added


class Checker:
    """Validates responses; counts what it validated, per kind."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.api = OpenAPI.from_dict(spec, config=openapi_core.Config(spec_validator_cls=None))
        self.error_validator = OAS31Validator(
            {"components": spec["components"], "$ref": "#/components/schemas/ErrorResponse"}
        )
        self.counts: dict[str, int] = {"operation": 0, "error_schema": 0, "string_amounts": 0}

    def operation(self, path: str, resp: httpx.Response) -> None:
        """Validate against the spec operation for GET /v1{path} (path without query)."""
        request = MockRequest("https://api.openai.com", "get", "/v1" + path.split("?")[0])
        body = resp.content
        strings = _string_amounts(resp)
        if strings:
            with pytest.raises(InvalidData, match="is not of type 'number'"):
                self.api.validate_response(request, _mock(body, resp))  # as sent
            assert all(DECIMAL_TEXT.match(s) for s in strings), strings
            body = json.dumps(_numbers_for_strings(resp.json())).encode()
            self.counts["string_amounts"] += 1
        self.api.validate_response(request, _mock(body, resp))
        self.counts["operation"] += 1

    def error(self, resp: httpx.Response) -> None:
        try:
            self.error_validator.validate(resp.json())
        except ValidationError as exc:  # pragma: no cover - shows the body on failure
            raise AssertionError(f"{resp.status_code} {resp.text}: {exc.message}") from exc
        self.counts["error_schema"] += 1


def _mock(body: bytes, resp: httpx.Response) -> MockResponse:
    headers = {k: v for k, v in resp.headers.items() if k.lower() == "retry-after"}
    return MockResponse(body, status_code=resp.status_code,
                        content_type="application/json", headers=headers)


def _string_amounts(resp: httpx.Response) -> list[str]:
    body = resp.json()
    if not isinstance(body, dict) or body.get("object") != "page":
        return []
    return [r["amount"]["value"] for b in body["data"] for r in b["results"]
            if isinstance(r.get("amount", {}).get("value"), str)]


def _numbers_for_strings(body: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    for bucket in out["data"]:
        for result in bucket["results"]:
            value = result.get("amount", {}).get("value")
            if isinstance(value, str):
                result["amount"]["value"] = float(Decimal(value))
    return out


@pytest.fixture(scope="module")
def checker() -> Checker:
    """The spec, loaded once per module (about a second with the C YAML loader)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as fh:
        spec = yaml.load(fh, Loader=loader)
    assert add_discriminator_mappings(spec) > 0
    return Checker(spec)


@pytest.fixture(scope="module")
def tiny() -> Iterator[tuple[Sandbox, httpx.Client]]:
    with Sandbox.start(seed=7, size="tiny") as sb, client(sb.base_url, sb.admin_key) as http:
        yield sb, http


def _get_ok(http: httpx.Client, path: str, params: Any = None) -> httpx.Response:
    resp = http.get(path, params=params)
    assert resp.status_code == 200, (path, params, resp.text)
    return resp


def test_management_endpoints_conform(checker: Checker, tiny: tuple[Sandbox, httpx.Client]
                                      ) -> None:
    sb, http = tiny
    org = sb.org
    listed = [
        ("/organization/projects", None),
        ("/organization/projects", {"include_archived": "true"}),
        ("/organization/projects", {"include_archived": "true", "limit": 1}),
        ("/organization/admin_api_keys", None),
        ("/organization/admin_api_keys", {"order": "desc", "limit": 1}),
        ("/organization/users", None),
        ("/organization/users", {"limit": 2}),
        ("/organization/users", {"emails[]": [org.users[0].email, "nobody@example.com"]}),
        ("/organization/users", {"emails": "nobody@example.com"}),
        ("/organization/invites", None),
        ("/organization/audit_logs", None),
        ("/organization/audit_logs", {"limit": 3}),
        ("/organization/audit_logs", {"event_types[]": ["api_key.created", "user.added"]}),
        ("/organization/audit_logs", {"event_types[]": "api_key.deleted"}),
        ("/organization/audit_logs", {"effective_at[gte]": org.end_day}),  # empty
    ]
    for path, params in listed:
        resp = _get_ok(http, path, params)
        checker.operation(path, resp)
        body = resp.json()
        if body["has_more"]:  # the next page too
            nxt = _get_ok(http, path, {**(params or {}), "after": body["last_id"]})
            checker.operation(path, nxt)
    for project in org.projects:
        base = f"/organization/projects/{project.id}"
        checker.operation(base, _get_ok(http, base))
        for access in ("active", "inactive", "any"):
            resp = _get_ok(http, f"{base}/api_keys", {"owner_project_access": access})
            checker.operation(f"{base}/api_keys", resp)
            for key in resp.json()["data"][:2]:
                path = f"{base}/api_keys/{key['id']}"
                checker.operation(path, _get_ok(http, path))
        if project.status != "archived":
            for sub in ("service_accounts", "users"):
                checker.operation(f"{base}/{sub}", _get_ok(http, f"{base}/{sub}"))
    admin_key = next(k for k in org.api_keys if k.kind == "admin" and not k.deleted)
    for path in (f"/organization/admin_api_keys/{admin_key.id}",
                 f"/organization/users/{org.users[0].id}",
                 f"/organization/invites/{org.invites[0].id}"):
        checker.operation(path, _get_ok(http, path))
    statuses = {i.status for i in org.invites}
    assert {"pending", "expired"} <= statuses
    assert checker.counts["operation"] >= 40


def _usage_queries(org_start: int, org_end: int, family: str) -> list[dict[str, Any]]:
    dims = FAMILIES[family].dims
    week = org_end - 7 * DAY
    queries: list[dict[str, Any]] = [
        {"start_time": week},
        {"start_time": week, "group_by": ",".join(dims)},
        {"start_time": week + 5 * 3600 + 17, "limit": 3, "group_by[]": list(dims[:2])},
        {"start_time": week, "bucket_width": "1h", "limit": 30, "group_by": dims[-1]},
        {"start_time": org_end - 2 * 3600, "bucket_width": "1m", "limit": 90},
        {"start_time": org_start - 20 * DAY, "end_time": org_start - 5 * DAY},  # empty range
        {"start_time": org_end, "end_time": org_end + DAY},  # after the data
    ]
    queries += [{"start_time": week, "limit": 4, "group_by": d} for d in dims]
    return queries


@pytest.mark.parametrize("family", list(FAMILIES))
def test_usage_endpoints_conform(checker: Checker, tiny: tuple[Sandbox, httpx.Client],
                                 family: str) -> None:
    sb, http = tiny
    path = f"/organization/usage/{family}"
    results = 0
    for params in _usage_queries(sb.org.start_day, sb.org.end_day, family):
        resp = _get_ok(http, path, params)
        checker.operation(path, resp)
        body = resp.json()
        results += sum(len(b["results"]) for b in body["data"])
        if body["has_more"]:
            nxt = _get_ok(http, path, {**params, "page": body["next_page"]})
            checker.operation(path, nxt)
    assert results > 0


def test_costs_conform_including_string_amounts(checker: Checker,
                                                tiny: tuple[Sandbox, httpx.Client]) -> None:
    sb, http = tiny
    org = sb.org
    key_start = max(org.start_day, COSTS_API_KEY_FLOOR)
    queries: list[dict[str, Any]] = [
        {"start_time": org.start_day},
        {"start_time": org.start_day, "limit": 180},
        {"start_time": org.start_day, "limit": 10, "group_by": "project_id"},
        {"start_time": org.start_day, "limit": 10, "group_by[]": "line_item"},
        {"start_time": org.start_day, "limit": 10, "group_by": "project_id,line_item"},
        {"start_time": key_start, "limit": 10, "group_by": "api_key_id"},
        {"start_time": org.start_day + 3600, "limit": 3},  # partial first bucket
        {"start_time": org.start_day - 30 * DAY, "end_time": org.start_day},  # empty
    ]
    for params in queries:
        resp = _get_ok(http, "/organization/costs", params)
        checker.operation("/organization/costs", resp)
        body = resp.json()
        if body["has_more"]:
            nxt = _get_ok(http, "/organization/costs", {**params, "page": body["next_page"]})
            checker.operation("/organization/costs", nxt)
    assert checker.counts["string_amounts"] >= 3


def test_error_bodies_conform(checker: Checker, tiny: tuple[Sandbox, httpx.Client]) -> None:
    sb, http = tiny
    org = sb.org
    archived = next(p.id for p in org.projects if p.status == "archived")
    cases = [
        ("/organization/usage/completions", {}, 400),
        ("/organization/usage/completions", {"start_time": "abc"}, 400),
        ("/organization/usage/completions", {"start_time": 0, "limit": 32}, 400),
        ("/organization/usage/completions", {"start_time": 0, "group_by": "size"}, 400),
        ("/organization/usage/images", {"start_time": 0, "page": "page_bogus"}, 400),
        ("/organization/costs", {"start_time": 0, "bucket_width": "1h"}, 400),
        ("/organization/costs", {"start_time": 0, "limit": 366}, 400),
        ("/organization/costs", {"start_time": 0, "group_by": "api_key_id"}, 400),
        ("/organization/projects", {"limit": 101}, 400),
        (f"/organization/projects/{archived}/users", {}, 400),
        (f"/organization/projects/{archived}/service_accounts", {}, 400),
        ("/organization/projects/proj_nope", {}, 404),
        ("/organization/nope", {}, 404),
    ]
    for path, params, status in cases:
        resp = http.get(path, params=params)
        assert resp.status_code == status, (path, resp.text)
        checker.error(resp)
    with client(sb.base_url) as anonymous:
        checker.error(anonymous.get("/organization/projects"))
    with client(sb.base_url, "sk-proj-0123456789abcdef") as project_key:
        resp = project_key.get("/organization/costs", params={"start_time": 0})
        assert resp.status_code == 403
        checker.error(resp)
    assert checker.counts["error_schema"] >= 15


def test_declared_429s_conform(checker: Checker, tiny: tuple[Sandbox, httpx.Client]) -> None:
    sb, http = tiny
    for path in ("/organization/usage/embeddings", "/organization/costs",
                 "/organization/audit_logs"):
        sb.inject(Fault(kind="429", path=path, retry_after="3"))
        resp = http.get(path, params={"start_time": sb.org.start_day})
        assert resp.status_code == 429
        checker.operation(path, resp)
        sb.inject(Fault(kind="429_no_retry_after", path=path))
        resp = http.get(path, params={"start_time": sb.org.start_day})
        assert resp.status_code == 429 and "retry-after" not in resp.headers
        checker.operation(path, resp)


def test_the_checker_rejects_a_wrong_type(checker: Checker,
                                          tiny: tuple[Sandbox, httpx.Client]) -> None:
    """The validation can fail: a `wrong_type` fault's body does not conform."""
    sb, http = tiny
    sb.inject(Fault(kind="wrong_type", path="/organization/usage/completions"))
    resp = _get_ok(http, "/organization/usage/completions", {"start_time": sb.org.start_day})
    with pytest.raises(InvalidData, match="'abc' is not of type 'integer'"):
        checker.operation("/organization/usage/completions", resp)


def test_every_audit_event_shape_conforms(checker: Checker) -> None:
    """The small org's whole audit log, page by page: every event type and actor shape
    (sessions, user-owned admin keys, service-account keys, none), details included."""
    with Sandbox.start(seed=7, size="small") as sb, client(sb.base_url, sb.admin_key) as http:
        params: dict[str, Any] = {"limit": 100, "effective_at[gte]": 0}
        seen_types, actors, pages = set(), set(), 0
        while True:
            resp = _get_ok(http, "/organization/audit_logs", params)
            checker.operation("/organization/audit_logs", resp)
            body = resp.json()
            pages += 1
            for event in body["data"]:
                seen_types.add(event["type"])
                actor = event["actor"]
                actors.add(None if actor is None else (actor["type"], actor.get("api_key", {})
                                                       .get("type")))
            if not body["has_more"]:
                break
            params["after"] = body["last_id"]
        assert pages == 8 == -(-len(sb.org.audit_events) // 100)
        assert {"login.succeeded", "login.failed", "user.deleted", "project.archived",
                "rate_limit.updated", "invite.accepted"} <= seen_types
        assert actors == {None, ("session", None), ("api_key", "user"),
                          ("api_key", "service_account")}


def test_audit_logging_off_answer_conforms(checker: Checker) -> None:
    with Sandbox.start(seed=7, size="tiny", audit_logging=False) as sb, client(
        sb.base_url, sb.admin_key
    ) as http:
        resp = http.get("/organization/audit_logs", params={"limit": 100})
        assert resp.status_code == 403
        checker.error(resp)
        assert resp.json()["error"]["code"] is None
        assert _get_ok(http, "/organization/users").json()["data"]  # the rest still answers
