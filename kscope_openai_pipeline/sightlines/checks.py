"""Asset-check style verifications of the sightline tables, as plain functions.

Why separate from the assets: the checks are SQL over the warehouse and must be testable
without Dagster; the asset layer turns each `CheckOutcome` into a `dg.AssetCheckResult`
(`passed`, `metadata`, and `blocking` for the grain checks). Each check names what it
found in its metadata (counts and up to five examples) so a failing check is actionable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.sightlines.params import (
    BILLING_RECONCILIATION,
    DEFAULT_SUBSCRIPTION_PATTERNS,
    GATEWAY_BYPASS,
    GATEWAY_BYPASS_DAILY,
    SEAT_ALLOCATION,
    SEAT_GOVERNANCE,
    SEAT_GOVERNANCE_DAILY,
)

EXAMPLES = 5


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict: `blocking` ones must stop downstream assets when they fail."""

    name: str
    table: str
    passed: bool
    description: str
    blocking: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


def _examples(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[int, list[tuple]]:
    """(how many rows `sql` returns, up to EXAMPLES of them as strings)."""
    rows = conn.execute(
        f"SELECT *, COUNT(*) OVER () AS n FROM ({sql}) LIMIT {EXAMPLES}", params or []
    ).fetchall()
    if not rows:
        return 0, []
    return int(rows[0][-1]), [tuple(_text(v) for v in r[:-1]) for r in rows]


def _text(value: Any) -> str:
    """A value as an example shows it: dollars in fixed point ('0.000000000', never '0E-9')."""
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


def gateway_bypass_one_row_per_key(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every listed project key exactly once (blocking): no duplicates, none missing or extra."""
    n_dup, dup = warehouse.duplicate_grain(conn, GATEWAY_BYPASS, ["organization_id", "api_key_id"])
    n_missing, missing = _examples(
        conn,
        """
        SELECT organization_id, api_key_id FROM openai.api_keys WHERE key_kind = 'project'
        EXCEPT
        SELECT organization_id, api_key_id FROM sightlines.gateway_bypass
        """,
    )
    n_extra, extra = _examples(
        conn,
        """
        SELECT organization_id, api_key_id FROM sightlines.gateway_bypass
        EXCEPT
        SELECT organization_id, api_key_id FROM openai.api_keys WHERE key_kind = 'project'
        """,
    )
    passed = not (n_dup or n_missing or n_extra)
    return CheckOutcome(
        "one_row_per_key",
        GATEWAY_BYPASS,
        passed,
        "every listed project key appears exactly once"
        if passed
        else f"{n_dup} duplicated, {n_missing} missing, {n_extra} unexpected keys",
        blocking=True,
        metadata={
            "duplicated": n_dup,
            "missing": n_missing,
            "unexpected": n_extra,
            "examples": [str(e) for e in [*dup, *missing, *extra][:EXAMPLES]],
        },
    )


def seat_governance_one_row_per_member(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every user and pending invite exactly once (blocking)."""
    n_dup, dup = warehouse.duplicate_grain(conn, SEAT_GOVERNANCE, ["organization_id", "member_id"])
    expected = """
        SELECT organization_id, user_id AS member_id FROM openai.users
        UNION ALL
        SELECT organization_id, invite_id FROM openai.invites WHERE status = 'pending'
    """
    n_missing, missing = _examples(
        conn,
        f"{expected} EXCEPT SELECT organization_id, member_id FROM sightlines.seat_governance",
    )
    n_extra, extra = _examples(
        conn,
        f"SELECT organization_id, member_id FROM sightlines.seat_governance EXCEPT ({expected})",
    )
    passed = not (n_dup or n_missing or n_extra)
    return CheckOutcome(
        "one_row_per_member",
        SEAT_GOVERNANCE,
        passed,
        "every member and pending invite appears exactly once"
        if passed
        else f"{n_dup} duplicated, {n_missing} missing, {n_extra} unexpected members",
        blocking=True,
        metadata={
            "duplicated": n_dup,
            "missing": n_missing,
            "unexpected": n_extra,
            "examples": [str(e) for e in [*dup, *missing, *extra][:EXAMPLES]],
        },
    )


def gateway_bypass_daily_one_row_per_key_day(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every (day, key) with usage exactly once in the daily ledger (blocking): a missing
    key-day would hide bypass spend from reconciliation."""
    n_dup, dup = warehouse.duplicate_grain(
        conn, GATEWAY_BYPASS_DAILY, ["organization_id", "usage_date", "api_key_id"]
    )
    n_missing, missing = _examples(
        conn,
        """
        SELECT DISTINCT organization_id, usage_date, api_key_id
        FROM openai.usage
        WHERE api_key_id IS NOT NULL
        EXCEPT
        SELECT organization_id, usage_date, api_key_id FROM sightlines.gateway_bypass_daily
        """,
    )
    passed = not (n_dup or n_missing)
    return CheckOutcome(
        "one_row_per_key_day",
        GATEWAY_BYPASS_DAILY,
        passed,
        "every key-day with usage appears exactly once"
        if passed
        else f"{n_dup} duplicated, {n_missing} missing key-days",
        blocking=True,
        metadata={
            "duplicated": n_dup,
            "missing": n_missing,
            "examples": [str(e) for e in [*dup, *missing][:EXAMPLES]],
        },
    )


def seat_governance_daily_one_row_per_member_day(
    conn: duckdb.DuckDBPyConnection,
) -> CheckOutcome:
    """Every member of every day exactly once (blocking), and no seat cost on a member
    who was not a member that day."""
    n_dup, dup = warehouse.duplicate_grain(
        conn, SEAT_GOVERNANCE_DAILY, ["organization_id", "day", "member_id"]
    )
    n_orphan, orphans = _examples(
        conn,
        """
        SELECT a.organization_id, a.cost_date, a.user_id
        FROM sightlines.seat_allocation AS a
        ANTI JOIN sightlines.seat_governance_daily AS g
            ON g.organization_id = a.organization_id
            AND g.day = a.cost_date
            AND g.member_id = a.user_id
        WHERE a.user_id IS NOT NULL
            AND a.cost_date BETWEEN (SELECT MIN(day) FROM sightlines.seat_governance_daily)
                AND (SELECT MAX(day) FROM sightlines.seat_governance_daily)
        """,
    )
    passed = not (n_dup or n_orphan)
    return CheckOutcome(
        "one_row_per_member_day",
        SEAT_GOVERNANCE_DAILY,
        passed,
        "every member of every day appears exactly once"
        if passed
        else f"{n_dup} duplicated member-days, {n_orphan} seat allocations to non-members",
        blocking=True,
        metadata={
            "duplicated": n_dup,
            "allocations_without_member_day": n_orphan,
            "examples": [str(e) for e in [*dup, *orphans][:EXAMPLES]],
        },
    )


def billing_reconciliation_gap_exact(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """gap = billed - metered on every row, organization rows = sum of their project rows,
    and the grain is unique (an analyst-facing check: not blocking)."""
    n_dup, dup = warehouse.duplicate_grain(
        conn, BILLING_RECONCILIATION, ["organization_id", "recon_date", "scope", "project_id"]
    )
    n_gap, gaps = _examples(
        conn,
        """
        SELECT recon_date, scope, project_id, billed_usd, metered_usd, gap_usd
        FROM sightlines.billing_reconciliation
        WHERE gap_usd <> billed_usd - metered_usd
        """,
    )
    n_sum, sums = _examples(
        conn,
        """
        WITH project_sums AS (
            SELECT organization_id, recon_date, SUM(billed_usd) AS billed,
                   SUM(metered_usd) AS metered, SUM(bypass_explained_usd) AS bypass
            FROM sightlines.billing_reconciliation
            WHERE scope = 'project'
            GROUP BY ALL
        )
        SELECT o.recon_date, o.billed_usd, p.billed, o.metered_usd, p.metered
        FROM sightlines.billing_reconciliation AS o
        FULL JOIN project_sums AS p
            ON p.organization_id = o.organization_id AND p.recon_date = o.recon_date
        WHERE (o.scope = 'organization' OR o.scope IS NULL)
          AND (o.billed_usd IS DISTINCT FROM p.billed
               OR o.metered_usd IS DISTINCT FROM p.metered
               OR o.bypass_explained_usd IS DISTINCT FROM p.bypass)
        """,
    )
    passed = not (n_dup or n_gap or n_sum)
    return CheckOutcome(
        "gap_exact",
        BILLING_RECONCILIATION,
        passed,
        "gap = billed - metered exactly; organization rows sum their projects"
        if passed
        else f"{n_gap} rows with a wrong gap, {n_sum} days whose totals differ, "
        f"{n_dup} duplicated rows",
        blocking=False,
        metadata={
            "wrong_gap_rows": n_gap,
            "wrong_total_days": n_sum,
            "duplicated": n_dup,
            "examples": [str(e) for e in [*gaps, *sums, *dup][:EXAMPLES]],
        },
    )


def seat_allocation_sums_exact(
    conn: duckdb.DuckDBPyConnection,
    subscription_patterns: tuple[str, ...] = DEFAULT_SUBSCRIPTION_PATTERNS,
) -> CheckOutcome:
    """Each subscription line item of openai.costs equals the sum of its allocation exactly,
    none is missing, and the grain is unique (not blocking)."""
    n_dup, dup = warehouse.duplicate_grain(
        conn,
        SEAT_ALLOCATION,
        ["organization_id", "cost_date", "project_id", "line_item", "user_id"],
    )
    n_bad, bad = _examples(
        conn,
        """
        WITH patterns AS (
            SELECT UNNEST(CAST(? AS VARCHAR[])) AS pattern
        ),
        subscription_line_items AS (
            SELECT DISTINCT c.organization_id, c.line_item
            FROM openai.costs AS c
            JOIN patterns AS p ON c.line_item ILIKE p.pattern
        ),
        source_lines AS (
            SELECT c.organization_id, c.cost_date, c.project_id, c.line_item,
                   SUM(c.amount_usd) AS amount
            FROM openai.costs AS c
            SEMI JOIN subscription_line_items AS s
                ON s.organization_id = c.organization_id AND s.line_item = c.line_item
            GROUP BY ALL
        ),
        allocated_lines AS (
            SELECT organization_id, cost_date, project_id, line_item,
                   SUM(allocated_usd) AS allocated
            FROM sightlines.seat_allocation
            GROUP BY ALL
        )
        SELECT coalesce(s.cost_date, a.cost_date) AS cost_date,
               coalesce(s.line_item, a.line_item) AS line_item,
               s.amount, a.allocated
        FROM source_lines AS s
        FULL JOIN allocated_lines AS a
            ON a.organization_id = s.organization_id
            AND a.cost_date = s.cost_date
            AND a.project_id IS NOT DISTINCT FROM s.project_id
            AND a.line_item = s.line_item
        WHERE s.amount IS DISTINCT FROM a.allocated
        """,
        [list(subscription_patterns)],
    )
    passed = not (n_dup or n_bad)
    return CheckOutcome(
        "allocation_sums_exact",
        SEAT_ALLOCATION,
        passed,
        "every subscription line item is allocated exactly"
        if passed
        else f"{n_bad} line items whose allocation differs, {n_dup} duplicated rows",
        blocking=False,
        metadata={
            "mismatched_lines": n_bad,
            "duplicated": n_dup,
            "examples": [str(e) for e in [*bad, *dup][:EXAMPLES]],
        },
    )


def run_all(
    conn: duckdb.DuckDBPyConnection,
    subscription_patterns: tuple[str, ...] = DEFAULT_SUBSCRIPTION_PATTERNS,
) -> list[CheckOutcome]:
    """Every sightline check, in table order."""
    return [
        gateway_bypass_one_row_per_key(conn),
        billing_reconciliation_gap_exact(conn),
        seat_allocation_sums_exact(conn, subscription_patterns),
        seat_governance_one_row_per_member(conn),
        gateway_bypass_daily_one_row_per_key_day(conn),
        seat_governance_daily_one_row_per_member_day(conn),
    ]
