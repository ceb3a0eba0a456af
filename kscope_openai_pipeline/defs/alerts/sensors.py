"""When to deliver: the sensors that start `alerts_notify_job`.

- `alerts_notifier` (every 30 s) starts a delivery run when the alerts asset recorded new
  findings, when a failed delivery's backoff has passed, when a webhook was set (what
  waited meanwhile goes out), and once a day when the stale-data hour passes (nothing
  else would notice that yesterday never arrived).
- `alerts_on_run_failure` starts one for each failed run of the pipeline's jobs (the
  delivery job's own failures excepted: it would start itself again and again).

Neither sends anything itself and neither writes the warehouse: they only read Dagster's
records, so they never wait for the DuckDB lock. Their cursors only say what they have
already reacted to; whether a message went out is in sightlines.alerts, so a daemon
restart can at worst start one delivery run too many, which then finds nothing due.
"""

import datetime as dt
import json
from dataclasses import asdict, dataclass

import dagster as dg

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.alerts.kinds import AlertRules
from kscope_openai_pipeline.alerts.operational import required_day
from kscope_openai_pipeline.defs.alerts.assets import ALERTS_KEY
from kscope_openai_pipeline.defs.alerts.notify import (
    FAILED_RUN_TAG,
    REASON_TAG,
    alerts_notify_job,
)
from kscope_openai_pipeline.defs.alerts.records import NOTIFY_JOB, utc_now

_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass
class NotifierCursor:
    """Storage ids of the last findings and delivery records reacted to, the last day
    whose stale-data deadline started a run, and whether a webhook was set (so that
    setting one sends what waited meanwhile; the URL itself is never kept)."""

    findings: int = 0
    retried: int = 0
    stale_day: str = ""
    webhook: bool = False

    @classmethod
    def parse(cls, text: str | None) -> "NotifierCursor":
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _delivery_in_flight(instance: dg.DagsterInstance) -> bool:
    runs = instance.get_run_records(
        dg.RunsFilter(job_name=NOTIFY_JOB, statuses=_IN_FLIGHT), limit=1
    )
    return bool(runs)


def _retry_due(record: dg.EventLogRecord, now: dt.datetime) -> bool:
    observation = record.asset_observation
    metadata = observation.metadata if observation else {}
    pending = metadata.get("pending")
    at = metadata.get("next_attempt_at")
    if pending is None or not pending.value or at is None:
        return False
    return dt.datetime.fromtimestamp(at.value, dt.UTC).replace(tzinfo=None) <= now


@dg.sensor(
    name="alerts_notifier",
    job=alerts_notify_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts alerts_notify_job after new findings, when a failed delivery's backoff has "
        "passed, and once a day at the stale-data hour."
    ),
)
def alerts_notifier(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    instance = context.instance
    if _delivery_in_flight(instance):
        return dg.SkipReason("a delivery run is queued or running; it sends what is due")
    cursor = NotifierCursor.parse(context.cursor)
    now = utc_now()
    rules = AlertRules.from_settings()
    has_webhook = settings.alert_webhook_url() is not None
    reasons = []
    if has_webhook and not cursor.webhook:
        reasons.append("webhook configured")
    cursor.webhook = has_webhook
    latest = instance.fetch_materializations(ALERTS_KEY, limit=1).records
    if latest and latest[0].storage_id > cursor.findings:
        cursor.findings = latest[0].storage_id
        if has_webhook:
            reasons.append("new findings")
    delivered = instance.fetch_observations(ALERTS_KEY, limit=1).records
    if (
        has_webhook
        and delivered
        and delivered[0].storage_id > cursor.retried
        and _retry_due(delivered[0], now)
    ):
        cursor.retried = delivered[0].storage_id
        reasons.append("retry due")
    due_day = required_day(now, rules.stale_hour).isoformat()
    if "stale_data" not in rules.disabled and cursor.stale_day < due_day:
        cursor.stale_day = due_day
        reasons.append(f"stale-data deadline for {due_day}")
    context.update_cursor(cursor.dump())
    if not reasons:
        return dg.SkipReason("nothing new to deliver")
    return dg.RunRequest(tags={REASON_TAG: ", ".join(reasons)})


@dg.run_failure_sensor(
    name="alerts_on_run_failure",
    request_job=alerts_notify_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts alerts_notify_job for each failed run of the pipeline's jobs.",
)
def alerts_on_run_failure(
    context: dg.RunFailureSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    if run.job_name == NOTIFY_JOB:
        return dg.SkipReason(f"{NOTIFY_JOB} failed: its own failures are not alerts")
    return dg.RunRequest(run_key=f"run-failed-{run.run_id}", tags={FAILED_RUN_TAG: run.run_id})
