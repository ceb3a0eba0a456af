"""Alerts: `sightlines/alerts` (findings, WARN checks), `alerts_notify_job` (delivery) and
the sensors that start it (new findings, backoff, stale-data hour, failed runs)."""

import dagster as dg

from kscope_openai_pipeline.defs.alerts.assets import alerts
from kscope_openai_pipeline.defs.alerts.notify import alerts_notify_job
from kscope_openai_pipeline.defs.alerts.sensors import alerts_notifier, alerts_on_run_failure


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[alerts],
        jobs=[alerts_notify_job],
        sensors=[alerts_notifier, alerts_on_run_failure],
    )
