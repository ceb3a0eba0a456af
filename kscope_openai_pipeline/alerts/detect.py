"""Findings decided by SQL over the warehouse: one SELECT per kind in `sql/<kind>.sql`.

Why SQL: the sightlines are tables in DuckDB; a finding is a question asked of them
("which bypass keys spent more than $50 in 7 days?"), answered where the data is, in a
file an analyst can read and run. Each SELECT returns organization_id, subject,
first_seen_date and details (a JSON object).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from kscope_openai_pipeline.alerts import sqlfiles
from kscope_openai_pipeline.alerts.findings import Finding
from kscope_openai_pipeline.alerts.kinds import WAREHOUSE_KINDS, AlertRules, Kind


def _values(rules: AlertRules, as_of: dt.date) -> dict[str, object]:
    return {
        "as_of": as_of,
        "bypass_spend_usd": rules.bypass_spend_usd,
        "bypass_window_days": rules.bypass_window_days,
        "gap_tolerance_usd": rules.gap_tolerance_usd,
        "gap_days": rules.gap_days,
    }


def warehouse_findings(
    conn: duckdb.DuckDBPyConnection, rules: AlertRules, as_of: dt.date
) -> tuple[list[Finding], tuple[Kind, ...]]:
    """(the findings of every enabled warehouse kind as of `as_of`, the kinds decided)."""
    decided = rules.enabled(WAREHOUSE_KINDS)
    findings = [
        Finding(organization_id, kind.name, subject, first_seen, details)
        for kind in decided
        for organization_id, subject, first_seen, details in sqlfiles.select(
            conn, kind.name, _values(rules, as_of)
        )
    ]
    return findings, decided
