"""Usage and costs reads: one frozen query per range, one `ColumnPage` per API page.

A range of any length is one query in the fewest pages the API allows (at most 31 days a
usage page, 180 a costs page, the days spread evenly over the pages: `even_limit`),
replayed with `next_page` until the end; each page is
decoded into columns and handed to the caller before the next one is asked for (or, with
`read_ahead`, while the next one downloads). `AdminClient` gets these methods from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from .buckets import ColumnPage, Compact, ResultKind, parse_bucket_page
from .pagination import Params, bucket_query, even_limit, iter_bucket_pages, logs_page
from .transport import AdminTransport
from .usage import COSTS_KIND, USAGE_GROUP_BY, USAGE_KINDS
from .window import Window, as_day, utc_midnight

USAGE_PAGE_LIMIT = 31  # max daily buckets per usage page
COSTS_PAGE_LIMIT = 180  # max daily buckets per costs page
# The Costs API accepts group_by=api_key_id only for windows starting on or after this day.
API_KEY_COSTS_FIRST_DAY = date(2025, 12, 6)
COSTS_GROUP_BY = frozenset({"project_id", "line_item", "api_key_id"})

EP_COSTS = "/organization/costs"
EP_USAGE = "/organization/usage/{family}"


class BucketReads(AdminTransport):
    """The usage and costs methods of `AdminClient` (which sets the page limits)."""

    usage_limit: int
    costs_limit: int

    def _iter_buckets(
        self,
        endpoint: str,
        start: date,
        end: date,
        params: Params,
        kind: ResultKind,
        read_ahead: bool,
        compact: Compact | None,
    ) -> Iterator[ColumnPage]:
        window = Window(utc_midnight(start), utc_midnight(end))
        frozen: Params = [
            ("start_time", str(window.start_ts)),
            ("end_time", str(window.end_ts)),
            ("bucket_width", "1d"),
            *params,
        ]
        ahead, on_cursor = self._read_ahead(
            read_ahead, endpoint, lambda cursor: bucket_query(frozen, cursor)
        )

        def parse(body: bytearray) -> ColumnPage:
            return parse_bucket_page(body, endpoint, window, kind, on_cursor, compact)

        def fetch(query: Params) -> ColumnPage:
            return self.get(endpoint, endpoint, query, parse, ahead)

        n = 0
        try:
            # Not `enumerate`: the result tuple it reuses would hold the page before while
            # the next one is fetched and decoded.
            for page in iter_bucket_pages(fetch, endpoint, frozen):
                n += 1
                self.stats.record_page(endpoint, page.num_rows)
                if logs_page(n, last=not page.has_more):
                    self._log_page(endpoint, start, end, n, page)
                yield page
                del page  # the consumer has it; do not hold it while the next page is fetched
        finally:
            self._close_read_ahead(endpoint, ahead)

    def _log_page(self, endpoint: str, start: date, end: date, n: int, page: ColumnPage) -> None:
        self.log.info(
            "GET %s window=%s..%s page=%d buckets=%d rows=%d requests_so_far=%d",
            endpoint,
            start.isoformat(),
            end.isoformat(),
            n,
            len(page.bucket_starts),
            page.num_rows,
            self.stats.requests,
        )

    @staticmethod
    def _days(start: date | datetime, end: date | datetime) -> tuple[date, date]:
        s, e = as_day(start, "start"), as_day(end, "end")
        if e < s:
            raise ValueError(f"end {e} is before start {s}")
        return s, e

    def iter_usage(
        self,
        family: str,
        start: date | datetime,
        end: date | datetime,
        *,
        read_ahead: bool = False,
        compact: Compact | None = None,
    ) -> Iterator[ColumnPage]:
        """Daily usage of one family for UTC days start <= day < end, one `ColumnPage`
        per API page (at most 31 days a page, one frozen query); columns
        `USAGE_RECORD_KEYS`.

        `read_ahead`: request the next page as soon as this one's cursor is read, so it
        downloads while this one is decoded and written (same requests, see
        read_ahead.py). `compact`: each page is read in parts, each part handed to it
        (see buckets.py); the page's `parts` hold what it returned."""
        if family not in USAGE_GROUP_BY:
            raise ValueError(
                f"unknown usage family {family!r}; expected one of {tuple(USAGE_GROUP_BY)}"
            )
        s, e = self._days(start, end)
        if s == e:
            return
        endpoint = EP_USAGE.format(family=family)
        params: Params = [("limit", str(even_limit((e - s).days, self.usage_limit)))]
        params += [("group_by", g) for g in USAGE_GROUP_BY[family]]
        yield from self._iter_buckets(
            endpoint, s, e, params, USAGE_KINDS[family], read_ahead, compact
        )

    def iter_costs(
        self,
        start: date | datetime,
        end: date | datetime,
        group_by: Sequence[str] = ("project_id", "line_item"),
        *,
        read_ahead: bool = False,
        compact: Compact | None = None,
    ) -> Iterator[ColumnPage]:
        """Daily costs for UTC days start <= day < end, at most 180 days a page, one
        `ColumnPage` per API page; columns `COST_RECORD_KEYS`.

        With `api_key_id` in `group_by` it must be the only dimension, and days before
        2025-12-06 are not requested (the API refuses them); see `iter_api_key_costs`.
        `read_ahead` and `compact` as in `iter_usage`.
        """
        dims = tuple(dict.fromkeys(group_by))
        unknown = set(dims) - COSTS_GROUP_BY
        if unknown:
            raise ValueError(f"costs group_by {sorted(unknown)} not in {sorted(COSTS_GROUP_BY)}")
        s, e = self._days(start, end)
        if "api_key_id" in dims:
            if len(dims) > 1:
                raise ValueError("the Costs API accepts api_key_id only as the sole group_by")
            s = max(s, API_KEY_COSTS_FIRST_DAY)
        if s >= e:
            return
        params: Params = [("limit", str(even_limit((e - s).days, self.costs_limit)))]
        params += [("group_by", g) for g in dims]
        yield from self._iter_buckets(EP_COSTS, s, e, params, COSTS_KIND, read_ahead, compact)

    def iter_api_key_costs(
        self,
        start: date | datetime,
        end: date | datetime,
        *,
        read_ahead: bool = False,
        compact: Compact | None = None,
    ) -> Iterator[ColumnPage]:
        """Daily costs by API key, only for days on or after 2025-12-06."""
        return self.iter_costs(
            start, end, group_by=("api_key_id",), read_ahead=read_ahead, compact=compact
        )
