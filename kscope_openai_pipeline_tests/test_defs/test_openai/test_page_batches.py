"""Small API pages reach the writer together, one endpoint at a time, where the table asks.

The feed turns each page into an Arrow table (a usage or costs page part by part, through
the `PartTable` it gives the client); for a table with `batch_rows` (usage, the audit log) it
hands consecutive pages of one endpoint to the writer as one batch of at least that many
rows (the last one smaller); for the others, each page alone. Pure: the pages are built
here, no HTTP and no DuckDB, so the batches can be told apart exactly.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kscope_openai_pipeline.defs.openai.daily import DAILY_TABLES, DailyTable, PageFeed, PartTable
from kscope_openai_pipeline.openai_admin import ColumnPage
from kscope_openai_pipeline.warehouse import WarehouseValidationError

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
        COSTS, pages=lambda client, first, end, table: (p for p in pages), batch_rows=batch_rows
    )
    return PageFeed(spec, "org-test")


def test_usage_and_the_audit_log_are_batched() -> None:
    """Their pages are small (a year of a small usage family: 12 pages of a few thousand
    rows; the audit log: 100 events a page); a costs page has hundreds of thousands."""
    assert {t.name: t.batch_rows for t in DAILY_TABLES} == {
        "usage": 50_000, "costs": 0, "api_key_costs": 0, "audit_logs": 10_000,
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


def in_parts(endpoint: str, table: PartTable, *parts: ColumnPage) -> tuple[str, ColumnPage]:
    """A page as the client returns it when given `table`: each part already made."""
    made = [table(endpoint, part) for part in parts]
    rows = sum(p.num_rows for p in parts)
    return endpoint, ColumnPage({}, rows, [], False, None, made)


def test_a_page_read_in_parts_goes_to_the_writer_whole_and_in_order() -> None:
    def pages(client, first, end, table):  # type: ignore[no-untyped-def]
        yield in_parts("/a", table, page(0, 4), page(4, 3))
        yield in_parts("/a", table, page(7, 2))

    feed = PageFeed(dataclasses.replace(COSTS, pages=pages), "org-test")
    seen = [
        table.column("line_item").to_pylist()
        for table in feed.tables(None, FIRST, FIRST + timedelta(days=5))  # type: ignore[arg-type]
    ]
    assert seen == [[f"line {n}" for n in range(7)], ["line 7", "line 8"]]
    assert feed.pages == 2


def test_a_batch_is_checked_under_its_own_endpoint_though_the_next_page_was_read() -> None:
    """The next endpoint's parts are made while the batch before is still unwritten: the
    writer's errors about that batch must still name the batch's endpoint."""

    def pages(client, first, end, table):  # type: ignore[no-untyped-def]
        yield "/a", page(0, 3)
        yield in_parts("/b", table, page(3, 2))

    feed = PageFeed(dataclasses.replace(COSTS, pages=pages, batch_rows=100), "org-test")
    tables = feed.tables(None, FIRST, FIRST + timedelta(days=5))  # type: ignore[arg-type]
    seen = [(feed.endpoint, t.num_rows) for t in tables]
    assert seen == [("/a", 3), ("/b", 2)]


def test_a_part_that_does_not_fit_its_table_names_the_endpoint_it_came_from() -> None:
    bad = page(3, 2)
    bad.columns["amount_usd"][1] = 2.5  # a float, not an exact amount

    def pages(client, first, end, table):  # type: ignore[no-untyped-def]
        yield "/a", page(0, 3)
        yield in_parts("/b", table, bad)

    feed = PageFeed(dataclasses.replace(COSTS, pages=pages, batch_rows=100), "org-test")
    with pytest.raises(WarehouseValidationError) as refused:
        list(feed.tables(None, FIRST, FIRST + timedelta(days=5)))  # type: ignore[arg-type]
    assert feed.endpoint == "/b"
    assert str(refused.value) == (
        "openai.costs: column amount_usd has values that are not exact dollars (a Decimal "
        "with at most 9 decimal places, below 1e9; floats are refused): [2.5]"
    )
