"""The sightlines for people: headline numbers and markdown summaries.

Why: an asset's materialization metadata, the demo's last lines and the chart a FinOps
engineer opens must all tell the same story as the tables, in a sentence a person reads:
"3 keys bypass the gateway: $1,234.56 in the last 30 days". Every number here is read
back from the sightline tables (never recomputed), so the story cannot drift from the data.
Money is Decimal to the end and rounded half-up to the cent only when shown.

- `summarize_*(conn, params) -> dict`: headline, counts and money (as exact `Decimal`
  dollars, never strings: `str()` of a Decimal zero is '0E-9') plus a `markdown` entry;
  what `runner.compute_all` returns as `SightlineResult.summary`. The Dagster layer turns
  the money into numbers the UI can plot.
- `headlines(conn, params) -> list[str]`: the three sightlines' headlines (demo output).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from kscope_openai_pipeline.sightlines.params import SightlineParams

CENT = Decimal("0.01")
ZERO = Decimal("0.000000000")
#: How many items the markdown tables list.
TOP_N = 10


def usd(amount: Decimal | None) -> str:
    """'$1,234.57' (half-up to the cent; negative as '-$1.00')."""
    value = (amount or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def exact(amount: Decimal | None) -> Decimal:
    """Dollars to the nano-dollar, as DECIMAL(18,9) holds them (None is 0)."""
    return (amount or ZERO).quantize(ZERO)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(v: str) -> str:
        return v.replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _days_phrase(window_days: int) -> str:
    return "in the last day" if window_days == 1 else f"in the last {window_days} days"


# --------------------------------------------------------------------------- gateway bypass


def summarize_gateway_bypass(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Counts per status, the bypass keys' window cost, the top bypass keys, a headline.

    "Keys bypassing the gateway" are the unregistered keys used in the window
    (bypass_active); the cost is that of all unregistered keys over the window.
    """
    counts = {
        r["status"]: (int(r["n"]), r["cost"])
        for r in _rows(
            conn,
            """
            SELECT status, COUNT(*) AS n, SUM(cost_usd) AS cost
            FROM sightlines.gateway_bypass
            GROUP BY status
            """,
        )
    }
    active = counts.get("bypass_active", (0, ZERO))
    dormant = counts.get("bypass_dormant", (0, ZERO))
    revoked = counts.get("registered_revoked", (0, ZERO))
    bypass_cost = (active[1] or ZERO) + (dormant[1] or ZERO)
    keys = _plural(active[0], "key")
    verb = "bypasses" if active[0] == 1 else "bypass"
    headline = (
        f"{keys} {verb} the gateway: {usd(bypass_cost)} {_days_phrase(params.window_days)}"
    )
    top = _rows(
        conn,
        """
        SELECT api_key_id, key_name, project_name, owner_email, owner_name, status,
               requests, cost_usd, cost_basis
        FROM sightlines.gateway_bypass
        WHERE status IN ('bypass_active', 'bypass_dormant', 'registered_revoked')
        ORDER BY cost_usd DESC, requests DESC, api_key_id
        LIMIT ?
        """,
        [TOP_N],
    )
    table = _md_table(
        ["key", "project", "owner", "status", "requests", "cost"],
        [
            [
                f"`{r['api_key_id']}` {r['key_name'] or ''}".strip(),
                r["project_name"] or "",
                r["owner_email"] or r["owner_name"] or "",
                r["status"],
                f"{r['requests']:,}",
                usd(r["cost_usd"]),
            ]
            for r in top
        ],
    )
    markdown = (
        f"**{headline}**\n\n"
        f"Window {params.window_start} to {params.as_of}. "
        f"{_plural(dormant[0], 'unregistered key')} unused in the window; "
        f"{_plural(revoked[0], 'key')} with only revoked Dev Tokens "
        f"({usd(revoked[1])}).\n\n"
        + (table if top else "_No unregistered keys._")
    )
    return {
        "headline": headline,
        "bypass_keys": active[0],
        "dormant_keys": dormant[0],
        "registered_revoked_keys": revoked[0],
        "registered_keys": counts.get("registered", (0, ZERO))[0],
        "bypass_cost_usd": exact(bypass_cost),
        "window_start": params.window_start.isoformat(),
        "as_of": params.as_of.isoformat(),
        "top_keys": [
            {"api_key_id": r["api_key_id"], "status": r["status"], "cost_usd": exact(r["cost_usd"])}
            for r in top
        ],
        "markdown": markdown,
    }


