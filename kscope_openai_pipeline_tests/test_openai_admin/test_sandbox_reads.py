"""Complete reads over real HTTP against the sandbox serving a hand-built org.

Counts are chosen to sit exactly on, one short of and one past page boundaries; the
expected records are computed independently from the org's raw rows
(helpers/handmade_org.py).
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kscope_openai_pipeline.openai_admin import USAGE_FAMILIES, USAGE_GROUP_BY, USAGE_RECORD_KEYS
from kscope_openai_pipeline.openai_admin.client import PAGE_LOG
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.handmade_org import (
    ARCHIVED,
    DAY,
    DAY0,
    KEYS_PER_PROJECT,
    T0,
    expected_costs,
    expected_usage,
    sort_key,
    with_people,
)

START = date(2025, 1, 1)
#: the active projects of the hand-placed days, listed before the page-boundary ones
HAND_PLACED = ["proj_alpha", "proj_beta"]


def served(sb: Sandbox, path: str) -> list:
    return [r for r in sb.requests if r.path == path]


@pytest.mark.parametrize(("n_users", "n_requests"), [(0, 1), (99, 1), (100, 1), (101, 2), (200, 2)])
def test_users_read_completely_at_page_boundaries(handmade_org, make_client, n_users, n_requests):
    with Sandbox.start(org=with_people(handmade_org, n_users)) as sb:
        c = make_client(sb)
        users = c.list_users()
        invites = c.list_invites()
        fillers = range(n_users - 3)
        assert [u["user_id"] for u in users] == [
            "user-ann",
            "user-bob",
            "user-cyd",
            *(f"user-x{i:02d}" for i in fillers),
        ][:n_users]
        assert [i["invite_id"] for i in invites] == [
            "invite-1",
            "invite-2",
            "invite-3",
            *(f"invite-x{i:03d}" for i in fillers),
        ][:n_users]
        for path in ("/organization/users", "/organization/invites"):
            reqs = served(sb, path)
            assert len(reqs) == n_requests
            assert all(("limit", "100") in r.query for r in reqs)
        if n_users:
            assert users[0] == {
                "user_id": "user-ann",
                "email": "ann@example.com",
                "name": "Ann",
                "role": "owner",
                "added_at": datetime(2024, 10, 27),
            }
            # the last is filler n - 4, which expires 7 days and n - 4 seconds after DAY0
            assert invites[-1]["expires_at"] == datetime(2025, 12, 8) + timedelta(
                seconds=n_users - 4
            )


def test_project_keys_every_project_every_page(sandbox, make_client):
    c = make_client(sandbox)
    projects = c.list_projects()
    assert [p["project_id"] for p in projects] == [*HAND_PLACED, *KEYS_PER_PROJECT, ARCHIVED]
    assert projects[-1] == {
        "project_id": ARCHIVED,
        "name": "Old",
        "status": "archived",
        "created_at": datetime(2025, 2, 4),
        "archived_at": datetime(2025, 11, 1),
    }
    keys = c.list_project_api_keys([p["project_id"] for p in projects])
    by_project = {pid: [k for k in keys if k["project_id"] == pid] for pid in KEYS_PER_PROJECT}
    assert {pid: len(v) for pid, v in by_project.items()} == KEYS_PER_PROJECT
    assert [k["api_key_id"] for k in by_project["proj_101"]] == [
        f"key_proj_101_{i:03d}" for i in range(101)
    ]
    # 300 at the page boundaries, Alpha's 3 and Beta's 2 (any owner access), Old's 1
    assert [k["api_key_id"] for k in keys if k["project_id"] in HAND_PLACED] == [
        "key_ann_alpha",
        "key_bob_alpha",
        "key_ci",
        "key_cyd_beta",
        "key_bob_beta",
    ]
    listed = {k["api_key_id"] for k in keys}
    assert len(keys) == 306 and not {"key_deleted", "key_gone"} & listed
    old = [k for k in keys if k["project_id"] == ARCHIVED]
    assert old == [
        {
            "api_key_id": "key_old",
            "key_kind": "project",
            "project_id": ARCHIVED,
            "name": "old",
            "redacted_value": "sk-proj-****gggg",
            "created_at": datetime(2025, 10, 12, 0, 0, 6),
            "last_used_at": datetime(2025, 12, 10, 23, 59),
            "expires_at": None,
            "owner_type": "user",
            "owner_id": "user-ann",
            "owner_email": "ann@example.com",
            "owner_name": "Ann",
        }
    ]
    per_path = {
        pid: len(served(sandbox, f"/organization/projects/{pid}/api_keys"))
        for pid in [*HAND_PLACED, *KEYS_PER_PROJECT, ARCHIVED]
    }
    assert per_path == {
        "proj_alpha": 1,
        "proj_beta": 1,
        "proj_empty": 1,
        "proj_99": 1,
        "proj_100": 1,
        "proj_101": 2,
        ARCHIVED: 1,
    }
    key_reqs = [r for r in sandbox.requests if r.path.endswith("/api_keys")]
    assert all(("owner_project_access", "any") in r.query for r in key_reqs)
    assert ("include_archived", "true") in served(sandbox, "/organization/projects")[0].query
    ep = c.stats.as_dict()["endpoints"]["/organization/projects/{project_id}/api_keys"]
    assert (ep["requests"], ep["pages"], ep["records"], ep["retries"]) == (8, 8, 306, 0)


def test_admin_keys_invites_audit(sandbox, make_client):
    c = make_client(sandbox)
    ann = {"owner_type": "user", "owner_id": "user-ann", "owner_email": None, "owner_name": "Ann"}
    assert c.list_admin_api_keys() == [
        {
            "api_key_id": "key_admin_0",
            "key_kind": "admin",
            "project_id": None,
            "name": "older",
            "redacted_value": "sk-admin-****iiii",
            "created_at": datetime(2025, 10, 11, 23, 59, 50),
            "last_used_at": None,
            "expires_at": datetime(2026, 1, 10),
            **ann,
        },
        {
            "api_key_id": "key_admin_1",
            "key_kind": "admin",
            "project_id": None,
            "name": "billing",
            "redacted_value": "sk-admin-****hhhh",
            "created_at": datetime(2025, 10, 12, 0, 0, 7),
            "last_used_at": datetime(2025, 12, 10, 23),
            "expires_at": None,
            **ann,
        },
    ]
    assert c.list_invites() == [
        {
            "invite_id": "invite-1",
            "email": "new@example.com",
            "role": "reader",
            "status": "pending",
            "created_at": datetime(2025, 12, 1),
            "expires_at": datetime(2025, 12, 8),
            "accepted_at": None,
        },
        {
            "invite_id": "invite-2",
            "email": "late@example.com",
            "role": "reader",
            "status": "expired",
            "created_at": datetime(2025, 11, 11),
            "expires_at": datetime(2025, 11, 18),
            "accepted_at": None,
        },
        {
            "invite_id": "invite-3",
            "email": "bob@example.com",
            "role": "reader",
            "status": "accepted",
            "created_at": datetime(2025, 5, 14),
            "expires_at": datetime(2025, 5, 21),
            "accepted_at": datetime(2025, 5, 15),
        },
    ]
    # audit_log-1 (created 2025-10-12) is before the window, audit_log-2 is a user.added
    window = (date(2025, 10, 15), date(2025, 12, 8))
    events = c.list_audit_events(["api_key.created", "api_key.deleted"], *window)
    assert [e["audit_log_id"] for e in events] == ["audit_log-4", "audit_log-5", "audit_log-3"]
    assert events[-1] == {
        "audit_log_id": "audit_log-3",
        "event_type": "api_key.created",
        "effective_at": datetime(2025, 10, 17),
        "event_date": date(2025, 10, 17),
        "project_id": "proj_alpha",
        "actor_type": "session",
        "actor_user_id": "user-ann",
        "actor_email": "ann@example.com",
        "actor_api_key_id": None,
        "actor_service_account_id": None,
        "target_id": "key_gone",
        "details": '{"data": {"scopes": ["api.model.request"]}, "id": "key_gone"}',
    }
    [req] = served(sandbox, "/organization/audit_logs")
    assert ("effective_at[gte]", str(DAY0 - 47 * DAY)) in req.query
    assert ("effective_at[lt]", str(DAY0 + 7 * DAY)) in req.query
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
        ("proj_100", "user-x00"),
        ("proj_100", "user-x01"),
        ("proj_100", "user-x02"),
    ]
    assert members[0]["email"] == "x00@example.com" and members[0]["role"] == "member"
    assert served(sandbox, f"/organization/projects/{ARCHIVED}/users") == []
    assert [s["project_id"] for s in c.stats.as_dict()["skipped"]] == [ARCHIVED, ARCHIVED]


@pytest.mark.parametrize("family", USAGE_FAMILIES)
def test_every_usage_family_equals_raw_events(sandbox, make_client, handmade_org, family):
    c = make_client(sandbox)
    end = date(2025, 3, 4)  # 62 days: exactly two full pages
    pages = list(c.iter_usage(family, START, end))
    got = sorted((r for p in pages for r in p.rows()), key=sort_key)
    want = sorted(expected_usage(handmade_org, family, START, end), key=sort_key)
    assert len(pages) == 2 and len(got) == len(want) > 100
    assert got == want
    reqs = served(sandbox, f"/organization/usage/{family}")
    assert [v for k, v in reqs[0].query if k == "group_by"] == list(USAGE_GROUP_BY[family])
    assert ("bucket_width", "1d") in reqs[0].query and ("limit", "31") in reqs[0].query


@pytest.mark.parametrize(
    ("days", "limit", "buckets"),
    [
        (30, 30, [30]),
        (31, 31, [31]),
        (32, 16, [16, 16]),
        (62, 31, [31, 31]),
        (63, 21, [21, 21, 21]),
        (180, 30, [30] * 6),
        (181, 31, [31] * 5 + [26]),
        (365, 31, [31] * 11 + [24]),
    ],
)
def test_usage_request_counts(sandbox, make_client, handmade_org, days, limit, buckets):
    """The fewest requests the API allows (ceil(days / 31)), the days spread evenly."""
    c = make_client(sandbox)
    end = START + timedelta(days=days)
    pages = list(c.iter_usage("completions", START, end))
    reqs = served(sandbox, "/organization/usage/completions")
    assert len(reqs) == len(pages) == math.ceil(days / 31)
    assert ("limit", str(limit)) in reqs[0].query
    assert [len(p.bucket_starts) for p in pages] == buckets
    frozen = [p for p in reqs[0].query]
    assert ("start_time", str(T0)) in frozen and ("end_time", str(T0 + days * 86400)) in frozen
    for r in reqs[1:]:  # every later page replays the same query plus its cursor
        assert r.query[:-1] == frozen and r.query[-1][0] == "page"
    got = sorted((r for p in pages for r in p.rows()), key=sort_key)
    assert got == sorted(expected_usage(handmade_org, "completions", START, end), key=sort_key)


@pytest.mark.parametrize(
    ("days", "limit", "buckets"),
    [
        (31, 31, [31]),
        (32, 32, [32]),
        (180, 180, [180]),
        (181, 91, [91, 90]),
        (360, 180, [180, 180]),
        (365, 122, [122, 122, 121]),  # not 180, 180, 5: the largest page a third smaller
    ],
)
def test_costs_request_counts_and_exact_dollars(
    sandbox, make_client, handmade_org, days, limit, buckets
):
    c = make_client(sandbox)
    end = START + timedelta(days=days)
    pages = list(c.iter_costs(START, end))
    reqs = served(sandbox, "/organization/costs")
    assert len(reqs) == len(pages) == math.ceil(days / 180)
    assert ("limit", str(limit)) in reqs[0].query
    assert [len(p.bucket_starts) for p in pages] == buckets
    assert [v for k, v in reqs[0].query if k == "group_by"] == ["project_id", "line_item"]
    got = sorted((r for p in pages for r in p.rows()), key=sort_key)
    want = sorted(
        expected_costs(handmade_org, START, end, ("project_id", "line_item")), key=sort_key
    )
    assert got == want
    assert sum(r["amount_usd"] for r in got) == sum(r["amount_usd"] for r in want)
    assert all(isinstance(r["amount_usd"], Decimal) for r in got)


def test_costs_365_days_total(sandbox, make_client, handmade_org):
    c = make_client(sandbox)
    total = sum(sum(p.columns["amount_usd"]) for p in c.iter_costs(START, date(2026, 1, 1)))
    raw = handmade_org.costs
    in_year = raw[(raw["ts"] >= T0) & (raw["ts"] < T0 + 365 * 86400)]
    assert total == sum(in_year["amount"], Decimal(0))
    # closed form: the history's 304 days x 4 lines, sum((131 d + 977 i) mod 10007) / 1e4
    # + 1216 x 1.23e-7 = 609.152649568, plus the hand-placed December lines 25.004625001
    assert total == Decimal("634.157274569")


def test_api_key_costs_only_from_the_floor(sandbox, make_client, handmade_org):
    c = make_client(sandbox)
    assert list(c.iter_api_key_costs(START, date(2025, 12, 6))) == []
    assert served(sandbox, "/organization/costs") == []
    pages = list(c.iter_api_key_costs(date(2025, 11, 1), date(2026, 1, 1)))
    [req] = served(sandbox, "/organization/costs")
    assert ("start_time", "1764979200") in req.query
    assert [v for k, v in req.query if k == "group_by"] == ["api_key_id"]
    got = sorted((r for p in pages for r in p.rows()), key=sort_key)
    want = expected_costs(handmade_org, date(2025, 12, 6), date(2026, 1, 1), ("api_key_id",))
    assert got == sorted(want, key=sort_key)
    # from the floor only the hand-placed days have costs (the history ends 2025-10-31);
    # 2025-12-09's zero-amount line without quantity is no row
    assert {r["api_key_id"] for r in got} == {"key_bob_beta", "key_cyd_beta", None}
    assert [(r["cost_date"], r["api_key_id"], r["amount_usd"]) for r in got] == [
        (date(2025, 12, 7), "key_bob_beta", Decimal("0.001")),
        (date(2025, 12, 7), "key_cyd_beta", Decimal("0.00175")),
        (date(2025, 12, 7), None, Decimal("12.5")),
        (date(2025, 12, 8), "key_bob_beta", Decimal("0.000000001")),
    ]


def test_empty_ranges(sandbox, make_client):
    c = make_client(sandbox)
    assert list(c.iter_usage("images", START, START)) == []
    assert sandbox.requests == []
    before = list(c.iter_usage("images", date(2024, 12, 1), START))  # 31 days, no data
    assert [p.num_rows for p in before] == [0]
    assert before[0].columns == {k: [] for k in USAGE_RECORD_KEYS}
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


def test_a_long_pagination_logs_its_first_ten_pages_every_hundredth_and_the_last(
    sandbox, make_client, caplog
):
    """101 users at 1 a page: 101 requests, 12 lines (a year's audit log is 772 pages)."""
    c = make_client(sandbox, list_limit=1)
    with caplog.at_level(logging.INFO, logger="kscope_openai_pipeline.openai_admin"):
        users = c.list_users()
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(users) == 101 and c.stats.requests == 101
    assert lines == [
        f"GET /organization/users page={n} rows=1 requests_so_far={n}"
        for n in [*range(1, 11), 100, 101]
    ]


def test_per_project_listings_log_one_summary_and_pages_at_debug(sandbox, make_client, caplog):
    """The fan-out's page lines go to PAGE_LOG at DEBUG (in a run they would be hundreds of
    stored events); the client's logger gets one line per listing."""
    c = make_client(sandbox)
    c.list_projects()
    with caplog.at_level(logging.DEBUG, logger="kscope_openai_pipeline.openai_admin"):
        keys = c.list_project_api_keys([*HAND_PLACED, *KEYS_PER_PROJECT, ARCHIVED])
        c.list_project_users([*KEYS_PER_PROJECT, ARCHIVED])
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info == [
        "GET /organization/projects/{project_id}/api_keys: 7 of 7 projects listed, "
        f"pages=8 rows={len(keys)} requests_so_far=9",
        "GET /organization/projects/{project_id}/users: 4 of 5 projects listed, "
        "pages=4 rows=3 requests_so_far=13",
    ]
    pages = [r for r in caplog.records if r.name == PAGE_LOG.name]
    assert all(r.levelno == logging.DEBUG for r in pages)
    assert sum("/api_keys project=" in r.getMessage() for r in pages) == 8
    assert [r.getMessage() for r in pages if "skipped" in r.getMessage()] == [
        f"GET /organization/projects/{{project_id}}/users project={ARCHIVED} skipped: archived "
        "project (the API rejects this listing with 400); not requested"
    ]
    assert "GET /organization/projects/{project_id}/api_keys project=proj_101 page=2 rows=1 " in (
        "\n".join(r.getMessage() for r in pages) + " "
    )
