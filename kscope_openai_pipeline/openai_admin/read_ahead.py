"""Read one page ahead: the next page downloads and decodes while the caller uses this one.

Why: a backfill alternates between waiting for the API (a 180-day costs page is ~200 MB
that the server takes seconds to produce) and work of its own (decoding the page,
validating and writing it). Started as soon as a page's `next_page` is known, the next
request overlaps that work, so the crawl takes about as long as the downloads alone,
not their sum with the work.

What does not change: the pages come from the same generator, pulled by one worker thread
one at a time, so the requests, their order, their frozen cursors and each page's retries
are exactly those of the plain iteration; only their timing moves. An error of the page
read ahead (its retries exhausted, a malformed body) is raised when that page is asked
for, where the plain iteration would have raised it. At most two pages are alive: the
caller's and the one arriving. When the caller stops early or fails, the request in
flight is let finish (an HTTP read cannot be cut cleanly), its page dropped, the
generator closed and the worker thread joined before control returns: no thread outlives
the iteration.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_END = object()  # what the worker's next() returns when the pages are exhausted


def read_ahead(pages: Iterator[T]) -> Iterator[T]:
    """Yield the items of `pages`, pulling the next one in a worker thread meanwhile."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openai-admin-read-ahead")
    try:
        pending: Future[object] = worker.submit(next, pages, _END)
        while True:
            page = pending.result()  # the worker's exception, if any, is raised here
            if page is _END:
                return
            pending = worker.submit(next, pages, _END)
            yield page  # type: ignore[misc]
            del page  # not held while the worker reads the next one
    finally:
        worker.shutdown(wait=True, cancel_futures=True)
        close = getattr(pages, "close", None)
        if close is not None:
            close()
