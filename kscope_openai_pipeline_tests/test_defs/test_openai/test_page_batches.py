"""Small API pages reach the writer together, one endpoint at a time, where the table asks.

The feed turns each page into an Arrow table; for a table with `batch_rows` (the audit
log) it hands consecutive pages of one endpoint to the writer as one batch of at least that
many rows (the last one smaller); for the others, each page alone. Pure: the pages are
built here, no HTTP and no DuckDB, so the batches can be told apart exactly.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from kscope_openai_pipeline.defs.openai.daily import DAILY_TABLES, DailyTable, PageFeed
from kscope_openai_pipeline.openai_admin import ColumnPage

FIRST = date(2026, 11, 1)
COSTS = next(t for t in DAILY_TABLES if t.name == "costs")


def page(first_row: int, rows: int) -> ColumnPage:
    """`rows` cost lines numbered from `first_row` (the number is in line_item)."""
    numbers = range(first_row, first_row + rows)
    return ColumnPage(
        columns={
            "cost_date": [FIRST + timedelta(days=n % 5) for n in numbers],
            "project_id": ["proj_a"] * rows,
            "line_item": [f"line {n}" for n in numbers],
            "api_key_id": [None] * rows,
            "amount_usd": [Decimal(n) / 1000 for n in numbers],
            "currency": ["usd"] * rows,
            "quantity": [Decimal(n) for n in numbers],
            "quantity_unit": ["tokens"] * rows,
        },
        num_rows=rows,
        bucket_starts=[],
        has_more=False,
        next_page=None,
    )


def feed_of(pages: list[tuple[str, ColumnPage]], batch_rows: int) -> PageFeed:
    spec: DailyTable = dataclasses.replace(
        COSTS, pages=lambda client, first, end: (p for p in pages), batch_rows=batch_rows
    )
    return PageFeed(spec, "org-test")


def test_the_audit_log_alone_is_batched() -> None:
    assert {t.name: t.batch_rows for t in DAILY_TABLES} == {
        "usage": 0, "costs": 0, "api_key_costs": 0, "audit_logs": 10_000,
    }  # fmt: skip


def test_small_pages_are_written_in_batches_that_never_mix_endpoints() -> None:
    pages = [("/a", page(30 * i, 30)) for i in range(7)]  # rows 0..209
    pages.append(("/a", page(0, 0)))  # an empty page still counts as a page
    pages += [("/b", page(1000 + 30 * i, 30)) for i in range(2)]
    feed = feed_of(pages, batch_rows=100)

    seen = []
    for table in feed.tables(None, FIRST, FIRST + timedelta(days=5)):  # type: ignore[arg-type]
        lines = table.column("line_item").to_pylist()
        seen.append((feed.endpoint, table.num_rows, lines[0], lines[-1]))

    assert seen == [
        ("/a", 120, "line 0", "line 119"),  # four pages: the first batch past 100 rows
        ("/a", 90, "line 120", "line 209"),  # the rest of /a, flushed when /b begins
        ("/b", 60, "line 1000", "line 1059"),  # the last batch, smaller
    ]
    assert feed.pages == 10
    assert feed.endpoints == ["/a", "/b"]
    assert feed.endpoint is None  # after the last page, checks concern every endpoint


def test_without_batch_rows_each_page_goes_alone() -> None:
    pages = [("/a", page(0, 5)), ("/a", page(5, 7)), ("/a", page(0, 0)), ("/b", page(9, 2))]
    feed = feed_of(pages, batch_rows=0)
    sizes = [t.num_rows for t in feed.tables(None, FIRST, FIRST + timedelta(days=5))]  # type: ignore[arg-type]
    assert sizes == [5, 7, 2]
    assert feed.pages == 4
