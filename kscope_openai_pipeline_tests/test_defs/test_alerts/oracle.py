"""The findings the sandbox's ground truth implies, computed without the pipeline's SQL.

Each function walks `sandbox/ground_truth.py`'s answers in plain Python with the alert
rules' defaults, so the tests compare what the alerts decided with what they should have.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox import ground_truth_daily as gtd
from kscope_openai_pipeline.sandbox.model import SyntheticOrg

DAY = dt.timedelta(days=1)


def reconciliation_gaps(
    org: SyntheticOrg, last: dt.date, tolerance: Decimal = Decimal(1), days: int = 2
) -> dict[str, dt.date]:
    """Project (or '(no project)') -> first_seen_date of a gap streak of at least `days`
    counting days ending on `last` (the last reconciled day)."""
    counting: dict[str | None, set[dt.date]] = defaultdict(set)
    for (day, project), row in gt.reconciliation(org, org.start_day, last + DAY).items():
        if row.status == "spend_outside_gateway" and row.gap > tolerance:
            counting[project].add(day)
    out = {}
    for project, counted in counting.items():
        streak = 0
        while last - streak * DAY in counted:
            streak += 1
        if streak >= days:
            out[project or "(no project)"] = last - (streak - days) * DAY
    return out


def ledger(org: SyntheticOrg, last: dt.date) -> dict[str, dict[dt.date, gtd.BypassDay]]:
    """The ground truth's daily bypass ledger up to `last`, per key and day."""
    by_key: dict[str, dict[dt.date, gtd.BypassDay]] = defaultdict(dict)
    for (day, key), row in gtd.gateway_bypass_daily(
        org, org.start_day, last + DAY, audit_days=None
    ).items():
        by_key[key][day] = row
    return by_key


def new_bypass_keys(org: SyntheticOrg, last: dt.date) -> dict[str, dt.date]:
    """Key -> first day of its current bypass, for keys whose latest day was bypass."""
    out = {}
    for key, days in ledger(org, last).items():
        if not days[max(days)].bypass:
            continue
        registered = [d for d, row in days.items() if not row.bypass]
        since = max(registered) if registered else None
        out[key] = min(d for d, row in days.items() if row.bypass and (since is None or d > since))
    return out


def bypass_spend(
    org: SyntheticOrg, last: dt.date, threshold: Decimal, window_days: int = 7
) -> dict[str, Decimal]:
    """Key -> its bypass days' cost over the window ending `last`, when above threshold."""
    first = last - (window_days - 1) * DAY
    out = {}
    for key, days in ledger(org, last).items():
        spend = sum(
            (row.cost_usd for d, row in days.items() if row.bypass and d >= first),
            Decimal(0),
        )
        if spend > threshold:
            out[key] = spend
    return out


def unattributed_members(
    org: SyntheticOrg, last: dt.date, window_days: int = 30
) -> dict[str, dt.date]:
    """Member -> first day of their current unattributed run, for members not attributed
    on `last`; the daily table starts at the first data day or the window's, earlier."""
    start = min(gt.to_date(org.start_day), last - (window_days - 1) * DAY)
    daily = gtd.seat_governance_daily(org, start, last + DAY, gt.default_rules(org))
    out = {}
    for (day, member), row in daily.items():
        if day != last or row.attributed:
            continue
        days = {d: r for (d, m), r in daily.items() if m == member}
        attributed = [d for d, r in days.items() if r.attributed]
        out[member] = max(attributed) + DAY if attributed else min(days)
    return out


def first_spend_day(org: SyntheticOrg, last: dt.date, key: str, window_days: int = 7) -> dt.date:
    """The first day of the window ending `last` on which `key` spent while bypassing."""
    first = last - (window_days - 1) * DAY
    days = ledger(org, last)[key]
    return min(d for d, row in days.items() if d >= first and row.bypass and row.cost_usd > 0)
