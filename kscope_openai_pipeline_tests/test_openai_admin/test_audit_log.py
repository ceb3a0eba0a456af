"""The client's audit log reads: every event type by default, one page per 100 events,
actors flattened to columns, and "audit logging is off" told apart from a missing scope."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiAuditLogDisabled,
    AdminApiPermissionError,
    AdminApiStatusError,
)
from kscope_openai_pipeline.openai_admin.errors import is_audit_logging_off
from kscope_openai_pipeline.sandbox.server import Sandbox

from .test_client_scripted import Reply, err, running

T0 = 1764979200  # 2025-12-06


def test_a_window_costs_one_request_per_100_events_of_every_type(make_client) -> None:
    with Sandbox.start(seed=7, size="small") as sb:
        c = make_client(sb)
        start, end = date(2026, 8, 1), date(2026, 10, 1)
        pages = list(c.iter_audit_log_pages(start, end))
        lo, hi = (
            int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
            for d in (start, end)
        )
        expected = [e for e in sb.org.audit_events if lo <= e.effective_at < hi]
        assert sum(len(p) for p in pages) == len(expected) > 300
        assert len(pages) == -(-len(expected) // 100)
        assert {r["event_type"] for p in pages for r in p} == {e.type for e in expected}
        requests = [r for r in sb.requests if r.path == "/organization/audit_logs"]
        assert len(requests) == len(pages)
        assert all(("limit", "100") in r.query for r in requests)
        assert not any(k.startswith("event_types") for r in requests for k, _ in r.query)


def test_read_ahead_gives_the_same_pages_from_the_same_requests(make_client) -> None:
    """With read-ahead each page's successor is requested as soon as the page is read:
    the same queries (cursors included) in the same order, the same events."""
    start, end = date(2026, 8, 1), date(2026, 10, 1)
    seen = {}
    for read_ahead in (False, True):
        with Sandbox.start(seed=7, size="small") as sb:
            c = make_client(sb)
            pages = list(c.iter_audit_log_pages(start, end, read_ahead=read_ahead))
            queries = [r.query for r in sb.requests if r.path == "/organization/audit_logs"]
            seen[read_ahead] = (pages, queries, c.stats.requests)
    assert seen[True] == seen[False]
    pages, queries, requests = seen[True]
    assert len(pages) == len(queries) == requests == 4
    assert [len(p) for p in pages] == [100, 100, 100, 53]
    cursors = [dict(q).get("after") for q in queries]
    assert cursors == [None] + [p[-1]["audit_log_id"] for p in pages[:-1]]
    assert not [t for t in threading.enumerate() if t.name.startswith("openai-admin-read-ahead")]


def test_actors_become_columns(make_client) -> None:
    with Sandbox.start(seed=7, size="small") as sb:
        c = make_client(sb)
        sa = next(e for e in sb.org.audit_events if e.actor_service_account_id)
        [row] = [
            r for r in c.list_audit_events(None, sa.effective_at, sa.effective_at + 1)
            if r["audit_log_id"] == sa.id
        ]
        assert row["actor_type"] == "api_key"
        assert (row["actor_api_key_id"], row["actor_service_account_id"]) == (
            sa.actor_api_key_id, sa.actor_service_account_id
        )
        assert (row["actor_user_id"], row["actor_email"]) == (None, None)
        assert json.loads(row["details"]) == {
            "id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 500}
        }
        assert row["target_id"] == "rl-gpt-4o"
        admin = next(
            e for e in sb.org.audit_events
            if e.actor_api_key_id and not e.actor_service_account_id
        )
        [row] = [
            r for r in c.list_audit_events([admin.type], admin.effective_at, admin.effective_at + 1)
            if r["audit_log_id"] == admin.id
        ]
        owner = next(u for u in sb.org.users if u.id == admin.actor_user_id)
        assert (row["actor_type"], row["actor_user_id"], row["actor_email"]) == (
            "api_key", owner.id, owner.email
        )
        assert row["actor_service_account_id"] is None


def test_audit_logging_off_is_its_own_error(make_client) -> None:
    with Sandbox.start(seed=7, size="tiny", audit_logging=False) as sb:
        c = make_client(sb)
        with pytest.raises(AdminApiAuditLogDisabled) as caught:
            c.list_audit_events(None, date(2026, 10, 1), date(2026, 10, 2))
        message = str(caught.value)
        assert "Organization settings > Data controls" in message
        assert "cannot be switched off again" in message
        assert isinstance(caught.value, AdminApiStatusError) and caught.value.status == 403
        assert c.stats.as_dict()["retries"] == 0


@pytest.mark.parametrize(
    ("status", "message", "code", "cls"),
    [
        (403, "Audit logging is not enabled for this organization.", None,
         AdminApiAuditLogDisabled),
        (400, "Audit logs are not enabled for this organization", None, AdminApiAuditLogDisabled),
        (403, "Forbidden", "audit_logging_disabled", AdminApiAuditLogDisabled),
        (403, "You have insufficient permissions. Missing scopes: api.audit_logs.read", None,
         AdminApiPermissionError),
    ],
)
def test_off_is_read_from_the_message_not_the_status(status, message, code, cls) -> None:
    def script(seen):
        return Reply(status, err(status, message, code=code))

    with running(script) as (_, c, _ft), pytest.raises(AdminApiStatusError) as caught:
        c.list_audit_events(None, T0, T0 + 86400)
    assert type(caught.value) is cls


def test_other_endpoints_never_mean_audit_logging_off() -> None:
    text = "Audit logging is not enabled for this organization."
    assert is_audit_logging_off("/organization/audit_logs", 403, text, None)
    assert not is_audit_logging_off("/organization/users", 403, text, None)
    assert not is_audit_logging_off("/organization/audit_logs", 500, text, None)
