"""Small API pages reach the writer together, one endpoint at a time.

The feed turns each page into an Arrow table and hands consecutive pages of one endpoint
to the writer as one batch of at least `BATCH_ROWS` rows (the last one smaller). Pure: the
pages are built here, no HTTP and no DuckDB, so the batches can be told apart exactly.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kscope_openai_pipeline.defs.openai.daily import DAILY_TABLES, PageFeed
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


def test_small_pages_are_written_in_batches_that_never_mix_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PageFeed, "BATCH_ROWS", 100)
    pages = [("/a", page(30 * i, 30)) for i in range(7)]  # rows 0..209
    pages.append(("/a", page(0, 0)))  # an empty page still counts as a page
    pages += [("/b", page(1000 + 30 * i, 30)) for i in range(2)]
    spec = dataclasses.replace(COSTS, pages=lambda client, first, end: (p for p in pages))
    feed = PageFeed(spec, "org-test")

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


def test_a_page_larger_than_a_batch_goes_alone() -> None:
    pages = [("/a", page(0, 5)), ("/a", page(5, PageFeed.BATCH_ROWS + 1)), ("/a", page(0, 0))]
    spec = dataclasses.replace(COSTS, pages=lambda client, first, end: (p for p in pages))
    feed = PageFeed(spec, "org-test")
    sizes = [t.num_rows for t in feed.tables(None, FIRST, FIRST + timedelta(days=5))]  # type: ignore[arg-type]
    assert sizes == [PageFeed.BATCH_ROWS + 6]
    assert feed.pages == 3
