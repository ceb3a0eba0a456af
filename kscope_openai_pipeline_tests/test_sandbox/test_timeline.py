"""The generated org's timeline scenarios and their daily ground truth (tiny and small).

What a point-in-time pipeline must get right only shows if the org changes mid-range: a
key registered halfway, a token revoked, a key deleted, a member who leaves, an engineer
who departs. These tests pin the scenarios to the records (so a generator change that
loses one is caught) and check the daily ground truth against plain facts of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox import ground_truth_daily as gd
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.org import build_org

DAY = 86_400


@pytest.fixture(scope="module")
def small() -> SyntheticOrg:
    return build_org(7, "small")


@pytest.fixture(scope="module")
def ledger(small: SyntheticOrg) -> dict:
    return gd.gateway_bypass_daily(
        small, small.start_day, small.end_day, audit_days=(small.start_day, small.end_day)
    )


def _token_times(org: SyntheticOrg, key: str) -> list[tuple[date, date | None]]:
    t = org.dev_tokens[org.dev_tokens["provider_key_id"] == key]
    return [
        (c.date(), None if r is None or r != r else r.date())
        for c, r in zip(t["created_at"], t["revoked_at"], strict=True)
    ]


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_every_scenario_is_present(size: str) -> None:
    org = build_org(7, size)
    scenarios = org.extra["scenarios"]
    assert all(scenarios.values()), scenarios
    first = gt.to_date(org.start_day)
    days = (org.end_day - org.start_day) // DAY
    # a key used from the start, registered halfway
    late = scenarios["late_registered_key"]
    [(created, revoked)] = _token_times(org, late)
    assert (created, revoked) == (first + timedelta(days=days // 2), None)
    assert any(k.id == late and k.created_at < org.start_day + 3 * DAY for k in org.api_keys)
    # a member who joined and left inside the range: listed nowhere, in the audit log
    [former] = org.former_users
    assert former.id == scenarios["former_member"]
    assert org.start_day < former.added_at < former.deleted_at < org.end_day
    assert former.id not in {u.id for u in org.users}
    assert {(e.type, e.effective_at) for e in org.audit_events if e.resource_id == former.id} == {
        ("user.added", former.added_at),
        ("user.deleted", former.deleted_at),
    }
    logins = [e for e in org.audit_events if e.actor_user_id == former.id]
    assert logins and all(former.added_at < e.effective_at < former.deleted_at for e in logins)
    # an engineer departs inside the range; still matches a current member by address
    eng = org.engineers.set_index("engineer_id").loc[scenarios["departing_engineer"]]
    assert eng["status"] == "departed"
    assert first < eng["departed_on"] < gt.to_date(org.end_day)
    assert eng["email"] in {u.email.lower() for u in org.users}
    # tokens revoked mid-range and keys deleted mid-range come from the key plan
    for key in scenarios["revoked_keys"]:
        assert any(r is not None and r > first for _, r in _token_times(org, key))
    for key in scenarios["deleted_keys"]:
        record = next(k for k in org.api_keys if k.id == key)
        assert record.deleted and org.start_day < record.deleted_at < org.end_day


def test_audit_log_actors_take_every_shape(small: SyntheticOrg) -> None:
    shapes = Counter(
        "service_account_key"
        if e.actor_service_account_id
        else "user_key"
        if e.actor_api_key_id
        else "session"
        if e.actor_user_id
        else "none"
        for e in small.audit_events
    )
    assert set(shapes) == {"service_account_key", "user_key", "session", "none"}
    admin_keys = {k.id for k in small.api_keys if k.kind == "admin"}
    user_keys = {e.actor_api_key_id for e in small.audit_events
                 if e.actor_api_key_id and not e.actor_service_account_id}
    assert user_keys <= admin_keys
    assert [e.effective_at for e in small.audit_events] == sorted(
        e.effective_at for e in small.audit_events
    )
    assert len({e.id for e in small.audit_events}) == len(small.audit_events) == 793


def test_the_late_key_bypasses_until_its_token_exists(small: SyntheticOrg, ledger: dict) -> None:
    late = small.extra["scenarios"]["late_registered_key"]
    [(registered_on, _)] = _token_times(small, late)
    statuses = {d: r.token_status for (d, k), r in ledger.items() if k == late}
    assert {s for d, s in statuses.items() if d < registered_on} == {"unregistered"}
    assert {s for d, s in statuses.items() if d >= registered_on} == {"registered"}
    assert all(ledger[(d, late)].bypass == (d < registered_on) for d in statuses)
    # the "now" view calls it registered: only the daily ledger sees the bypass
    assert gt.bypass_keys(small, gt.to_date(small.end_day - DAY))[late] == "registered"


def test_a_revoked_token_stops_registering_the_day_after_revocation(
    small: SyntheticOrg, ledger: dict
) -> None:
    for key in small.extra["scenarios"]["revoked_keys"]:
        spans = _token_times(small, key)
        for (day, k), row in ledger.items():
            if k != key:
                continue
            active = any(c <= day and (r is None or r >= day) for c, r in spans)
            expected = "registered" if active else "registered_revoked"
            assert row.token_status == expected, (key, day)


def test_deleted_keys_keep_their_cost_and_creator_but_no_owner(
    small: SyntheticOrg, ledger: dict
) -> None:
    for key in small.extra["scenarios"]["deleted_keys"]:
        record = next(k for k in small.api_keys if k.id == key)
        rows = {d: r for (d, k), r in ledger.items() if k == key}
        assert rows and max(rows) <= gt.to_date(record.deleted_at)
        assert {(r.owner_id, r.owner_email) for r in rows.values()} == {(None, None)}
        assert {r.key_created_at.timestamp() for r in rows.values()} == {record.created_at}
        assert all(r.key_created_by for r in rows.values())
        assert sum(r.cost_usd for r in rows.values()) == sum(
            v for (d, k), v in gt.api_key_cost_totals(small, small.start_day, small.end_day).items()
            if k == key
        )
    without_audit = gd.gateway_bypass_daily(small, small.start_day, small.end_day, audit_days=None)
    assert {r.key_created_by for r in without_audit.values()} == {None}


def test_ledger_totals_equal_the_usage_and_billed_key_costs(
    small: SyntheticOrg, ledger: dict
) -> None:
    """Every day of the small org is covered by costs per key: cost = billed per key."""
    billed = gt.api_key_cost_totals(small, small.start_day, small.end_day)
    assert sum(r.cost_usd for r in ledger.values()) == sum(
        v for (_, k), v in billed.items() if k is not None
    )
    totals = gt.key_window_totals(small, gt.to_date(small.end_day - DAY), 120)
    per_key: dict[str, int] = defaultdict(int)
    for (_, key), row in ledger.items():
        per_key[key] += row.requests
    for key, window in totals.items():
        assert per_key.get(key, 0) == window.requests
    assert Counter(r.token_status for r in ledger.values()) == {
        "registered": 4020,
        "unregistered": 363,
        "registered_revoked": 177,
    }


def test_members_and_seats_follow_the_former_member_and_the_departure(
    small: SyntheticOrg,
) -> None:
    seats = gd.seat_governance_daily(small, small.start_day, small.end_day)
    former = small.former_users[0]
    days = {d for d, m in seats if m == former.id}
    assert min(days) == gt.to_date(former.added_at)
    assert max(days) == gt.to_date(former.deleted_at)
    assert all(seats[(d, former.id)].attributed for d in days)
    engineer = small.extra["scenarios"]["departing_engineer"]
    departed_on = small.engineers.set_index("engineer_id").loc[engineer, "departed_on"]
    for (day, _), row in seats.items():
        if row.engineer_id == engineer:
            assert row.attributed == (day < departed_on)
            assert row.reason == (None if day < departed_on else "engineer_departed")
    # each day's seat lines are split over exactly that day's members
    allocation = gd.seat_allocation_daily(small, small.start_day, small.end_day)
    lines = gt.subscription_totals(small, small.start_day, small.end_day)
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for (day, line, member), amount in allocation.items():
        sums[(day, line)] += amount
        assert member in gt.members_on(small, day)
    assert sums == lines
    per_day = Counter(d for d, _ in seats)
    assert all(per_day[d] == len(gt.members_on(small, d)) for d in per_day)
    assert len(seats) == 4354


def test_engineers_on_a_day() -> None:
    tiny = build_org(7, "tiny")
    engineer = tiny.extra["scenarios"]["departing_engineer"]
    departed_on = tiny.engineers.set_index("engineer_id").loc[engineer, "departed_on"]

    def status(day: date) -> str:
        return gd.engineers_on(tiny, day).set_index("engineer_id").loc[engineer, "status"]

    assert status(departed_on - timedelta(days=1)) == "active"
    assert status(departed_on) == "departed"


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ([], "unregistered"),
        ([(10 * DAY, None, "active")], "unregistered"),  # created after the day
        ([(DAY - 1, None, "active")], "registered"),  # created in the day's last second
        ([(0, DAY, "revoked")], "registered"),  # revoked at the day's first second
        ([(0, DAY - 1, "revoked")], "registered_revoked"),  # revoked the day before
        ([(0, None, "revoked")], "registered_revoked"),  # revoked, time unknown
        ([(0, DAY - 1, "revoked"), (2 * DAY - 1, None, "active")], "registered"),
    ],
)
def test_token_status_on_a_day(tokens: list, expected: str) -> None:
    assert gd.token_status_on(tokens, date(1970, 1, 2)) == expected
