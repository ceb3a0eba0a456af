"""The daily refresh: one job over every source, and its 02:00 UTC schedule with the
restatement window (OpenAI restates recent days, so each run re-pulls a few of them).
The FOCUS export follows the sightlines, so the restated days reach the month files too.
"""

from datetime import date, timedelta

import dagster as dg

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.defs.exports.jobs import EXPORTS
from kscope_openai_pipeline.defs.openai.jobs import ACCESS, DAILY, INVENTORY
from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline.defs.sightlines.jobs import SIGHTLINES

refresh_job = dg.define_asset_job(
    "daily_refresh_job",
    selection=ACCESS | INVENTORY | DAILY | SIGHTLINES | EXPORTS,
    partitions_def=daily_partitions,
    description=(
        "What the 02:00 UTC schedule runs: the access check first (a key that lost a scope "
        "fails here, with the table), the inventory, yesterday plus the restatement window "
        "of usage and costs, then the sightlines and the FOCUS export, in one run."
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
