"""Read the next page ahead: its request goes out as soon as this page's cursor is known.

Why: a backfill alternates between waiting for the API (a 122-day costs page is ~130 MB
that the server takes about a second to produce) and work of its own (decoding the page,
validating and writing it). The cursor of the next page is in this page's envelope, which
decodes in a fraction of the time the page's rows take; sent at that moment, the next
request is served while this page is decoded and written, so the crawl takes about as
long as the downloads alone, not their sum with the work.

What moves is only when the bytes of a page's first attempt are received: the page is
still decoded, checked and retried by `AdminTransport.get` in the caller's thread, in
order. So the requests, their order, their frozen cursors, each page's retries and waits,
and each page's errors are those of the plain iteration, raised when that page is asked
for. One exception, in a failure case only: when a page's rows break the contract after
its envelope was read, the next page has already been requested (it may reach the server
before the page's retry); the page is retried as always, and if it keeps failing the
request ahead was one more than the plain iteration makes.

At most one request is ahead, so at most one body is arriving while the caller works on
one page. When the iteration ends, early or on an error, the request in flight is let
finish (an HTTP read cannot be cut cleanly), its body dropped and the worker thread
joined: no thread outlives the iteration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

#: (path, query) -> the response's status and headers, and its whole body.
Receive = Callable[[str, list[tuple[str, str]]], tuple[httpx.Response, bytearray]]
Received = tuple[httpx.Response, bytearray]

THREAD_NAME = "openai-admin-read-ahead"


class ReadAhead:
    """The one request ahead of a pagination (see the module docstring)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[str, tuple[tuple[str, str], ...]], Future[Received]] = {}

    def request(self, path: str, params: list[tuple[str, str]]) -> None:
        """Start receiving `path?params` in the worker, unless it is already on its way
        (a page retried after its rows failed reads the same cursor again)."""
        key = (path, tuple(params))
        with self._lock:
            if key in self._pending:
                return
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
            self._pending[key] = self._worker.submit(self._receive, path, list(params))

    def take(self, path: str, params: list[tuple[str, str]]) -> Future[Received] | None:
        """The request ahead for exactly `path?params`, if one was made (handed over once)."""
        with self._lock:
            return self._pending.pop((path, tuple(params)), None)

    def close(self) -> list[int]:
        """Let a request in flight finish, drop what it received and join the worker.

        Returns the body size of each request that was sent but never asked for (0 for
        one that failed), so the caller can count it as made."""
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
            worker, self._worker = self._worker, None
        for future in pending:
            future.cancel()
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)
        dropped = []
        for future in pending:
            if not future.cancelled():
                dropped.append(0 if future.exception() else len(future.result()[1]))
        return dropped
