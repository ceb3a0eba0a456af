"""POST one JSON message to the alerts webhook, without ever showing its URL.

The URL of a Slack incoming webhook is its credential: whoever has it can post to the
channel. So it is passed in at the moment of sending (never stored on an object that could
be printed), errors are described by kind only (`HTTP 500`, `timeout`, `connection
refused`) because httpx's messages may quote the URL, and while a request is in flight a
filter on httpx's and httpcore's loggers replaces the URL and its path in their records
(httpx logs every request line at INFO). No retries here: one attempt per call, the
outbox decides when to try again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

REDACTED = "<alert webhook>"
_LOGGERS = ("httpx", "httpcore")


@dataclass(frozen=True)
class Delivery:
    """The answer to one POST: ok on any 2xx; otherwise what went wrong, URL-free."""

    ok: bool
    status: int | None = None
    error: str | None = None


class _UrlFilter(logging.Filter):
    """Replaces registered URLs (and their paths, which hold the token) in log records."""

    def __init__(self) -> None:
        super().__init__("kscope-alert-webhook-redaction")
        self._secrets: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hiding(self, url: str) -> Iterator[None]:
        parts = urlsplit(url)
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        secrets = [s for s in {url, tail, parts.path} if len(s) > 1]
        with self._lock:
            for s in secrets:
                self._secrets[s] = self._secrets.get(s, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for s in secrets:
                    self._secrets[s] -= 1
                    if not self._secrets[s]:
                        del self._secrets[s]

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        if any(s in message for s in secrets):
            for s in secrets:
                message = message.replace(s, REDACTED)
            record.msg, record.args = message, ()
        return True


_FILTER = _UrlFilter()
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


def _describe(err: Exception) -> str:
    """What failed, in words that cannot contain the URL."""
    if isinstance(err, httpx.TimeoutException):
        return "timeout"
    if isinstance(err, httpx.ConnectError):
        cause = err.__cause__ or err.__context__
        refused = isinstance(cause, ConnectionRefusedError) or "refused" in str(err).lower()
        return "connection refused" if refused else "connection failed"
    if isinstance(err, httpx.RemoteProtocolError):
        return "connection dropped"
    if isinstance(err, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid webhook URL"
    return f"request failed ({type(err).__name__})"


def post(url: str, payload: dict[str, Any], timeout: float) -> Delivery:
    """POST `payload` as JSON to `url` once; never raises, never echoes the URL."""
    with _FILTER.hiding(url):
        try:
            with httpx.Client(timeout=timeout) as client:
                response = client.post(url, json=payload)
        except Exception as err:  # any failure is a failed delivery, retried later
            return Delivery(False, None, _describe(err))
    if 200 <= response.status_code < 300:
        return Delivery(True, response.status_code)
    return Delivery(False, response.status_code, f"HTTP {response.status_code}")
