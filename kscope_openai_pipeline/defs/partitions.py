"""The one partitioning of the warehouse: UTC days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from kscope_openai_pipeline import settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.first_day().isoformat(),
    timezone="UTC",
    fmt="%Y-%m-%d",
)


def window_days(window: dg.TimeWindow) -> tuple[date, date]:
    """The [start, end) UTC days a partition time window covers."""
    return _utc_date(window.start), _utc_date(window.end)


def _utc_date(moment: datetime) -> date:
    if moment.tzinfo is not None and moment.utcoffset() != timedelta(0):
        raise ValueError(f"partition window {moment.isoformat()} is not in UTC")
    return moment.date()
