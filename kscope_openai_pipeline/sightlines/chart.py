"""The billed-vs-metered chart: a self-contained HTML page with an inline SVG.

Why no plotting library: the page must open anywhere (next to the analyst copy, from the
Dagster metadata) with no scripts, fonts or images to fetch, and it draws three series.
Every number is read back from `sightlines.billing_reconciliation`, whose billed side
leaves out subscription (seat) line items: seats never pass through a gateway. The page
says so in its title, its legend and its table (which lists the seats left out per day,
read from `openai.costs` with the same patterns), so its billed bars are never mistaken
for the whole bill.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from pathlib import Path

import duckdb

from kscope_openai_pipeline.sightlines.params import SightlineParams
from kscope_openai_pipeline.sightlines.summaries import (
    seat_spend_per_day,
    summarize_billing_reconciliation,
    usd,
    window_org_days,
)

TITLE = "Billed vs metered OpenAI spend per day, without seat line items"
Y_AXIS_LABEL = "USD per day"
LEGEND = (
    ("billed by OpenAI, seat line items left out", "billed"),
    ("of which unregistered keys", "bypass"),
    ("metered by the gateway", "metered"),
)

_WIDTH, _HEIGHT = 960, 360
_MARGIN = {"left": 84, "right": 20, "top": 20, "bottom": 50}
_COLORS = {"billed": "#9aa5b1", "bypass": "#d64545", "metered": "#1f6feb"}


def _nice_max(value: Decimal) -> Decimal:
    """A round axis maximum >= value (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return Decimal(1)
    exponent = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * exponent:
            return Decimal(step) * exponent
    return 10 * exponent


def reconciliation_svg(days: list[dict]) -> str:
    """Inline SVG: per day a grey bar of billed spend with its bypass part in red on top
    of the baseline, and a blue line of metered spend; hover a day for its numbers."""
    left, right = _MARGIN["left"], _WIDTH - _MARGIN["right"]
    top, bottom = _MARGIN["top"], _HEIGHT - _MARGIN["bottom"]
    top_value = _nice_max(max([d["billed_usd"] for d in days] + [d["metered_usd"] for d in days]
                              + [Decimal(0)]))
    n = max(len(days), 1)
    step = (right - left) / n
    bar = max(step * 0.7, 1.0)

    def y(value: Decimal) -> float:
        return bottom - float(max(value, Decimal(0)) / top_value) * (bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-label="{html.escape(TITLE)}">',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{_HEIGHT}" fill="#ffffff"/>',
        f'<text x="14" y="{(top + bottom) / 2:.1f}" text-anchor="middle" font-size="12" '
        f'fill="#52606d" transform="rotate(-90 14 {(top + bottom) / 2:.1f})">'
        f"{html.escape(Y_AXIS_LABEL)}</text>",
    ]
    for i in range(5):
        value = top_value * i / 4
        yy = y(value)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{right}" y2="{yy:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 8}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#52606d">{html.escape(usd(value))}</text>'
        )
    points = []
    label_every = max(1, n // 8)
    for i, d in enumerate(days):
        x = left + i * step + (step - bar) / 2
        billed, bypass = d["billed_usd"], min(d["bypass_explained_usd"], d["billed_usd"])
        tip = html.escape(
            f"{d['recon_date']}: billed {usd(billed)} without seats, "
            f"metered {usd(d['metered_usd'])}, "
            f"gap {usd(d['gap_usd'])}, bypass keys {usd(d['bypass_explained_usd'])}, "
            f"{d['status']}"
        )
        parts.append(
            f'<g><title>{tip}</title>'
            f'<rect x="{x:.1f}" y="{y(billed):.1f}" width="{bar:.1f}" '
            f'height="{bottom - y(billed):.1f}" fill="{_COLORS["billed"]}"/>'
            f'<rect x="{x:.1f}" y="{y(bypass):.1f}" width="{bar:.1f}" '
            f'height="{bottom - y(bypass):.1f}" fill="{_COLORS["bypass"]}"/></g>'
        )
        points.append(f"{x + bar / 2:.1f},{y(d['metered_usd']):.1f}")
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="#52606d">{d["recon_date"].strftime("%b %d")}</text>'
            )
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" '
            f'stroke="{_COLORS["metered"]}" stroke-width="2"/>'
        )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#52606d"/>'
    )
    for i, (label, key) in enumerate(LEGEND):
        lx = left + (0, 330, 540)[i]
        parts.append(
            f'<rect x="{lx}" y="{_HEIGHT - 18}" width="12" height="12" fill="{_COLORS[key]}"/>'
            f'<text x="{lx + 18}" y="{_HEIGHT - 8}" font-size="12" fill="#1f2933">'
            f"{html.escape(label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def reconciliation_html(
    days: list[dict], title: str, subtitle: str, seats: dict[dt.date, Decimal] | None = None
) -> str:
    """A complete HTML page (inline CSS and SVG only) for the reconciliation days;
    `seats` are the seat line items left out of each day's billed side."""
    seats = seats or {}
    rows = "\n".join(
        f"<tr><td>{d['recon_date']}</td><td>{usd(d['billed_usd'])}</td>"
        f"<td>{usd(seats.get(d['recon_date']))}</td>"
        f"<td>{usd(d['metered_usd'])}</td><td>{usd(d['gap_usd'])}</td>"
        f"<td>{usd(d['bypass_explained_usd'])}</td><td>{html.escape(d['status'])}</td></tr>"
        for d in reversed(days)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px;
       color: #1f2933; max-width: 1000px; }}
h1 {{ font-size: 20px; margin-bottom: 4px; }}
p.sub {{ color: #52606d; margin-top: 0; }}
table {{ border-collapse: collapse; font-size: 13px; margin-top: 16px; }}
th, td {{ padding: 4px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }}
th:first-child, td:first-child, th:last-child, td:last-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(subtitle)}</p>
{reconciliation_svg(days)}
<table>
<thead><tr><th>day</th><th>billed without seats</th><th>seats (left out)</th>
<th>metered</th><th>gap</th><th>bypass keys</th><th>status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def write_reconciliation_chart(
    conn: duckdb.DuckDBPyConnection,
    path: str | Path,
    params: SightlineParams,
    *,
    days: int | None = None,
) -> Path:
    """Write the billed-vs-metered page for the last `days` days (default: the window).

    Reads the organization rows of sightlines.billing_reconciliation; returns the path.
    The page is self-contained (no scripts, fonts or images to fetch), so it can sit next
    to the analyst copy and be opened from the Dagster metadata or the demo output.
    """
    span = days or params.window_days
    start = params.as_of - dt.timedelta(days=span - 1)
    rows = window_org_days(conn, start, params.as_of)
    seats = seat_spend_per_day(conn, start, params.as_of, params.subscription_patterns)
    summary = summarize_billing_reconciliation(conn, params)
    patterns = ", ".join(f"'{p}'" for p in params.subscription_patterns)
    subtitle = (
        f"{start} to {params.as_of}. {summary['headline']}. Billed leaves out seat line "
        f"items (line_item ILIKE {patterns}: {usd(sum(seats.values(), Decimal(0)))} in "
        f"these days), which never pass through a gateway."
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(reconciliation_html(rows, TITLE, subtitle, seats), encoding="utf-8")
    tmp.replace(target)
    return target
