"""The fewest requests the Admin API allows for a range of days, and what a naive crawl makes.

Why its own module: the request ratio is the benchmark's headline and its denominator
must follow the API's rules, not the pipeline's code: a usage page holds at most 31 daily
buckets (`limit` max 31), a costs page at most 180, and costs grouped by API key exist
only from 2025-12-06. A crawler that asks one day per run with the default page limit
(7 buckets) makes one request per family per day whatever the limit. The audit log is a
list: at most 100 events a page, so N events need ceil(N / 100) requests (one at least).
"""

from __future__ import annotations

import math
from datetime import date

USAGE_FAMILIES = 10
#: Requests the scheduled run's access check makes first: one per permission probed (six
#: required, the audit log optional). The backfill and inventory jobs do not run it.
ACCESS_CHECK_PROBES = 7
USAGE_PAGE_MAX = 31
COSTS_PAGE_MAX = 180
LIST_PAGE_MAX = 100
API_KEY_COSTS_FIRST_DAY = date(2025, 12, 6)


def api_key_cost_days(first: date, last: date) -> int:
    """Days of [first, last] (inclusive) on which the API groups costs by key."""
    start = max(first, API_KEY_COSTS_FIRST_DAY)
    return max(0, (last - start).days + 1)


def minimum_requests(first: date, last: date) -> dict[str, int]:
    """Per query kind: ceil(days / largest page) for [first, last] (inclusive)."""
    days = (last - first).days + 1
    return {
        "usage": math.ceil(days / USAGE_PAGE_MAX) * USAGE_FAMILIES,
        "costs": math.ceil(days / COSTS_PAGE_MAX),
        "api_key_costs": math.ceil(api_key_cost_days(first, last) / COSTS_PAGE_MAX),
    }


def naive_requests(first: date, last: date) -> dict[str, int]:
    """One request per family / cost query per day (one partition per run)."""
    days = (last - first).days + 1
    return {
        "usage": days * USAGE_FAMILIES,
        "costs": days,
        "api_key_costs": api_key_cost_days(first, last),
    }


def audit_log_events(events_by_day: dict[str, int], first: date, last: date) -> int:
    """Events of [first, last] (inclusive) from the sandbox's per-day counts."""
    return sum(n for day, n in events_by_day.items() if first <= date.fromisoformat(day) <= last)


def minimum_audit_log_requests(events: int) -> int:
    """One request per 100 events, at least one (an empty window is still asked)."""
    return max(1, math.ceil(events / LIST_PAGE_MAX))
