"""How the pipeline runs on its own: the jobs, the 02:00 UTC schedule with its restatement
window, and the sensor that publishes the analyst copy after every successful run.
"""

from datetime import date, timedelta

import dagster as dg
import duckdb

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs import settings
from kscope_openai_pipeline.defs.partitions import daily_partitions

INVENTORY = dg.AssetSelection.groups("openai_inventory")
DAILY = dg.AssetSelection.groups("openai_daily")
SIGHTLINES = dg.AssetSelection.groups("sightlines")

inventory_job = dg.define_asset_job(
    "openai_inventory_job",
    selection=INVENTORY,
    description="Refresh the OpenAI inventory (projects, keys, users, invites, accounts).",
)

daily_job = dg.define_asset_job(
    "openai_daily_job",
    selection=DAILY,
    partitions_def=daily_partitions,
    description="Usage and costs for a range of days (one run pages the whole range).",
)

sightlines_job = dg.define_asset_job(
    "sightlines_job",
    selection=SIGHTLINES,
    description="Recompute the gateway-bypass, reconciliation and seat sightlines.",
)

refresh_job = dg.define_asset_job(
    "daily_refresh_job",
    selection=INVENTORY | DAILY | SIGHTLINES,
    partitions_def=daily_partitions,
    description=(
        "What the 02:00 UTC schedule runs: inventory, yesterday plus the restatement window "
        "of usage and costs, then the sightlines, in one run."
    ),
)


def refresh_window(today: date, restatement_days: int) -> tuple[date, date]:
    """[first, last] partition days the daily run re-pulls: yesterday and the N days before.

    OpenAI restates recent days, so a day is re-read `restatement_days` more times after
    its first pull. Clipped to the first partition.
    """
    last = today - timedelta(days=1)
    first = max(last - timedelta(days=restatement_days), settings.first_day())
    return first, last


@dg.schedule(
    job=refresh_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 02:00 UTC: inventory, yesterday + restatement window, sightlines.",
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    today = context.scheduled_execution_time.date()
    first, last = refresh_window(today, settings.restatement_days())
    if last < first:  # the tick on the first partition day: yesterday has no partition
        return dg.SkipReason(f"no complete day since the first partition {first} yet")
    return dg.RunRequest(
        run_key=f"daily-refresh-{today.isoformat()}",
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="publish_analyst_copy",
    description="After every successful run, copy the warehouse to the read-only analyst file.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
)
def publish_analyst_copy(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    source, target = settings.duckdb_path(), settings.analyst_copy_path()
    try:
        result = warehouse.publish(source, target, wait_seconds=30)
    except FileNotFoundError:
        return dg.SkipReason(f"no warehouse at {source} yet")
    except duckdb.IOException as err:
        # Another run holds the writer lock; the next successful run publishes anyway.
        return dg.SkipReason(f"warehouse busy, analyst copy left as it was: {err}")
    context.log.info(
        "published %s -> %s after run %s: %s",
        source,
        target,
        context.dagster_run.run_id,
        result,
    )
    return None
