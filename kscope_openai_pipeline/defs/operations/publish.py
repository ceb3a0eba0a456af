"""Publishing the analyst copy: after every successful run, the warehouse is copied to the
read-only file analysts open, so an analyst session never blocks a run.
"""

import dagster as dg
import duckdb

from kscope_openai_pipeline import settings, warehouse


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
        result = warehouse.publish(
            source, target, wait_seconds=30, storage_version=settings.analyst_storage_version()
        )
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
