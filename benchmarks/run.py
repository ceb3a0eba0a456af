"""`make bench` = `python -m benchmarks.run`: the benchmarks, one table, one JSON.

What runs (each measured figure in a fresh child process, see measure.py):
1. requests  -- the inventory run, then a 365-day backfill of openai/usage, openai/costs,
   openai/api_key_costs and openai/audit_logs as ONE Dagster run; requests counted by the
   sandbox server
   (what was really sent) against `minimum.py`; beside it a naive crawl (one request
   per family and cost query per day) simulated with the client over the same days.
2. the wire  -- in rounds against the same sandbox process (default 2): the client's fetch
   alone over the 365 days (decode, nothing stored), the raw-download floor (plain httpx
   GETs of exactly the requests the fetch made, as the server logged them, bodies read
   and discarded) and the backfill as one Dagster run (wall, CPU, peak RSS); the server
   checks that all three made the same requests in the same order. Reported: each
   round, and the median over rounds of floor_seconds, fetch_over_floor and
   backfill_over_floor (wall / floor wall, and CPU / floor wall beside them).
3. daily     -- the scheduled run (`daily_refresh_job`, tags from the `daily_refresh`
   schedule at 02:00 UTC the day after the last sandbox day) on the backfilled warehouse.
4. sightlines -- compute_all over 1M and 10M synthetic usage rows (sightlines_scale.py).
5. growth    -- backfills of 30, 90 and 365 days.

The sandbox (`large` org, seed 7) serves from its own process (sandbox_proc.py), so its
CPU and ~2 GB never count against the pipeline's figures; on a 2-core machine it still
competes for the cores, as the table's notes say.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.measure import load_average, machine, run_child
from benchmarks.minimum import (
    audit_log_events,
    minimum_audit_log_requests,
    minimum_requests,
    naive_requests,
)
from benchmarks.sandbox_proc import SandboxProcess

RESULTS = Path(__file__).resolve().parent / "results"


def _backfill(
    sb: SandboxProcess, env: dict[str, str], base_db: Path, db: Path, first: date, last: date,
    logs: Path,
) -> dict[str, Any]:
    """One Dagster run over [first, last] on a copy of the inventory-only warehouse."""
    shutil.copyfile(base_db, db)
    sb.reset()
    server_cpu = sb.cpu_seconds()
    figures = run_child(
        "benchmarks.pipeline_runs",
        ["backfill", first.isoformat(), last.isoformat()],
        {**env, "KSCOPE_DUCKDB_PATH": str(db)},
        log_dir=logs,
    )
    figures["server_requests"] = sb.count()
    figures["server_cpu_seconds"] = round(sb.cpu_seconds() - server_cpu, 2)
    figures["days"] = (last - first).days + 1
    return figures


def _same_requests(sb: SandboxProcess) -> list[tuple[str, list[tuple[str, str]]]]:
    """The requests served since the last reset, in order (all must have answered 200)."""
    served = sb.served()
    statuses = {status for _, _, status in served}
    if statuses != {200}:
        raise RuntimeError(f"the sandbox answered {sorted(statuses)}: not a clean measurement")
    return [(path, query) for path, query, _ in served]


def _wire_round(
    sb: SandboxProcess, env: dict[str, str], base_db: Path, work: Path, first: date, last: date,
    logs: Path, expected: list[tuple[str, list[tuple[str, str]]]] | None,
) -> tuple[dict[str, Any], list[tuple[str, list[tuple[str, str]]]]]:
    """fetch, floor, backfill against the same sandbox; the floor replays the fetch's requests
    (the same as the backfill's: checked)."""
    requests_file = work / "requests.json"
    print("  client fetch (decode, nothing stored)...", flush=True)
    sb.reset()
    server_cpu = sb.cpu_seconds()
    fetch = run_child("benchmarks.client_runs",
                      ["fetch", first.isoformat(), (last + timedelta(days=1)).isoformat()],
                      env, log_dir=logs)
    fetch["server_cpu_seconds"] = round(sb.cpu_seconds() - server_cpu, 2)
    served = _same_requests(sb)
    expected = expected if expected is not None else served
    fetch["same_requests"] = served == expected
    requests_file.write_text(json.dumps(expected))
    print("  raw-download floor (httpx, bodies discarded)...", flush=True)
    sb.reset()
    server_cpu = sb.cpu_seconds()
    floor = run_child("benchmarks.client_runs", ["floor", str(requests_file)], env, log_dir=logs)
    floor["server_cpu_seconds"] = round(sb.cpu_seconds() - server_cpu, 2)
    floor["same_requests"] = _same_requests(sb) == expected
    print(f"  backfill of {(last - first).days + 1} days as one Dagster run...", flush=True)
    backfill = _backfill(sb, env, base_db, work / f"backfill_{(last - first).days + 1}.duckdb",
                         first, last, logs)
    backfill["same_requests"] = sorted(_same_requests(sb)) == sorted(expected)
    wall = floor["wall_seconds"]
    figures = {
        "floor": floor,
        "fetch": fetch,
        "backfill": backfill,
        "fetch_over_floor": round(fetch["wall_seconds"] / wall, 2),
        "backfill_over_floor": round(backfill["wall_seconds"] / wall, 2),
        "fetch_cpu_over_floor": round(fetch["cpu_seconds"] / wall, 2),
        "backfill_cpu_over_floor": round(backfill["cpu_seconds"] / wall, 2),
    }
    print(f"  floor {wall} s, fetch {fetch['wall_seconds']} s "
          f"({figures['fetch_over_floor']}x), backfill {backfill['wall_seconds']} s "
          f"({figures['backfill_over_floor']}x), peak RSS {backfill['peak_rss_mb']:.0f} MiB",
          flush=True)
    return figures, expected


def _wire_summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline figures: medians over the rounds (peak RSS: the highest)."""
    def median(key: str, part: str | None = None) -> float:
        values = [r[part][key] if part else r[key] for r in rounds]
        return round(statistics.median(values), 2)

    return {
        "rounds": rounds,
        "floor_seconds": median("wall_seconds", "floor"),
        "floor_cpu_seconds": median("cpu_seconds", "floor"),
        "fetch_seconds": median("wall_seconds", "fetch"),
        "fetch_cpu_seconds": median("cpu_seconds", "fetch"),
        "backfill_seconds": median("wall_seconds", "backfill"),
        "backfill_cpu_seconds": median("cpu_seconds", "backfill"),
        "fetch_over_floor": median("fetch_over_floor"),
        "backfill_over_floor": median("backfill_over_floor"),
        "fetch_cpu_over_floor": median("fetch_cpu_over_floor"),
        "backfill_cpu_over_floor": median("backfill_cpu_over_floor"),
        "backfill_peak_rss_mib": max(r["backfill"]["peak_rss_mb"] for r in rounds),
        "fetch_peak_rss_mib": max(r["fetch"]["peak_rss_mb"] for r in rounds),
        "same_requests": all(
            r[part]["same_requests"] for r in rounds for part in ("floor", "fetch", "backfill")
        ),
        "requests": rounds[0]["floor"]["requests"],
        "mb_received": rounds[0]["floor"]["mb_received"],
    }


def _requests_section(
    inventory: dict[str, Any], backfill: dict[str, Any], naive: dict[str, Any],
    minimum_inventory: dict[str, int], first: date, last: date, naive_days: int,
    dagster_naive: dict[str, Any] | None, audit_events_by_day: dict[str, int],
) -> dict[str, Any]:
    by_endpoint = backfill["server_requests"]["by_endpoint"]
    made = {
        "usage": sum(n for e, n in by_endpoint.items() if e.startswith("/organization/usage/")),
        "costs": backfill["assets"].get("openai/costs", {}).get("requests", 0),
        "api_key_costs": backfill["assets"].get("openai/api_key_costs", {}).get("requests", 0),
        "audit_logs": by_endpoint.get("/organization/audit_logs", 0),
    }
    audit_events = audit_log_events(audit_events_by_day, first, last)
    minimum = {
        **minimum_requests(first, last),
        "audit_logs": minimum_audit_log_requests(audit_events),
    }
    inventory_made = inventory["server_requests"]["total"]
    inventory_min = sum(minimum_inventory.values())
    total_days = (last - first).days + 1
    naive_expected = naive_requests(first, last)
    scale = total_days / naive_days
    section: dict[str, Any] = {
        "range": [first.isoformat(), last.isoformat()],
        "days": total_days,
        "daily_made": made,
        "daily_minimum": minimum,
        "daily_made_total": backfill["server_requests"]["total"],
        "daily_minimum_total": sum(minimum.values()),
        "daily_ratio": round(backfill["server_requests"]["total"] / sum(minimum.values()), 2),
        "audit_log_events": audit_events,
        "audit_log_ratio": round(made["audit_logs"] / minimum["audit_logs"], 2),
        "inventory_made": inventory_made,
        "inventory_minimum": inventory_min,
        "inventory_minimum_by_endpoint": minimum_inventory,
        "inventory_made_by_endpoint": inventory["server_requests"]["by_endpoint"],
        "inventory_ratio": round(inventory_made / inventory_min, 2),
        "total_made": backfill["server_requests"]["total"] + inventory_made,
        "total_minimum": sum(minimum.values()) + inventory_min,
        "naive": {
            "simulated_with": "AdminClient(usage_limit=7, costs_limit=7), one request per "
            "family / cost query per day, no Dagster",
            "days_run": naive_days,
            "extrapolated": naive_days != total_days,
            "requests_run": naive["requests"],
            "server_requests_run": naive.get("server_requests"),
            "requests": round(naive["requests"] * scale),
            "requests_expected": sum(naive_expected.values()),
            "wall_seconds_run": naive["wall_seconds"],
            "wall_seconds": round(naive["wall_seconds"] * scale, 1),
            "cpu_seconds": round(naive["cpu_seconds"] * scale, 1),
            "server_cpu_seconds": round(naive.get("server_cpu_seconds", 0) * scale, 1),
            "ratio_to_minimum": round(naive["requests"] * scale / sum(minimum.values()), 1),
        },
    }
    section["total_ratio"] = round(section["total_made"] / section["total_minimum"], 2)
    if dagster_naive is not None:
        runs = dagster_naive["runs"]
        per_run = sum(r["wall_seconds"] for r in runs) / len(runs)
        section["naive"]["dagster_runs_sampled"] = len(runs)
        section["naive"]["dagster_seconds_per_run"] = round(per_run, 2)
        section["naive"]["dagster_seconds_extrapolated"] = round(per_run * total_days, 0)
    return section


def _sightlines(work: Path, sizes: list[int], logs: Path) -> list[dict[str, Any]]:
    out = []
    for rows, key_costs in [(n, True) for n in sizes] + [(sizes[-1], False)]:
        args = [str(rows), str(work / f"sightlines_{rows}.duckdb")]
        if not key_costs:
            args.append("--no-key-costs")
        figures = run_child("benchmarks.sightlines_scale", args, log_dir=logs)
        (work / f"sightlines_{rows}.duckdb").unlink(missing_ok=True)
        out.append(figures)
        print(f"  sightlines over {rows:,} usage rows"
              f"{'' if key_costs else ' (no per-key billing)'}: "
              f"{figures['compute_all_seconds']} s", flush=True)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    last = date.fromisoformat(args.last_day)
    first = last - timedelta(days=args.days - 1)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "sandbox": {"seed": args.seed, "size": args.size, "process": "separate"},
        "load_average_start": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="kscope-bench-") as tmp:
        work = Path(tmp)
        logs = work / "logs"
        print(f"Starting the {args.size} sandbox (seed {args.seed}) in its own process...",
              flush=True)
        with SandboxProcess(args.seed, args.size, inputs_dir=work / "inputs") as sb:
            info = {k: v for k, v in sb.info.items() if k not in ("admin_key", "inputs")}
            results["sandbox"].update(info)
            env = {**sb.environment(), "KSCOPE_FIRST_DAY": "2025-01-01"}
            base_db = work / "inventory.duckdb"

            print("Inventory run...", flush=True)
            sb.reset()
            inventory = run_child("benchmarks.pipeline_runs", ["inventory"],
                                  {**env, "KSCOPE_DUCKDB_PATH": str(base_db)}, log_dir=logs)
            inventory["server_requests"] = sb.count()
            results["inventory"] = inventory

            growth = {}
            for days in sorted(set(args.growth) - {args.days}, reverse=True):
                print(f"Backfill of {days} days as one Dagster run...", flush=True)
                g_first = last - timedelta(days=days - 1)
                growth[days] = _backfill(sb, env, base_db, work / f"backfill_{days}.duckdb",
                                         g_first, last, logs)
                print(f"  {growth[days]['wall_seconds']} s, "
                      f"peak RSS {growth[days]['peak_rss_mb']:.0f} MiB", flush=True)

            rounds: list[dict[str, Any]] = []
            expected = None
            for n in range(1, args.rounds + 1):
                print(f"The wire, round {n} of {args.rounds}: fetch, floor, backfill of "
                      f"{args.days} days against this sandbox...", flush=True)
                figures, expected = _wire_round(sb, env, base_db, work, first, last, logs,
                                                expected)
                rounds.append(figures)
            wire = _wire_summary(rounds)
            results["wire"] = wire
            for key in ("floor_seconds", "fetch_over_floor", "backfill_over_floor",
                        "backfill_peak_rss_mib"):
                results[key] = wire[key]
            backfill = rounds[0]["backfill"]
            growth[args.days] = backfill
            results["backfill"] = backfill
            results["fetch"] = rounds[0]["fetch"]
            results["growth"] = {str(d): growth[d] for d in sorted(growth)}

            step = max(1, args.days // args.naive_days) if args.naive_days else 1
            naive_days = [first + timedelta(days=i) for i in range(0, args.days, step)]
            print(f"Naive crawl over {len(naive_days)} days (one request per family a day)...",
                  flush=True)
            sb.reset()
            server_cpu = sb.cpu_seconds()
            naive = run_child("benchmarks.client_runs",
                              ["naive", *(d.isoformat() for d in naive_days)], env, log_dir=logs)
            naive["server_cpu_seconds"] = round(sb.cpu_seconds() - server_cpu, 2)
            naive["server_requests"] = sb.count()["total"]
            dagster_naive = None
            if args.dagster_naive_runs:
                print(f"Naive as Dagster runs: {args.dagster_naive_runs} single-partition "
                      "runs (extrapolated)...", flush=True)
                sample = [first + timedelta(days=i * args.days // args.dagster_naive_runs)
                          for i in range(args.dagster_naive_runs)]
                naive_db = work / "naive.duckdb"
                shutil.copyfile(base_db, naive_db)
                dagster_naive = run_child(
                    "benchmarks.pipeline_runs",
                    ["partitions", *(d.isoformat() for d in sample)],
                    {**env, "KSCOPE_DUCKDB_PATH": str(naive_db)}, log_dir=logs,
                )
                naive_db.unlink()
            results["requests"] = _requests_section(
                inventory, backfill, naive, sb.info["inventory_minimum"], first, last,
                len(naive_days), dagster_naive, sb.info["audit_events_by_day"],
            )

            print("Scheduled daily run on the backfilled warehouse...", flush=True)
            daily_db = work / f"backfill_{args.days}.duckdb"
            server_cpu = sb.cpu_seconds()
            sb.reset()
            daily = run_child(
                "benchmarks.pipeline_runs",
                ["daily", (last + timedelta(days=1)).isoformat(),
                 "--inputs-dir", str(work / "inputs")],
                {**env, "KSCOPE_DUCKDB_PATH": str(daily_db)}, log_dir=logs,
            )
            daily["server_requests"] = sb.count()["total"]
            daily["server_cpu_seconds"] = round(sb.cpu_seconds() - server_cpu, 2)
            results["daily"] = daily
            print(f"  {daily['wall_seconds']} s", flush=True)
            if args.seat_patterns:
                print(f"Daily run again with subscription_patterns {args.seat_patterns}...",
                      flush=True)
                sb.reset()
                again = run_child(
                    "benchmarks.pipeline_runs",
                    ["daily", (last + timedelta(days=1)).isoformat(),
                     "--subscription-patterns", *args.seat_patterns],
                    {**env, "KSCOPE_DUCKDB_PATH": str(daily_db)}, log_dir=logs,
                )
                again["server_requests"] = sb.count()["total"]
                results["daily_seat_patterns"] = again
                print(f"  {again['wall_seconds']} s", flush=True)
        for leftover in work.glob("*.duckdb"):
            leftover.unlink()

        if args.sightline_rows:
            print("Sightlines at scale...", flush=True)
            results["sightlines"] = _sightlines(work, args.sightline_rows, logs)
    results["load_average_end"] = load_average()
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", default="large", choices=("tiny", "small", "medium", "large"))
    parser.add_argument("--days", type=int, default=365, help="backfill length")
    parser.add_argument("--last-day", default="2026-11-25",
                        help="last day of every range (the sandbox's last day with data)")
    parser.add_argument("--growth", type=int, nargs="*", default=[30, 90],
                        help="further backfill lengths for the growth table")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of fetch, floor and backfill (medians are reported)")
    parser.add_argument("--naive-days", type=int, default=0,
                        help="days the naive crawl samples (0 = every day of the range)")
    parser.add_argument("--dagster-naive-runs", type=int, default=3,
                        help="single-partition Dagster runs timed to extrapolate from")
    parser.add_argument("--sightline-rows", type=int, nargs="*",
                        default=[1_000_000, 10_000_000])
    parser.add_argument("--seat-patterns", nargs="*", default=[],
                        help="also time the daily run with these subscription line-item "
                        "patterns (default: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="where latest.json and the dated copy go")
    args = parser.parse_args(argv)
    results = run(args)
    table = report.render(results)
    print()
    print(table)
    paths = report.write(results, table, args.out)
    print("\nWritten: " + ", ".join(str(p) for p in paths))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
