"""Turn the benchmark figures into the one table (Markdown, README-ready) and the JSON files.

Why Markdown: the same text is printed by `make bench`, written to results/latest.md and
pasted into the README, so the three never disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.minimum import ACCESS_CHECK_PROBES

TARGET_RATIO = 1.0
TARGET_BACKFILL_SECONDS = 60.0
TARGET_BACKFILL_RSS_MB = 600.0  # MiB: a page or two in memory, not the range
TARGET_FETCH_OVER_FLOOR = 1.3
TARGET_BACKFILL_OVER_FLOOR = 2.0
TARGET_DAILY_SECONDS = 20.0
TARGET_SIGHTLINES_SECONDS = 10.0


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _growth_ok(growth: dict[str, dict[str, Any]], key: str) -> bool:
    """Per-day cost of the longest backfill is no higher than the shortest one's (5%
    slack for noise). Memory counts what the run added above the process's RSS before
    it started (interpreter, Dagster and the definitions: ~180 MiB)."""
    days = sorted(int(d) for d in growth)

    def cost(d: int) -> float:
        g = growth[str(d)]
        return g[key] - g.get("rss_before_run_mb", 0) if key == "peak_rss_mb" else g[key]

    return cost(days[-1]) / days[-1] <= cost(days[0]) / days[0] * 1.05


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(#, measurement, result, target, verdict) rows of the table."""
    req, backfill, fetch = results["requests"], results["backfill"], results["fetch"]
    naive, daily = req["naive"], results["daily"]
    days = req["days"]
    out: list[tuple[str, str, str, str, str]] = []
    made, minimum = req["daily_made"], req["daily_minimum"]
    out.append((
        "1",
        f"Requests, {days}-day backfill of the 10 usage families, costs and costs by key "
        "(counted by the server)",
        f"{req['daily_made_total']} made / {req['daily_minimum_total']} minimum "
        f"(usage {made['usage']}/{minimum['usage']}, costs {made['costs']}/{minimum['costs']},"
        f" by key {made['api_key_costs']}/{minimum['api_key_costs']}"
        + (f", audit log {made['audit_logs']}/{minimum['audit_logs']}"
           if "audit_logs" in made else "")
        + f") = **{req['daily_ratio']:.2f}**",
        "1.00",
        _met(req["daily_ratio"] <= TARGET_RATIO),
    ))
    if "audit_logs" in made:
        out.append((
            "1",
            f"Requests, {days}-day audit-log backfill (every event type, counted by the server)",
            f"{_n(made['audit_logs'])} made for {_n(req['audit_log_events'])} events = "
            f"ceil(events / 100) = {_n(minimum['audit_logs'])}: **{req['audit_log_ratio']:.2f}**",
            "1 request per 100 events",
            _met(req["audit_log_ratio"] <= TARGET_RATIO),
        ))
    out.append((
        "1",
        "Requests, inventory (projects, keys, users, invites, service accounts, members)",
        f"{_n(req['inventory_made'])} made / {_n(req['inventory_minimum'])} minimum = "
        f"**{req['inventory_ratio']:.2f}**",
        "1.00",
        _met(req["inventory_ratio"] <= TARGET_RATIO),
    ))
    naive_note = (
        f"{_n(naive['requests'])} requests (**{naive['ratio_to_minimum']:.0f}x** the minimum),"
        f" {naive['wall_seconds']:.0f} s client-only"
    )
    if naive.get("extrapolated"):
        naive_note += f" (extrapolated from {naive['days_run']} days)"
    if "dagster_seconds_per_run" in naive:
        naive_note += (
            f"; as {days} one-partition Dagster runs about "
            f"{naive['dagster_seconds_extrapolated'] / 60:.0f} min "
            f"({naive['dagster_seconds_per_run']:.1f} s a run, "
            f"{naive['dagster_runs_sampled']} runs timed)"
        )
    out.append(("1", "Naive crawl of the same days: one request per family and cost query per day",
                naive_note, "-", "-"))
    wire = results["wire"]
    rounds = wire["rounds"]
    each = "; ".join(
        f"{r['floor']['wall_seconds']:.1f} s (load {r['floor']['load_average'][0]})"
        for r in rounds
    )
    out.append((
        "2",
        f"Raw download of the same {wire['requests']} pages: the floor (httpx GETs of the "
        "requests the fetch made, in order, bodies read and discarded)",
        f"**{wire['floor_seconds']:.1f} s** wall ({wire['floor_cpu_seconds']:.1f} s CPU), "
        f"{wire['mb_received']:,.0f} MB; median of {len(rounds)} rounds: {each}",
        "-",
        "-",
    ))
    fetch_ratio = wire["fetch_over_floor"]
    out.append((
        "2",
        "Client fetch alone, same range (decode with read-ahead, nothing stored)",
        f"**{wire['fetch_seconds']:.1f} s** wall = **{fetch_ratio:.2f}x** the floor "
        f"({wire['fetch_cpu_seconds']:.1f} s CPU = {wire['fetch_cpu_over_floor']:.2f}x the "
        f"floor's wall); {_n(fetch['records'])} records; peak RSS "
        f"{_n(wire['fetch_peak_rss_mib'])} MiB; per round "
        + ", ".join(f"{r['fetch_over_floor']:.2f}x" for r in rounds),
        f"<= {TARGET_FETCH_OVER_FLOOR}x",
        _met(fetch_ratio <= TARGET_FETCH_OVER_FLOOR),
    ))
    rss = wire["backfill_peak_rss_mib"]
    wall = wire["backfill_seconds"]
    ratio = wire["backfill_over_floor"]
    out.append((
        "2",
        f"{days}-day backfill as one Dagster run (usage, costs, costs by key, audit log)",
        f"**{wall:.1f} s** wall = **{ratio:.2f}x** the floor ({wire['backfill_cpu_seconds']:.0f}"
        f" s CPU = {wire['backfill_cpu_over_floor']:.2f}x the floor's wall), peak RSS "
        f"**{_n(rss)} MiB**; {_n(sum(_rows(backfill).values()))} rows; per round "
        + ", ".join(
            f"{r['backfill_over_floor']:.2f}x ({_n(r['backfill']['peak_rss_mb'])} MiB)"
            for r in rounds
        )
        + ("" if wire["same_requests"] else "; **the requests differed**"),
        f"<= {TARGET_BACKFILL_OVER_FLOOR}x, <= {TARGET_BACKFILL_RSS_MB:.0f} MiB, <= 60 s",
        f"ratio {_met(ratio <= TARGET_BACKFILL_OVER_FLOOR)}, "
        f"memory {_met(rss <= TARGET_BACKFILL_RSS_MB)}, "
        f"time {_met(wall <= TARGET_BACKFILL_SECONDS)}",
    ))
    steps = daily["steps"]
    out.append((
        "3",
        "Scheduled daily run: access check + inventory + yesterday and 3 restatement days "
        "+ sightlines",
        f"**{daily['wall_seconds']:.1f} s** ({daily['server_requests']} requests, "
        f"{ACCESS_CHECK_PROBES} of them the access check's probes; "
        f"sightlines step {steps.get('sightlines', 0):.1f} s)",
        "<= 20 s",
        _met(daily["wall_seconds"] <= TARGET_DAILY_SECONDS),
    ))
    again = results.get("daily_seat_patterns")
    if again:
        patterns = ", ".join(f"'{p}'" for p in again["subscription_patterns"])
        out.append((
            "3",
            f"Same daily run with the sightlines' subscription_patterns set to [{patterns}]",
            f"**{again['wall_seconds']:.1f} s** (sightlines step "
            f"{again['steps'].get('sightlines', 0):.1f} s)",
            "<= 20 s",
            _met(again["wall_seconds"] <= TARGET_DAILY_SECONDS),
        ))
    sightlines = results.get("sightlines") or []
    for item in sightlines:
        label = f"Sightlines (compute_all) over {item['usage_rows'] / 1e6:g}M usage rows"
        if not item["api_key_costs"]:
            label += ", no per-key billing (every cost allocated by token share)"
        each = ", ".join(f"{k} {v:.1f}" for k, v in item["each_seconds"].items())
        out.append((
            "4",
            label,
            f"**{item['compute_all_seconds']:.1f} s** (alone: {each} s)",
            "<= 10 s at 10M",
            _met(item["compute_all_seconds"] <= TARGET_SIGHTLINES_SECONDS),
        ))
    growth = results["growth"]
    parts = [
        f"{d} d: {g['wall_seconds']:.1f} s ({g['wall_seconds'] / int(d):.2f} s/day), "
        f"{_n(g['peak_rss_mb'])} MiB"
        for d, g in sorted(growth.items(), key=lambda kv: int(kv[0]))
    ]
    out.append((
        "5",
        "Growth: backfills of " + ", ".join(sorted(growth, key=int)) + " days",
        "; ".join(parts),
        "no worse than linear",
        f"time {_met(_growth_ok(growth, 'wall_seconds'))}, "
        f"memory {_met(_growth_ok(growth, 'peak_rss_mb'))}",
    ))
    return out


