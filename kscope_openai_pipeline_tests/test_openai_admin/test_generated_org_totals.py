"""A complete crawl of the generated `small` org equals the sandbox's ground truth
exactly: every metric of every usage family, dollars to the nano-dollar (hence to the
cent), inventory counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kscope_openai_pipeline.openai_admin import (
    API_KEY_COSTS_FIRST_DAY,
    USAGE_FAMILIES,
    AdminClient,
)
from kscope_openai_pipeline.sandbox import ground_truth
from kscope_openai_pipeline.sandbox.server import Sandbox

FLOOR_TS = 1764979200  # 2025-12-06


def day(ts: int):
    return datetime.fromtimestamp(ts, tz=UTC).date()


@pytest.fixture(scope="module")
def crawl():
    """Everything the client reads from the small org, and the org itself."""
    with (
        Sandbox.start(seed=7, size="small") as sb,
        AdminClient(sb.admin_key, base_url=sb.base_url, sleep=lambda s: None) as c,
    ):
        org = sb.org
        start, end = day(org.start_day), day(org.end_day)
        projects = c.list_projects()
        out = {
            "org": org,
            "projects": projects,
            "keys": c.list_project_api_keys(projects),
            "admin_keys": c.list_admin_api_keys(),
            "users": c.list_users(),
            "invites": c.list_invites(),
            "service_accounts": c.list_service_accounts(projects),
            "project_users": c.list_project_users(projects),
            "usage": {
                f: [r for p in c.iter_usage(f, start, end) for r in p.rows()]
                for f in USAGE_FAMILIES
            },
            "costs": [r for p in c.iter_costs(start, end) for r in p.rows()],
            "key_costs": [r for p in c.iter_api_key_costs(start, end) for r in p.rows()],
            "stats": c.stats.as_dict(),
            "requests": sb.requests,
        }
        return out


@pytest.mark.parametrize("family", USAGE_FAMILIES)
def test_usage_totals_equal_ground_truth(crawl, family):
    org, records = crawl["org"], crawl["usage"][family]
    truth = ground_truth.usage_totals(org, family, org.start_day, org.end_day)
    assert truth.rows > 0
    for metric, value in truth.total.items():
        assert sum(r[metric] for r in records) == value, metric
    per_day: dict = {}
    for r in records:
        day_sums = per_day.setdefault(r["usage_date"], dict.fromkeys(truth.total, 0))
        for metric in truth.total:
            day_sums[metric] += r[metric]
    assert per_day == truth.per_day


def test_costs_equal_ground_truth_to_the_nanodollar(crawl):
    org = crawl["org"]
    truth = ground_truth.cost_totals(org, org.start_day, org.end_day)
    total = sum(r["amount_usd"] for r in crawl["costs"])
    assert total == truth.total
    assert total.quantize(Decimal("0.01")) == truth.total.quantize(Decimal("0.01"))
    by_line: dict = {}
    for r in crawl["costs"]:
        key = (r["cost_date"], r["project_id"], r["line_item"])
        by_line[key] = by_line.get(key, Decimal(0)) + r["amount_usd"]
    assert by_line == truth.per_day_project_line_item
    keys_truth = ground_truth.api_key_cost_totals(org, max(FLOOR_TS, org.start_day), org.end_day)
    by_key = {(r["cost_date"], r["api_key_id"]): r["amount_usd"] for r in crawl["key_costs"]}
    assert by_key == keys_truth
    assert all(r["cost_date"] >= API_KEY_COSTS_FIRST_DAY for r in crawl["key_costs"])


def test_inventory_equals_ground_truth(crawl):
    org = crawl["org"]
    assert sorted(p["project_id"] for p in crawl["projects"]) == sorted(p.id for p in org.projects)
    listed = {k.id for k in org.api_keys if not k.deleted and k.kind == "project"}
    assert {k["api_key_id"] for k in crawl["keys"]} == listed
    assert len(crawl["keys"]) == len(listed)
    assert {k["api_key_id"] for k in crawl["admin_keys"]} == {
        k.id for k in org.api_keys if not k.deleted and k.kind == "admin"
    }
    assert [u["user_id"] for u in crawl["users"]] == [u.id for u in org.users]
    assert [i["invite_id"] for i in crawl["invites"]] == [i.id for i in org.invites]
    archived = {p.id for p in org.projects if p.status == "archived"}
    assert {s["service_account_id"] for s in crawl["service_accounts"]} == {
        s.id for s in org.service_accounts if s.project_id not in archived
    }
    assert {(m["project_id"], m["user_id"]) for m in crawl["project_users"]} == {
        (m.project_id, m.user_id) for m in org.project_users if m.project_id not in archived
    }


def test_request_budget_of_a_full_crawl(crawl):
    org = crawl["org"]
    days = (org.end_day - org.start_day) // 86400
    usage_pages = -(-days // 31)
    paths = [r.path for r in crawl["requests"]]
    for family in USAGE_FAMILIES:
        assert paths.count(f"/organization/usage/{family}") == usage_pages
    assert crawl["stats"]["retries"] == 0 and crawl["stats"]["requests"] == len(paths)
