"""The findings the sandbox's ground truth implies, computed without the pipeline's SQL.

Each function walks `sandbox/ground_truth.py`'s answers in plain Python with the alert
rules' defaults, so the tests compare what the alerts decided with what they should have.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from kscope_openai_pipeline.sandbox import ground_truth as gt
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