def _rows(backfill: dict[str, Any]) -> dict[str, int]:
    """Rows written per daily table (sum of the per-day materializations)."""
    return {
        asset: int(meta.get("rows_in_window", meta.get("partition_rows", 0)))
        for asset, meta in backfill["assets"].items()
    }


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    sandbox = results["sandbox"]
    head = (
        f"Benchmarks of {results['date'][:10]} on {m['nproc']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB RAM, Python {m['python']}, dagster {v['dagster']}, "
        f"duckdb {v['duckdb']}, pandas {v['pandas']}, pyarrow {v['pyarrow']}. "
        f"Sandbox `{sandbox['size']}` org (seed {sandbox['seed']}: {sandbox.get('projects')} "
        f"projects, {_n(sandbox.get('project_keys', 0))} keys, "
        f"{_n(sandbox.get('cost_rows', 0))} cost rows) served from a separate process on the "
        f"same cores. Load average {results['load_average_start']} at the start, "
        f"{results['load_average_end']} at the end; total {results['bench_seconds'] / 60:.1f} "
        "min."
    )
    lines = [head, "", "| # | Measurement | Result | Target | |", "|---|---|---|---|---|"]
    for row in rows(results):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines)


def write(results: dict[str, Any], table: str, out_dir: Path) -> list[Path]:
    """results/latest.json, a dated copy, and latest.md (the table)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({**results, "table": table}, indent=2, default=str) + "\n"
    dated = out_dir / f"{results['date'][:10]}.json"
    latest = out_dir / "latest.json"
    markdown = out_dir / "latest.md"
    for path in (latest, dated):
        path.write_text(payload)
    markdown.write_text(table + "\n")
    return [latest, dated, markdown]
