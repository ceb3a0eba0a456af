"""The generated org's audit log over HTTP: newest first, windows, cursors, one request per
100 events, actor shapes, and the switch that turns audit logging off."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.api_errors import AUDIT_LOGGING_OFF
from kscope_openai_pipeline.sandbox.server import Sandbox

from .clients import client

DAY = 86_400


@pytest.fixture
def http(sandbox: Sandbox) -> httpx.Client:
    with client(sandbox.base_url, sandbox.admin_key) as c:
        yield c


def _pages(http: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages, query = [], dict(params)
    while True:
        resp = http.get("/organization/audit_logs", params=query)
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        if not pages[-1]["has_more"]:
            return pages
        query["after"] = pages[-1]["last_id"]


def test_a_window_is_paged_newest_first_100_at_a_time(sandbox: Sandbox, http) -> None:
    org = sandbox.org
    lo, hi = org.start_day + 10 * DAY, org.start_day + 40 * DAY
    pages = _pages(http, {"effective_at[gte]": lo, "effective_at[lt]": hi, "limit": 100})
    events = [e for p in pages for e in p["data"]]
    expected = sorted(
        (e for e in org.audit_events if lo <= e.effective_at < hi),
        key=lambda e: (e.effective_at, e.id),
        reverse=True,
    )
    assert [e["id"] for e in events] == [e.id for e in expected]
    assert len(pages) == max(1, math.ceil(len(expected) / 100))
    assert all(len(p["data"]) == 100 for p in pages[:-1])
    assert [p["last_id"] for p in pages[:-1]] == [p["data"][-1]["id"] for p in pages[:-1]]


def test_filters_combine_with_the_window_and_the_cursor(sandbox: Sandbox, http) -> None:
    org = sandbox.org
    logins = [e for e in org.audit_events if e.type == "login.succeeded"]
    pages = _pages(http, {"event_types[]": "login.succeeded", "limit": 7})
    assert [e["id"] for p in pages for e in p["data"]] == [
        e.id for e in sorted(logins, key=lambda e: (e.effective_at, e.id), reverse=True)
    ]
    former = org.former_users[0]
    mine = http.get("/organization/audit_logs", params={"actor_ids[]": former.id, "limit": 100})
    assert {e["actor"]["session"]["user"]["email"] for e in mine.json()["data"]} == {
        former.email
    }
    # a cursor must name an event the query selects
    other = next(e.id for e in org.audit_events if e.type == "user.added")
    resp = http.get(
        "/organization/audit_logs", params={"event_types[]": "login.succeeded", "after": other}
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "after"


def test_actor_shapes(sandbox: Sandbox, http) -> None:
    org = sandbox.org
    sa_event = next(e for e in org.audit_events if e.actor_service_account_id)
    body = http.get(
        "/organization/audit_logs",
        params={"effective_at[gte]": sa_event.effective_at,
                "effective_at[lte]": sa_event.effective_at, "event_types[]": sa_event.type},
    ).json()
    [served] = [e for e in body["data"] if e["id"] == sa_event.id]
    assert served["actor"] == {
        "type": "api_key",
        "api_key": {
            "id": sa_event.actor_api_key_id,
            "type": "service_account",
            "service_account": {"id": sa_event.actor_service_account_id},
        },
    }
    assert served["rate_limit.updated"] == {
        "id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 500}
    }
    login = next(e for e in org.audit_events if e.type == "login.failed")
    body = http.get(
        "/organization/audit_logs",
        params={"effective_at[gte]": login.effective_at, "effective_at[lte]": login.effective_at},
    ).json()
    [served] = [e for e in body["data"] if e["id"] == login.id]
    assert served["login.failed"] == {
        "error_code": "invalid_credentials", "error_message": "Invalid email or password."
    }
    assert served["actor"]["type"] == "session" and "project" not in served


def test_audit_logging_off_is_a_403_for_the_audit_log_only() -> None:
    with Sandbox.start(seed=7, size="tiny", audit_logging=False) as sb, client(
        sb.base_url, sb.admin_key
    ) as http:
        resp = http.get("/organization/audit_logs", params={"limit": 100})
        assert resp.status_code == 403
        assert resp.json() == {
            "error": {
                "message": AUDIT_LOGGING_OFF,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        assert http.get("/organization/projects").status_code == 200
