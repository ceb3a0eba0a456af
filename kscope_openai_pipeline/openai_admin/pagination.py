"""The two pagination styles of the Admin API, independent of HTTP.

- List endpoints: `limit` + `after=<last_id>` while `has_more`.
- Usage/costs: `page=<next_page>` while `has_more`, with every other parameter (including
  `end_time`) frozen, because the cursor is bound to its query; the server hands out at
  most `limit` buckets a page, so one query over any range costs ceil(days / limit)
  requests (365 days of usage at 31 a page = 12; of costs at 180 a page = 3).
  `even_limit` spreads the days evenly over those pages (costs: 122, 122, 121).

Both guard against a cursor that does not advance (a server bug would otherwise loop
forever) and against the same item/bucket coming back on a later page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from .buckets import ColumnPage
from .errors import AdminApiResponseError
from .listing import ListPage

T = TypeVar("T")
Params = list[tuple[str, str]]
#: GET one page with these query parameters and return it parsed.
Fetch = Callable[[Params], T]


def logs_page(n: int, last: bool) -> bool:
    """Whether page `n` of a pagination gets a log line: the first ten, every hundredth
    and the last. A year of a large organization's audit log is 772 pages of 100
    events; a line each drowned the run's log, and each line is an event Dagster stores
    (~0.4 ms of the run)."""
    return n <= 10 or n % 100 == 0 or last


def list_query(params: Params, limit: int, after: str | None) -> Params:
    """The query of a list page: the params, the limit, then the cursor if not the first."""
    query = [*params, ("limit", str(limit))]
    return [*query, ("after", after)] if after is not None else query


def iter_list_pages(
    fetch: Fetch[ListPage], endpoint: str, params: Params, *, limit: int = 100
) -> Iterator[ListPage]:
    """Yield every page of a list endpoint, following `after` cursors."""
    after: str | None = None
    seen_cursors: set[str] = set()
    seen_ids: set[str] = set()
    while True:
        page = fetch(list_query(params, limit, after))
        repeated = seen_ids.intersection(page.ids)
        if repeated:
            raise AdminApiResponseError(
                endpoint=endpoint,
                field="data[].id",
                value=sorted(repeated)[:5],
                reason="came back again on a later page (cursor did not advance)",
            )
        seen_ids.update(page.ids)
        yield page
        if not page.has_more:
            return
        if page.cursor is None or page.cursor in seen_cursors:
            raise AdminApiResponseError(
                endpoint=endpoint,
                field="last_id",
                value=page.cursor,
                reason="must name a new cursor while has_more is true",
            )
        seen_cursors.add(page.cursor)
        after = page.cursor


def even_limit(days: int, max_limit: int) -> int:
    """The page limit that reads `days` buckets in the fewest pages `max_limit` allows, with
    the buckets spread evenly over them.

    Same requests, smaller largest page: 365 days of costs at 180 a page are pages of 180,
    180 and 5 days; at 122 a page they are 122, 122 and 121, so the largest body (and what
    is alive while it decodes) is a third smaller.
    """
    if days < 1 or max_limit < 1:
        raise ValueError(f"days ({days}) and max_limit ({max_limit}) must be >= 1")
    pages = -(-days // max_limit)
    return -(-days // pages)


def bucket_query(params: Params, cursor: str | None) -> Params:
    """The query of a usage/costs page: the frozen params, then the cursor if not the first."""
    return [*params, ("page", cursor)] if cursor is not None else list(params)


def iter_bucket_pages(
    fetch: Fetch[ColumnPage], endpoint: str, params: Params
) -> Iterator[ColumnPage]:
    """Yield every page of a usage/costs query, replaying `next_page` with frozen params."""
    cursor: str | None = None
    seen_cursors: set[str] = set()
    seen_starts: set[int] = set()
    while True:
        page = fetch(bucket_query(params, cursor))
        repeated = seen_starts.intersection(page.bucket_starts)
        if repeated:
            raise AdminApiResponseError(
                endpoint=endpoint,
                field="data[].start_time",
                value=sorted(repeated)[:5],
                reason="is a duplicate bucket (already returned on an earlier page)",
            )
        seen_starts.update(page.bucket_starts)
        has_more, next_page = page.has_more, page.next_page
        yield page
        del page  # the consumer has it: not held here while the next one is fetched
        if not has_more:
            return
        if not next_page or next_page in seen_cursors:
            raise AdminApiResponseError(
                endpoint=endpoint,
                field="next_page",
                value=next_page,
                reason="must name a new cursor while has_more is true",
            )
        seen_cursors.add(next_page)
        cursor = next_page
