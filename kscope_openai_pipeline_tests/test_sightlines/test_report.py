"""Headlines, markdown summaries and the chart tell the ground truth's story."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import duckdb

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sightlines import chart, summaries

from .conftest import AS_OF

ZERO = Decimal("0E-9")


def _window_org_days(org: SyntheticOrg, params: sightlines.SightlineParams) -> dict:
    """Per window day: (billed, metered, status) by the documented organization-row rule."""
    end = AS_OF + dt.timedelta(days=1)
    billed = gt.cost_totals(org, params.window_start, end, include_subscriptions=False).per_day
    metered: dict[dt.date, Decimal] = {}
    for (day, _), amount in gt.metered_totals(org, params.window_start, end).items():
        metered[day] = metered.get(day, ZERO) + amount
    missing = set(org.extra["gateway_missing_days"])
    out = {}
    for day in set(billed) | set(metered):
        b, m = billed.get(day, ZERO), metered.get(day, ZERO)
        if day in missing:
            status = "gateway_data_missing"
        elif abs(b - m) <= max(Decimal("0.01") * b, Decimal("0.01")):
            status = "matched"
        else:
            status = "spend_outside_gateway" if b > m else "over_metered"
        out[day] = (b, m, status)
    return out


def test_headlines_state_the_ground_truth(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    statuses = gt.bypass_keys(org, AS_OF, 30)
    totals = gt.key_window_totals(org, AS_OF, 30)
    bypass_cost = sum(
        (totals[k].cost for k, s in statuses.items() if s.startswith("bypass_")), ZERO
    )
    days = _window_org_days(org, params)
    billed = sum((b for b, _, _ in days.values()), ZERO)
    gap = billed - sum((m for _, m, _ in days.values()), ZERO)
    matched = sum(1 for _, _, s in days.values() if s == "matched")
    unattributed = gt.unattributed_members(org, gt.default_rules(org))
    departed = sum(1 for r in unattributed.values() if r == "engineer_departed")
    lines = summaries.headlines(computed, params)
    assert lines == [
        f"3 keys bypass the gateway: {summaries.usd(bypass_cost)} in the last 30 days",
        f"{summaries.usd(gap)} ({gap / billed:.1%}) of {summaries.usd(billed)} billed in the last "
        f"30 days went outside the gateway; {matched} of 30 days matched",
        f"7 of 43 members cannot be attributed to an engineer ({departed} engineer_departed, "
        f"{7 - departed} no_registry_match): $156.80 of seats in the last 30 days",
    ]
    assert lines[0] == "3 keys bypass the gateway: $191.03 in the last 30 days"


def test_markdown_lists_the_top_bypass_keys_gap_days_and_members(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    bypass = summaries.summarize_gateway_bypass(computed, params)
    statuses = gt.bypass_keys(org, AS_OF, 30)
    totals = gt.key_window_totals(org, AS_OF, 30)
    worst = max(
        (k for k, s in statuses.items() if s != "registered"), key=lambda k: totals[k].cost
    )
    table_rows = [line for line in bypass["markdown"].splitlines() if line.startswith("| `")]
    assert table_rows[0].startswith(f"| `{worst}`")
    assert len(table_rows) == 10  # 3 active + 4 dormant + 3 revoked
    recon = summaries.summarize_billing_reconciliation(computed, params)
    days = _window_org_days(org, params)
    biggest = max(days, key=lambda d: abs(days[d][0] - days[d][1]))
    assert recon["largest_gap_days"][0]["recon_date"] == biggest.isoformat()
    assert f"| {biggest.isoformat()} |" in recon["markdown"]
    seats = summaries.summarize_seat_governance(computed, params)
    for member_id in gt.unattributed_members(org, gt.default_rules(org)):
        assert f"`{member_id}`" in seats["markdown"]


def test_headline_grammar_and_money_format(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "one.duckdb"))
    sightlines.ensure_sightlines_schema(conn)
    conn.execute(
        """
        INSERT INTO sightlines.gateway_bypass (
            organization_id, api_key_id, created_at, registered, status, window_start,
            as_of, input_tokens, output_tokens, requests, cost_usd, cost_basis)
        VALUES ('org-t', 'key_1', TIMESTAMP '2026-01-01', FALSE, 'bypass_active',
                DATE '2026-01-01', DATE '2026-01-01', 10, 5, 1, 1234.565, 'billed_per_key')
        """
    )
    params = sightlines.SightlineParams(as_of=dt.date(2026, 1, 1), window_days=1)
    assert summaries.summarize_gateway_bypass(conn, params)["headline"] == (
        "1 key bypasses the gateway: $1,234.57 in the last day"
    )
    conn.close()
    assert summaries.usd(Decimal("1234.565")) == "$1,234.57"
    assert summaries.usd(Decimal("-0.004")) == "$0.00"
    assert summaries.usd(Decimal("-12.5")) == "-$12.50"
    assert summaries.usd(None) == "$0.00"


def test_the_chart_is_a_self_contained_page_with_one_bar_per_day(
    computed: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams, tmp_path: Path
) -> None:
    path = chart.write_reconciliation_chart(computed, tmp_path / "charts" / "recon.html", params)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=|https?://(?!www\.w3\.org/2000/svg)|<script|@import", page)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)  # type: ignore[union-attr]
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = [g for g in root.iter(f"{ns}g") if g.find(f"{ns}title") is not None]
    assert len(bars) == 30
    first = bars[0].find(f"{ns}title").text  # type: ignore[union-attr]
    assert first.startswith(f"{params.window_start}: billed $")
    assert len(root.findall(f"{ns}polyline")) == 1
    assert page.count("<tr><td>") == 30
    assert not list(tmp_path.glob("charts/*.tmp"))


def test_the_chart_says_it_leaves_out_seats_and_labels_its_axis(
    computed: duckdb.DuckDBPyConnection,
    params: sightlines.SightlineParams,
    org: SyntheticOrg,
    tmp_path: Path,
) -> None:
    """Its billed bars are the reconciliation's billed side (no seat line items): the
    title, the legend, the y axis, the subtitle and a table column say so, with the
    seats left out each day as the ground truth has them."""
    path = chart.write_reconciliation_chart(computed, tmp_path / "recon.html", params)
    page = path.read_text()
    title = "Billed vs metered OpenAI spend per day, without seat line items"
    assert f"<title>{title}</title>" in page and f"<h1>{title}</h1>" in page
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))  # type: ignore[union-attr]
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "USD per day" in texts
    assert "billed by OpenAI, seat line items left out" in texts
    end = AS_OF + dt.timedelta(days=1)
    everything = gt.cost_totals(org, params.window_start, end).per_day
    without = gt.cost_totals(org, params.window_start, end, include_subscriptions=False).per_day
    seats = {day: everything[day] - without.get(day, ZERO) for day in everything}
    assert sum(seats.values()) > 0
    assert (
        f"Billed leaves out seat line items (line_item ILIKE &#x27;%seat%&#x27;: "
        f"{summaries.usd(sum(seats.values(), ZERO))} in these days)"
    ) in page
    assert "<th>billed without seats</th><th>seats (left out)</th>" in page
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert len(rows) == 30
    assert {dt.date.fromisoformat(d): (b, s) for d, b, s in rows} == {
        day: (summaries.usd(without.get(day, ZERO)), summaries.usd(seats.get(day, ZERO)))
        for day in (params.window_start + dt.timedelta(days=i) for i in range(30))
    }
