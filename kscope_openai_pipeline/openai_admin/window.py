"""Days and Unix seconds: the API counts UTC seconds, the pipeline thinks in UTC days.

Kept apart from pagination so the decoders (which check buckets against the asked window)
and the pagination (which walks their pages) can both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time


@dataclass(frozen=True)
class Window:
    """The asked time window, Unix seconds, end exclusive."""

    start_ts: int
    end_ts: int


def utc_midnight(day: date) -> int:
    """Unix seconds of 00:00 UTC on `day`."""
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


def as_day(value: date | datetime, name: str) -> date:
    """Accept a date, or a datetime at exactly UTC midnight (naive = UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        aware = aware.astimezone(UTC)
        if aware.timetz().replace(tzinfo=None) != time(0):
            raise ValueError(f"{name} must be a UTC day boundary, got {value.isoformat()}")
        return aware.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")


def as_unix(value: int | date | datetime, name: str) -> int:
    """Accept Unix seconds, a date (its UTC midnight) or a datetime (naive = UTC)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be Unix seconds, a date or a datetime")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    if isinstance(value, date):
        return utc_midnight(value)
    raise TypeError(f"{name} must be Unix seconds, a date or a datetime")
