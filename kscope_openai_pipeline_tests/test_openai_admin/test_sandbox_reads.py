"""Complete reads over real HTTP against the sandbox serving a hand-built org.

Counts are chosen to sit exactly on, one short of and one past page boundaries; the
expected records are computed independently from the org's raw rows (handmade_org).
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kscope_openai_pipeline.openai_admin import USAGE_FAMILIES, USAGE_GROUP_BY
from kscope_openai_pipeline.sandbox.server import Sandbox

from .handmade_org import (
    ARCHIVED,
    KEYS_PER_PROJECT,
    T0,
    expected_costs,
    expected_usage,
    make_org,
    sort_key,
)

START = date(2025, 1, 1)


def served(sb: Sandbox, path: str) -> list:
    return [r for r in sb.requests if r.path == path]


@pytest.mark.parametrize(("n_users", "n_requests"), [(0, 1), (99, 1), (100, 1), (101, 2), (200, 2)])
def test_users_read_completely_at_page_boundaries(make_client, n_users, n_requests):
    with Sandbox.start(org=make_org(n_users=n_users, n_invites=n_users)) as sb:
        c = make_client(sb)
        users = c.list_users()
        invites = c.list_invites()
        assert [u["user_id"] for u in users] == [f"user-{i:03d}" for i in range(n_users)]
        assert [i["invite_id"] for i in invites] == [f"invite-{i}" for i in range(n_users)]
        for path in ("/organization/users", "/organization/invites"):
            reqs = served(sb, path)
            assert len(reqs) == n_requests
            assert all(("limit", "100") in r.query for r in reqs)
        if n_users:
            assert users[0] == {
                "user_id": "user-000",
                "email": "u0@example.com",
                "name": "User 0",
                "role": "reader",
                "added_at": datetime(2025, 1, 1),
            }
            assert invites[-1]["expires_at"] == datetime(2025, 1, 2) + timedelta(
                seconds=n_users - 1
            )


def test_project_keys_every_project_every_page(sandbox, make_client):
    c = make_client(sandbox)
    projects = c.list_projects()
    assert [p["project_id"] for p in projects] == [*KEYS_PER_PROJECT, ARCHIVED]
    assert projects[-1] == {
        "project_id": ARCHIVED,
        "name": "Old",
        "status": "archived",
        "created_at": datetime(2025, 1, 1, 0, 0, 9),
        "archived_at": datetime(2025, 4, 11),
    }
    keys = c.list_project_api_keys([p["project_id"] for p in projects])
    by_project = {pid: [k for k in keys if k["project_id"] == pid] for pid in KEYS_PER_PROJECT}
    assert {pid: len(v) for pid, v in by_project.items()} == KEYS_PER_PROJECT
    assert [k["api_key_id"] for k in by_project["proj_101"]] == [
        f"key_proj_101_{i:03d}" for i in range(101)
    ]
    assert len(keys) == 301 and "key_deleted" not in {k["api_key_id"] for k in keys}
    old = [k for k in keys if k["project_id"] == ARCHIVED]
    assert old == [
        {
            "api_key_id": "key_old_1",
            "key_kind": "project",
            "project_id": ARCHIVED,
            "name": "old",
            "redacted_value": "sk-proj-****OLD1",
            "created_at": datetime(2025, 1, 1),
            "last_used_at": datetime(2025, 1, 2),
            "expires_at": None,
            "owner_type": "user",
            "owner_id": "user-000",
            "owner_email": "u0@example.com",
            "owner_name": "User 0",
        }
    ]
    per_path = {
        pid: len(served(sandbox, f"/organization/projects/{pid}/api_keys"))
        for pid in [*KEYS_PER_PROJECT, ARCHIVED]
    }
    assert per_path == {"proj_empty": 1, "proj_99": 1, "proj_100": 1, "proj_101": 2, ARCHIVED: 1}
    key_reqs = [r for r in sandbox.requests if r.path.endswith("/api_keys")]
    assert all(("owner_project_access", "any") in r.query for r in key_reqs)
    assert ("include_archived", "true") in served(sandbox, "/organization/projects")[0].query
    ep = c.stats.as_dict()["endpoints"]["/organization/projects/{project_id}/api_keys"]
    assert (ep["requests"], ep["pages"], ep["records"], ep["retries"]) == (6, 6, 301, 0)


def test_admin_keys_invites_audit(sandbox, make_client):
    c = make_client(sandbox)
    assert c.list_admin_api_keys() == [
        {
            "api_key_id": "key_admin_1",
            "key_kind": "admin",
            "project_id": None,
            "name": "crawler",
            "redacted_value": "sk-admin-****AAAA",
            "created_at": datetime(2025, 1, 1, 0, 0, 5),
            "last_used_at": datetime(2025, 1, 1, 0, 0, 6),
            "expires_at": datetime(2026, 2, 5),
            "owner_type": "user",
            "owner_id": "user-000",
            "owner_email": None,
            "owner_name": "User 0",
        }
    ]
    assert c.list_invites() == []
    events = c.list_audit_events(["api_key.created", "api_key.deleted"], START, date(2025, 1, 8))
    assert [e["audit_log_id"] for e in events] == [
        "audit_log-006",
        "audit_log-004",
        "audit_log-003",
        "audit_log-001",
        "audit_log-000",
    ]
    assert events[-1] == {
        "audit_log_id": "audit_log-000",
        "event_type": "api_key.created",
        "effective_at": datetime(2025, 1, 1),
        "event_date": date(2025, 1, 1),
        "project_id": "proj_99",
        "actor_type": "session",
        "actor_user_id": "user-000",
        "actor_email": "u0@example.com",
        "actor_api_key_id": None,
        "actor_service_account_id": None,
        "target_id": "key_0",
        "details": '{"data": {"scopes": ["api.model.request"]}, "id": "key_0"}',
    }
    [req] = served(sandbox, "/organization/audit_logs")
    assert ("effective_at[gte]", str(T0)) in req.query
    assert ("effective_at[lt]", str(T0 + 7 * 86400)) in req.query
    assert [v for k, v in req.query if k == "event_types[]"] == [
        "api_key.created",
        "api_key.deleted",
    ]


def test_archived_projects_skipped_for_users_and_service_accounts(sandbox, make_client):
    c = make_client(sandbox)
    ids = [*KEYS_PER_PROJECT, ARCHIVED]
    # Without list_projects first the client cannot know: the API's 400 is caught.
    sas = c.list_service_accounts(ids)
    assert [(s["service_account_id"], s["project_id"]) for s in sas] == [("svc_acct_1", "proj_100")]
    assert len(served(sandbox, f"/organization/projects/{ARCHIVED}/service_accounts")) == 1
    [skip] = c.stats.skipped
    assert skip["project_id"] == ARCHIVED and "is archived" in skip["reason"]
    # After list_projects the archived project is not even requested.
    c.list_projects()
    members = c.list_project_users(ids)
    assert [(m["project_id"], m["user_id"]) for m in members] == [
        ("proj_100", "user-000"),
        ("proj_100", "user-001"),
        ("proj_100", "user-002"),
    ]
    assert members[0]["email"] == "u0@example.com" and members[0]["role"] == "member"
    assert served(sandbox, f"/organization/projects/{ARCHIVED}/users") == []
    assert [s["project_id"] for s in c.stats.as_dict()["skipped"]] == [ARCHIVED, ARCHIVED]


@pytest.mark.parametrize("family", USAGE_FAMILIES)
def test_every_usage_family_equals_raw_events(sandbox, make_client, handmade_org, family):
    c = make_client(sandbox)
    end = date(2025, 3, 4)  # 62 days: exactly two full pages
    pages = list(c.iter_usage(family, START, end))
    got = sorted((r for p in pages for r in p), key=sort_key)
    want = sorted(expected_usage(handmade_org, family, START, end), key=sort_key)
    assert len(pages) == 2 and len(got) == len(want) > 100
    assert got == want
    reqs = served(sandbox, f"/organization/usage/{family}")
    assert [v for k, v in reqs[0].query if k == "group_by"] == list(USAGE_GROUP_BY[family])
    assert ("bucket_width", "1d") in reqs[0].query and ("limit", "31") in reqs[0].query


@pytest.mark.parametrize("days", [30, 31, 32, 62, 63, 180, 181, 365])
def test_usage_request_counts(sandbox, make_client, handmade_org, days):
    c = make_client(sandbox)
    end = START + timedelta(days=days)
    pages = list(c.iter_usage("completions", START, end))
    reqs = served(sandbox, "/organization/usage/completions")
    assert len(reqs) == len(pages) == math.ceil(days / 31)
    assert {"365": 12, "31": 1, "32": 2, "180": 6, "181": 6}.get(str(days), len(reqs)) == len(reqs)
    frozen = [p for p in reqs[0].query]
    assert ("start_time", str(T0)) in frozen and ("end_time", str(T0 + days * 86400)) in frozen
    for r in reqs[1:]:  # every later page replays the same query plus its cursor
        assert r.query[:-1] == frozen and r.query[-1][0] == "page"
    got = sorted((r for p in pages for r in p), key=sort_key)
    assert got == sorted(expected_usage(handmade_org, "completions", START, end), key=sort_key)


@pytest.mark.parametrize(
    ("days", "n_requests"), [(31, 1), (32, 1), (180, 1), (181, 2), (360, 2), (365, 3)]
)
def test_costs_request_counts_and_exact_dollars(
    sandbox, make_client, handmade_org, days, n_requests
):
    c = make_client(sandbox)
    end = START + timedelta(days=days)
    pages = list(c.iter_costs(START, end))
    reqs = served(sandbox, "/organization/costs")
    assert len(reqs) == len(pages) == n_requests
    assert ("limit", "180") in reqs[0].query
    assert [v for k, v in reqs[0].query if k == "group_by"] == ["project_id", "line_item"]
    got = sorted((r for p in pages for r in p), key=sort_key)
    want = sorted(
        expected_costs(handmade_org, START, end, ("project_id", "line_item")), key=sort_key
    )
    assert got == want
    assert sum(r["amount_usd"] for r in got) == sum(r["amount_usd"] for r in want)
    assert all(isinstance(r["amount_usd"], Decimal) for r in got)


def test_costs_365_days_total(sandbox, make_client, handmade_org):
    c = make_client(sandbox)
    total = sum(r["amount_usd"] for p in c.iter_costs(START, date(2026, 1, 1)) for r in p)
    raw = handmade_org.costs
    in_year = raw[(raw["ts"] >= T0) & (raw["ts"] < T0 + 365 * 86400)]
    assert total == sum(in_year["amount"], Decimal(0))
    # closed form of the generator: sum((131 d + 977 i) mod 10007) / 1e4 + 1460 x 1.23e-7
    assert total == Decimal("732.823179580")


def test_api_key_costs_only_from_the_floor(sandbox, make_client, handmade_org):
    c = make_client(sandbox)
    assert list(c.iter_api_key_costs(START, date(2025, 12, 6))) == []
    assert served(sandbox, "/organization/costs") == []
    pages = list(c.iter_api_key_costs(date(2025, 11, 1), date(2026, 1, 1)))
    [req] = served(sandbox, "/organization/costs")
    assert ("start_time", "1764979200") in req.query
    assert [v for k, v in req.query if k == "group_by"] == ["api_key_id"]
    got = sorted((r for p in pages for r in p), key=sort_key)
    want = expected_costs(handmade_org, date(2025, 12, 6), date(2026, 1, 1), ("api_key_id",))
    assert got == sorted(want, key=sort_key)
    assert {r["api_key_id"] for r in got} == {"key_a", "key_b", None}
    assert len(got) == 26 * 3


def test_empty_ranges(sandbox, make_client):
    c = make_client(sandbox)
    assert list(c.iter_usage("images", START, START)) == []
    assert sandbox.requests == []
    before = list(c.iter_usage("images", date(2024, 12, 1), START))  # 31 days, no data
    assert before == [[]]
    assert len(sandbox.requests) == 1
    with pytest.raises(ValueError):
        list(c.iter_usage("images", START, date(2024, 12, 1)))
    with pytest.raises(ValueError, match="unknown usage family"):
        list(c.iter_usage("chat", START, START))


def test_one_info_line_per_page_and_stats_shape(sandbox, make_client, caplog):
    c = make_client(sandbox)
    with caplog.at_level(logging.INFO, logger="kscope_openai_pipeline.openai_admin"):
        pages = list(c.iter_usage("embeddings", START, date(2025, 3, 4)))
        c.list_users()
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(pages) == 2 and len(lines) == 4
    assert lines[0] == (
        f"GET /organization/usage/embeddings window=2025-01-01..2025-03-04 page=1 buckets=31 "
        f"rows={len(pages[0])} requests_so_far=1"
    )
    assert lines[1].endswith(f"page=2 buckets=31 rows={len(pages[1])} requests_so_far=2")
    assert lines[2] == "GET /organization/users page=1 rows=100 requests_so_far=3"
    assert lines[3] == "GET /organization/users page=2 rows=1 requests_so_far=4"
    assert not any("authorization" in m.lower() or "bearer" in m.lower() for m in lines)
    stats = c.stats.as_dict()
    assert set(stats) == {
        "requests",
        "retries",
        "bytes",
        "seconds",
        "pages",
        "records",
        "errors",
        "skipped",
        "endpoints",
    }
    assert (stats["requests"], stats["retries"], stats["pages"], stats["errors"]) == (4, 0, 4, 0)
    assert stats["records"] == len(pages[0]) + len(pages[1]) + 101
    assert stats["bytes"] > 10_000 and stats["skipped"] == []
    assert sorted(stats["endpoints"]) == ["/organization/usage/embeddings", "/organization/users"]
    assert stats["endpoints"]["/organization/users"]["requests"] == 2