# --------------------------------------------------------------------------- reconciliation


def window_org_days(
    conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
) -> list[dict]:
    return _rows(
        conn,
        """
        SELECT recon_date, billed_usd, metered_usd, gap_usd, bypass_explained_usd, status
        FROM sightlines.billing_reconciliation
        WHERE scope = 'organization'
          AND recon_date BETWEEN ? AND ?
        ORDER BY recon_date
        """,
        [start, end],
    )


def seat_spend_per_day(
    conn: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    subscription_patterns: tuple[str, ...],
) -> dict[dt.date, Decimal]:
    """Subscription (seat) line items of openai.costs per day over [start, end]: what the
    reconciliation's billed side leaves out (same patterns), for the chart and the demo."""
    return {
        r["cost_date"]: r["seats"]
        for r in _rows(
            conn,
            """
            WITH patterns AS (
                SELECT UNNEST(CAST(? AS VARCHAR[])) AS pattern
            ),
            seat_line_items AS (
                SELECT DISTINCT c.line_item
                FROM openai.costs AS c
                JOIN patterns AS p ON c.line_item ILIKE p.pattern
            )
            SELECT c.cost_date, SUM(c.amount_usd) AS seats
            FROM openai.costs AS c
            SEMI JOIN seat_line_items AS s ON s.line_item = c.line_item
            WHERE c.cost_date BETWEEN ? AND ?
            GROUP BY c.cost_date
            ORDER BY c.cost_date
            """,
            [list(subscription_patterns), start, end],
        )
    }


