"""When to retry a request and how long to wait first.

Policy (the official SDK's, with a larger attempt budget for back-fills): retry on 408,
409, 429 and every 5xx, on timeouts and dropped connections, and (a few times) on a 2xx
body that is truncated or breaks the schema. The wait honours the server: `retry-after-ms`
first, then `Retry-After` as seconds or an HTTP date, when it asks for 0 < delay <= 120 s;
otherwise exponential backoff with full jitter, `uniform(0, min(cap, base * 2**n))`.
Pure functions: the client injects the clock, the sleep and the random source.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 409, 429})
MAX_SERVER_DELAY = 120.0


def is_retryable_status(status: int) -> bool:
    """408, 409, 429 and 5xx are transient on the Admin API; other 4xx are final."""
    return status in RETRYABLE_STATUSES or status >= 500


def server_delay(headers: Mapping[str, str], now: Callable[[], float]) -> float | None:
    """Seconds the server asked us to wait, or None to fall back to backoff.

    `retry-after-ms` wins over `Retry-After`; an HTTP date is converted with the wall
    clock `now` (Unix seconds). Values outside (0, 120] are ignored, as the SDK does:
    a zero or negative delay is not a real request to wait, and a huge one is more
    likely a bug than something worth blocking a run for.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    delay: float | None = None
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            delay = float(raw_ms) / 1000.0
        except ValueError:
            delay = None
    if delay is None:
        raw = lowered.get("retry-after")
        if raw is not None:
            raw = raw.strip()
            try:
                delay = float(raw)
            except ValueError:
                try:
                    when = parsedate_to_datetime(raw)
                except (TypeError, ValueError, IndexError):
                    when = None
                if when is not None and when.tzinfo is not None:
                    delay = when.timestamp() - now()
    if delay is None or delay != delay or not 0 < delay <= MAX_SERVER_DELAY:
        return None
    return delay


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt budget and backoff shape for one logical request (one page)."""

    max_attempts: int = 6
    deadline_seconds: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    malformed_attempts: int = 3
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.malformed_attempts < 1:
            raise ValueError("malformed_attempts must be >= 1")
        if self.deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be > 0")

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential backoff before retry `retry_number` (1 = first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return self.rng.uniform(0.0, ceiling)
