"""Child process: the Admin API client alone, or plain HTTP, without Dagster or DuckDB.

    python -m benchmarks.client_runs floor requests.json
    python -m benchmarks.client_runs fetch 2025-11-26 2026-11-26
    python -m benchmarks.client_runs naive 2026-05-01 2026-05-02 ...

`floor` is the raw download: plain httpx GETs of exactly the requests in the file (the
backfill's, as the sandbox served them: path and query, cursors included, in order), each
body read to its end and discarded. Nothing is decoded, so its wall time is what the
wire and the server cost: the floor no crawler of these pages can beat.

`fetch` reads exactly what the 365-day backfill reads (ten usage families, costs by
project x line item, costs by API key, the audit log) the way the assets do, page by page
with the client's read-ahead, and drops each page at once: decoding without storing. fetch /
floor is what decoding adds to the wire; backfill / floor what decoding, validation,
writing and orchestration add.

`naive` is the crawler a naive integration would be: one day per run, i.e. one request
per family / cost query per day (a one-day window is one page whatever the page limit).
It is simulated with the client (no Dagster per-run overhead, which would only add to
it) over the days given; the parent extrapolates when it passes a sample.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx

from benchmarks.measure import cpu_seconds, emit, peak_rss_mb
from kscope_openai_pipeline import settings
from kscope_openai_pipeline.openai_admin import USAGE_FAMILIES, AdminClient, ColumnPage, Secret
from kscope_openai_pipeline.openai_admin.secret import BearerAuth


def _client(**limits: int) -> AdminClient:
    return AdminClient(
        settings.admin_key(), base_url=settings.openai_base_url(), timeout=120, **limits
    )


def _pages(
    client: AdminClient, start: date, end: date, read_ahead: bool
) -> Iterator[ColumnPage | list[dict[str, Any]]]:
    for family in USAGE_FAMILIES:
        yield from client.iter_usage(family, start, end, read_ahead=read_ahead)
    yield from client.iter_costs(
        start, end, group_by=("project_id", "line_item"), read_ahead=read_ahead
    )
    yield from client.iter_api_key_costs(start, end, read_ahead=read_ahead)
    yield from client.iter_audit_log_pages(start, end, read_ahead=read_ahead)


def _drain(
    client: AdminClient, windows: Iterable[tuple[date, date]], read_ahead: bool = False
) -> dict[str, Any]:
    records = pages = 0
    began, cpu = time.perf_counter(), cpu_seconds()
    for start, end in windows:
        for page in _pages(client, start, end, read_ahead):
            pages += 1
            records += len(page)
            del page  # dropped at once, as the assets do once a page is written
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
        "read_ahead": read_ahead,
        "peak_rss_mb": peak_rss_mb(),
    }


def _floor(requests: list[tuple[str, list[tuple[str, str]]]]) -> dict[str, Any]:
    """GET every request in order over one connection pool, bodies read and discarded."""
    received = 0
    with httpx.Client(
        base_url=settings.openai_base_url().rstrip("/") + "/",
        auth=BearerAuth(Secret(settings.admin_key())),
        timeout=120,
        headers={"Accept": "application/json", "User-Agent": "kscope-openai-pipeline"},
    ) as http:
        began, cpu = time.perf_counter(), cpu_seconds()
        for path, query in requests:
            with http.stream("GET", path.lstrip("/"), params=query) as response:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                if response.status_code != 200:
                    raise RuntimeError(f"floor: GET {path} answered {response.status_code}")
        wall = time.perf_counter() - began
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "requests": len(requests),
        "mb_received": round(received / 1e6, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("floor", "fetch", "naive"))
    parser.add_argument("args", nargs="+", help="floor: a requests file; else days")
    args = parser.parse_args()
    if args.mode == "floor":
        (path,) = args.args
        with open(path) as file:
            requests = [(p, [(k, v) for k, v in query]) for p, query in json.load(file)]
        emit(_floor(requests))
        return
    args.days = [date.fromisoformat(d) for d in args.args]
    if args.mode == "fetch":
        start, end = args.days
        with _client() as client:
            emit(_drain(client, [(start, end)], read_ahead=True))
    else:
        one = timedelta(days=1)
        with _client() as client:
            figures = _drain(client, [(d, d + one) for d in args.days])
        figures["days"] = len(args.days)
        emit(figures)


if __name__ == "__main__":
    main()
