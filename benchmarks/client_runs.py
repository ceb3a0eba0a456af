"""Child process: the Admin API client alone, without Dagster or DuckDB.

    python -m benchmarks.client_runs fetch 2025-11-26 2026-11-26
    python -m benchmarks.client_runs naive 2026-05-01 2026-05-02 ...

`fetch` reads exactly what the 365-day backfill reads (ten usage families, costs by
project x line item, costs by API key) the way the assets do, page by page, and throws
the records away: its wall time is the floor the Dagster run cannot beat, so
backfill / fetch is the cost of orchestration, validation and writing.

`naive` is the crawler a naive integration would be: one day per run, default page limits
(usage 7 buckets, costs 7), i.e. one request per family / cost query per day. It is
simulated with the client (no Dagster per-run overhead, which would only add to it) over
the days given; the parent extrapolates when it passes a sample.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from benchmarks.measure import cpu_seconds, emit, peak_rss_mb
from kscope_openai_pipeline import settings
from kscope_openai_pipeline.openai_admin import USAGE_FAMILIES, AdminClient

NAIVE_LIMIT = 7  # the API's default page size (buckets) for usage 1d and for costs


def _client(**limits: int) -> AdminClient:
    return AdminClient(
        settings.admin_key(), base_url=settings.openai_base_url(), timeout=120, **limits
    )


def _pages(client: AdminClient, start: date, end: date) -> Iterator[list[dict[str, Any]]]:
    for family in USAGE_FAMILIES:
        yield from client.iter_usage(family, start, end)
    yield from client.iter_costs(start, end, group_by=("project_id", "line_item"))
    yield from client.iter_api_key_costs(start, end)


def _drain(client: AdminClient, windows: Iterable[tuple[date, date]]) -> dict[str, Any]:
    records = pages = 0
    began, cpu = time.perf_counter(), cpu_seconds()
    for start, end in windows:
        for page in _pages(client, start, end):
            pages += 1
            records += len(page)
    wall = time.perf_counter() - began
    stats = client.stats.as_dict()
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "records": records,
        "pages": pages,
        "requests": stats["requests"],
        "retries": stats["retries"],
        "http_seconds": round(stats["seconds"], 2),
        "mb_received": round(stats["bytes"] / 1e6, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("fetch", "naive"))
    parser.add_argument("days", nargs="+", type=date.fromisoformat)
    args = parser.parse_args()
    if args.mode == "fetch":
        start, end = args.days
        with _client() as client:
            emit(_drain(client, [(start, end)]))
    else:
        one = timedelta(days=1)
        with _client(usage_limit=NAIVE_LIMIT, costs_limit=NAIVE_LIMIT) as client:
            figures = _drain(client, [(d, d + one) for d in args.days])
        figures["days"] = len(args.days)
        emit(figures)


if __name__ == "__main__":
    main()