def summarize_billing_reconciliation(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Billed vs metered over the window (organization rows), days per status, biggest gaps."""
    days = window_org_days(conn, params.window_start, params.as_of)
    billed = sum((d["billed_usd"] for d in days), ZERO)
    metered = sum((d["metered_usd"] for d in days), ZERO)
    gap = billed - metered
    bypass = sum((d["bypass_explained_usd"] for d in days), ZERO)
    statuses: dict[str, int] = {}
    for d in days:
        statuses[d["status"]] = statuses.get(d["status"], 0) + 1
    phrase = _days_phrase(params.window_days)
    if days and all(d["status"] == "gateway_not_deployed" for d in days):
        headline = (
            f"No gateway data: {usd(billed)} billed {phrase} cannot be reconciled "
            "(gateway_not_deployed)"
        )
    else:
        share = f" ({gap / billed:.1%})" if billed > 0 else ""
        matched = statuses.get("matched", 0)
        headline = (
            f"{usd(gap)}{share} of {usd(billed)} billed {phrase} went outside the gateway; "
            f"{matched} of {_plural(len(days), 'day')} matched"
        )
    largest = sorted(days, key=lambda d: (-abs(d["gap_usd"]), d["recon_date"]))[:TOP_N]
    table = _md_table(
        ["day", "billed", "metered", "gap", "explained by bypass keys", "status"],
        [
            [
                d["recon_date"].isoformat(),
                usd(d["billed_usd"]),
                usd(d["metered_usd"]),
                usd(d["gap_usd"]),
                usd(d["bypass_explained_usd"]),
                d["status"],
            ]
            for d in largest
        ],
    )
    markdown = (
        f"**{headline}**\n\n"
        f"Metered {usd(metered)}; bypass keys explain {usd(bypass)} of the gap. "
        f"Days by status: "
        + (", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none")
        + ".\n\nDays with the largest gap:\n\n"
        + (table if largest else "_No billed or metered days in the window._")
    )
    return {
        "headline": headline,
        "billed_usd": exact(billed),
        "metered_usd": exact(metered),
        "gap_usd": exact(gap),
        "bypass_explained_usd": exact(bypass),
        "days": len(days),
        "days_by_status": statuses,
        "largest_gap_days": [
            {"recon_date": d["recon_date"].isoformat(), "gap_usd": exact(d["gap_usd"])}
            for d in largest
        ],
        "window_start": params.window_start.isoformat(),
        "as_of": params.as_of.isoformat(),
        "markdown": markdown,
    }


# --------------------------------------------------------------------------- seats


def summarize_seat_governance(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Members attributed or not, by reason, the unattributed seats' cost, who they are."""
    members = _rows(
        conn,
        """
        SELECT member_id, member_type, email, role, attributed, reason, engineer_id,
               keys_owned, last_key_used_at, allocated_seat_usd
        FROM sightlines.seat_governance
        ORDER BY attributed, reason, allocated_seat_usd DESC, member_id
        """,
    )
    missing = [m for m in members if not m["attributed"]]
    reasons: dict[str, int] = {}
    for m in missing:
        reasons[m["reason"]] = reasons.get(m["reason"], 0) + 1
    cost = sum((m["allocated_seat_usd"] for m in missing), ZERO)
    detail = ", ".join(f"{v} {k}" for k, v in sorted(reasons.items()))
    headline = (
        f"{len(missing)} of {_plural(len(members), 'member')} cannot be attributed to an "
        f"engineer" + (f" ({detail})" if detail else "")
        + f": {usd(cost)} of seats {_days_phrase(params.window_days)}"
    )
    table = _md_table(
        ["member", "email", "role", "reason", "keys", "seat cost"],
        [
            [
                f"{m['member_type']} `{m['member_id']}`",
                m["email"] or "",
                m["role"] or "",
                m["reason"] or "",
                str(m["keys_owned"]),
                usd(m["allocated_seat_usd"]),
            ]
            for m in missing
        ],
    )
    markdown = f"**{headline}**\n\n" + (table if missing else "_Every member is attributed._")
    return {
        "headline": headline,
        "members": len(members),
        "unattributed": len(missing),
        "unattributed_by_reason": reasons,
        "unattributed_seat_usd": exact(cost),
        "unattributed_members": [
            {"member_id": m["member_id"], "email": m["email"], "reason": m["reason"]}
            for m in missing
        ],
        "markdown": markdown,
    }


def summarize_seat_allocation(
    conn: duckdb.DuckDBPyConnection, params: SightlineParams
) -> dict[str, Any]:
    """Subscription spend allocated over the window, and to how many members."""
    row = _rows(
        conn,
        """
        SELECT COALESCE(SUM(allocated_usd), 0) AS allocated,
               COUNT(DISTINCT user_id) AS members,
               COUNT(DISTINCT (cost_date, project_id, line_item)) AS lines,
               COUNT(*) FILTER (WHERE user_id IS NULL) AS unallocated_lines
        FROM sightlines.seat_allocation
        WHERE cost_date BETWEEN ? AND ?
        """,
        [params.window_start, params.as_of],
    )[0]
    headline = (
        f"{usd(row['allocated'])} of subscription seats allocated across "
        f"{_plural(int(row['members']), 'member')} {_days_phrase(params.window_days)}"
    )
    markdown = (
        f"**{headline}**\n\n{_plural(int(row['lines']), 'line item')} split to the "
        f"nano-dollar (the parts sum to each line exactly); "
        f"{_plural(int(row['unallocated_lines']), 'line')} on days without members."
    )
    return {
        "headline": headline,
        "allocated_usd": exact(row["allocated"]),
        "members": int(row["members"]),
        "line_items": int(row["lines"]),
        "unallocated_lines": int(row["unallocated_lines"]),
        "markdown": markdown,
    }


def headlines(conn: duckdb.DuckDBPyConnection, params: SightlineParams) -> list[str]:
    """The three sightlines' headlines, in the order the demo prints them."""
    return [
        summarize_gateway_bypass(conn, params)["headline"],
        summarize_billing_reconciliation(conn, params)["headline"],
        summarize_seat_governance(conn, params)["headline"],
    ]
