"""The daily sightlines for people: what the point-in-time tables add to the "now" view.

Why separate from `summaries`: the daily tables answer other questions ("since when has
this key bypassed the gateway?", "who held an unaccounted seat on each day?"), and their
headlines say how the day-by-day view differs from today's snapshot, which is what a
FinOps engineer closing a month needs to see first. Numbers are read back from the tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

from kscope_openai_pipeline.sightlines.params import SightlineParams
from kscope_openai_pipeline.sightlines.summaries import (
    TOP_N,
    ZERO,
    _days_phrase,
    _md_table,
    _plural,
    _rows,
    usd,
)


def summarize_gateway_bypass_daily(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Bypass spend over the window judged day by day, the keys behind it, and since when."""
    window = [params.window_start, params.as_of]
    totals = _rows(
        conn,
        """
        SELECT
            COALESCE(SUM(cost_usd) FILTER (WHERE bypass), 0) AS bypass_usd,
            COUNT(DISTINCT api_key_id) FILTER (WHERE bypass) AS bypass_keys,
            COUNT(*) FILTER (WHERE bypass) AS bypass_key_days,
            COUNT(DISTINCT usage_date) AS days,
            COUNT(*) AS key_days
        FROM sightlines.gateway_bypass_daily
        WHERE usage_date BETWEEN ? AND ?
        """,
        window,
    )[0]
    bypass_usd: Decimal = totals["bypass_usd"] or ZERO
    keys = int(totals["bypass_keys"])
    headline = (
        f"{_plural(keys, 'key')} bypassed the gateway on at least one day: "
        f"{usd(bypass_usd)} {_days_phrase(params.window_days)}, judged day by day"
    )
    top = _rows(
        conn,
        """
        SELECT
            api_key_id,
            ANY_VALUE(project_name) AS project_name,
            ANY_VALUE(coalesce(owner_email, owner_id, key_created_by)) AS who,
            MIN(usage_date) AS first_bypass_day,
            MAX(usage_date) AS last_bypass_day,
            COUNT(*) AS days,
            SUM(cost_usd) AS cost_usd
        FROM sightlines.gateway_bypass_daily
        WHERE bypass
            AND usage_date BETWEEN ? AND ?
        GROUP BY api_key_id
        ORDER BY cost_usd DESC, api_key_id
        LIMIT ?
        """,
        [*window, TOP_N],
    )
    table = _md_table(
        ["key", "project", "owner or creator", "bypass days", "first", "last", "cost"],
        [
            [
                f"`{r['api_key_id']}`",
                r["project_name"] or "",
                r["who"] or "",
                str(r["days"]),
                r["first_bypass_day"].isoformat(),
                r["last_bypass_day"].isoformat(),
                usd(r["cost_usd"]),
            ]
            for r in top
        ],
    )
    markdown = (
        f"**{headline}**\n\n{int(totals['bypass_key_days']):,} of "
        f"{int(totals['key_days']):,} key-days bypassed the gateway over "
        f"{_plural(int(totals['days']), 'day')} with traffic.\n\n"
        + (table if top else "_No key bypassed the gateway in the window._")
    )
    return {
        "headline": headline,
        "bypass_usd": str(bypass_usd),
        "bypass_keys": keys,
        "bypass_key_days": int(totals["bypass_key_days"]),
        "key_days": int(totals["key_days"]),
        "markdown": markdown,
    }


def summarize_seat_governance_daily(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Unattributed member-days and their seat cost over the window, and who they were."""
    window = [params.window_start, params.as_of]
    totals = _rows(
        conn,
        """
        SELECT
            COUNT(*) AS member_days,
            COUNT(*) FILTER (WHERE NOT attributed) AS unattributed_days,
            COUNT(DISTINCT member_id) FILTER (WHERE NOT attributed) AS unattributed_members,
            COALESCE(SUM(seat_usd) FILTER (WHERE NOT attributed), 0) AS unattributed_usd,
            COUNT(DISTINCT member_id) AS members
        FROM sightlines.seat_governance_daily
        WHERE day BETWEEN ? AND ?
        """,
        window,
    )[0]
    cost: Decimal = totals["unattributed_usd"] or ZERO
    who = _plural(int(totals["unattributed_members"]), "member")
    headline = (
        f"{int(totals['unattributed_days']):,} of {int(totals['member_days']):,} member-days "
        f"were not attributable to an engineer ({who}): {usd(cost)} of seats "
        f"{_days_phrase(params.window_days)}"
    )
    top = _rows(
        conn,
        """
        SELECT
            member_id,
            ANY_VALUE(email) AS email,
            STRING_AGG(DISTINCT reason, ', ' ORDER BY reason) AS reasons,
            MIN(day) AS first_day,
            MAX(day) AS last_day,
            COUNT(*) AS days,
            SUM(seat_usd) AS seat_usd
        FROM sightlines.seat_governance_daily
        WHERE NOT attributed
            AND day BETWEEN ? AND ?
        GROUP BY member_id
        ORDER BY seat_usd DESC, member_id
        LIMIT ?
        """,
        [*window, TOP_N],
    )
    table = _md_table(
        ["member", "email", "reason", "days", "first", "last", "seat cost"],
        [
            [
                f"`{r['member_id']}`",
                r["email"] or "",
                r["reasons"] or "",
                str(r["days"]),
                r["first_day"].isoformat(),
                r["last_day"].isoformat(),
                usd(r["seat_usd"]),
            ]
            for r in top
        ],
    )
    markdown = f"**{headline}**\n\n" + (table if top else "_Every member-day is attributed._")
    return {
        "headline": headline,
        "member_days": int(totals["member_days"]),
        "unattributed_member_days": int(totals["unattributed_days"]),
        "unattributed_members": int(totals["unattributed_members"]),
        "unattributed_seat_usd": str(cost),
        "markdown": markdown,
    }
