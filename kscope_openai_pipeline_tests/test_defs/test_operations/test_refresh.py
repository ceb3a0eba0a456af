"""The daily refresh: one job over every source, scheduled at 02:00 UTC with the
restatement window, and the publish sensor beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.operations import refresh
from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline_tests.helpers.pipeline import RANGE_END_TAG, RANGE_START_TAG

ASSET_GRAPH = defs.resolve_asset_graph()


def test_schedule_and_sensor_exist_and_run_by_default() -> None:
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_refresh_job"
    sensor = defs.resolve_sensor_def("publish_analyst_copy")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    refresh = defs.resolve_job_def("daily_refresh_job")
    groups = {ASSET_GRAPH.get(k).group_name for k in refresh.asset_layer.selected_asset_keys}
    assert groups == {"openai_access", "openai_inventory", "openai_daily", "sightlines", "exports"}
    # the access check is upstream of every asset that reads the API: it runs first
    access = dg.AssetKey(["openai", "access_check"])
    # (a history is written by its snapshot's step, which reads the API)
    readers = [k for k in refresh.asset_layer.selected_asset_keys
               if ASSET_GRAPH.get(k).group_name in ("openai_inventory", "openai_daily")
               and not k.path[1].endswith("_history")]
    assert readers and all(access in ASSET_GRAPH.get(k).parent_keys or k.path[1] == "organization"
                           for k in readers)  # fmt: skip


@pytest.mark.parametrize(
    ("today", "restatement_days", "window"),
    [
        (date(2026, 11, 26), 3, (date(2026, 11, 22), date(2026, 11, 25))),
        (date(2026, 3, 1), 3, (date(2026, 2, 25), date(2026, 2, 28))),
        (date(2026, 1, 1), 0, (date(2025, 12, 31), date(2025, 12, 31))),
        (date(2025, 1, 3), 3, (date(2025, 1, 1), date(2025, 1, 2))),  # clipped to first day
    ],
)
def test_refresh_window(
    today: date, restatement_days: int, window: tuple[date, date], monkeypatch
) -> None:
    monkeypatch.setenv("KSCOPE_FIRST_DAY", "2025-01-01")
    assert refresh.refresh_window(today, restatement_days) == window


def test_schedule_tick_requests_yesterday_and_the_restatement_window(monkeypatch) -> None:
    monkeypatch.setenv("KSCOPE_FIRST_DAY", "2025-01-01")
    monkeypatch.setenv("KSCOPE_RESTATEMENT_DAYS", "5")
    tick = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    request = refresh.daily_refresh(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "daily-refresh-2026-11-26"
    assert request.tags == {RANGE_START_TAG: "2026-11-20", RANGE_END_TAG: "2026-11-25"}
    assert daily_partitions.has_partition_key("2026-11-20")


def test_schedule_tick_on_the_first_partition_day_skips(monkeypatch) -> None:
    """Yesterday is before the first partition: nothing to do (not an inverted range)."""
    monkeypatch.setenv("KSCOPE_FIRST_DAY", "2026-11-26")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    )
    assert isinstance(refresh.daily_refresh(context), dg.SkipReason)
