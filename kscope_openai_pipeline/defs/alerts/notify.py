"""`alerts_notify_job`: bring the operational findings up to date, then send the due
messages to the webhook and mark each one as it is acknowledged.

Why a job, started by the sensors, rather than the sensors posting themselves: what was
sent is marked in sightlines.alerts, and DuckDB has one writer at a time. A sensor runs
in the daemon, outside the run queue, so it could only write by racing the pipeline's
runs for the file lock; a run in the writer pool (`duckdb_writer`, limit 1) writes in
turn, exactly like every other writer. The table, not a process's memory or a sensor
cursor, is then what says a message went out, so restarts of the daemon, re-runs and
backfills cannot resend one, and two deliveries never run at once.

Why it never holds the pipeline back for long: one request per message, each bounded by
`KSCOPE_ALERT_WEBHOOK_TIMEOUT_SECONDS`, and a round ends at the first failure. A failing
webhook never fails this run either: the failure is counted and the message retried by
a later run after its backoff. The webhook URL is read from the setting in this process,
when sending; it is never in run config, tags, metadata, logs or the warehouse.
"""

import datetime as dt

import dagster as dg

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.alerts import outbox, slack, store, webhook
from kscope_openai_pipeline.alerts.kinds import AlertRules
from kscope_openai_pipeline.defs.alerts.assets import ALERTS_KEY
from kscope_openai_pipeline.defs.alerts.records import NOTIFY_JOB, sync_operational, utc_now
from kscope_openai_pipeline.defs.policies import WRITER_POOL
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource

#: Tag of a delivery run started for a failed run: that run's id.
FAILED_RUN_TAG = "kscope/failed_run_id"
#: Tag saying why the sensor started a delivery run.
REASON_TAG = "kscope/alerts_reason"


def _send(url: str, timeout: float):
    def send(message: outbox.Message) -> webhook.Delivery:
        return webhook.post(url, slack.message_payload(message), timeout)

    return send


@dg.op(
    pool=WRITER_POOL,
    description="Sync the operational findings, then deliver the due alert messages once.",
)
def deliver_alerts(context: dg.OpExecutionContext, duckdb: WarehouseResource) -> None:
    rules = AlertRules.from_settings()
    reported = [context.run.tags[FAILED_RUN_TAG]] if FAILED_RUN_TAG in context.run.tags else []
    url = settings.alert_webhook_url()
    with duckdb.get_connection() as conn:
        store.ensure_alerts_table(conn)
        organization = store.organization(conn, settings.organization_id())
        synced = sync_operational(
            conn, context.instance, rules, organization, utc_now(), reported
        )
        if url is None:
            result = outbox.RoundResult()
            result.pending, _ = outbox.pending(conn, rules.disabled)
            context.log.info(
                "no webhook (KSCOPE_ALERT_WEBHOOK_URL is not set): %d message(s) wait in "
                "sightlines.alerts",
                result.pending,
            )
        else:
            result = outbox.deliver_due(
                conn,
                _send(url, settings.alert_webhook_timeout()),
                utc_now,
                retry_base_seconds=settings.alert_retry_seconds(),
                disabled=rules.disabled,
            )
    for message in result.delivered:
        context.log.info("sent %s %s: %s", message.event, message.kind, message.subject)
    if result.failed is not None:
        context.log.warning(
            "the webhook refused %s %s (%s); %d message(s) wait until %s",
            result.failed.kind,
            result.failed.subject,
            result.error,
            result.pending,
            result.next_attempt_at,
        )
    metadata: dict[str, object] = {
        "delivered": len(result.delivered),
        "failed": int(result.failed is not None),
        "pending": result.pending,
        "new_findings": synced.new,
        "webhook": "configured" if url else "not configured",
    }
    if result.next_attempt_at is not None:
        at = result.next_attempt_at.replace(tzinfo=dt.UTC)
        metadata["next_attempt_at"] = dg.MetadataValue.timestamp(at)
    context.log_event(dg.AssetObservation(asset_key=ALERTS_KEY, metadata=metadata))


@dg.job(
    name=NOTIFY_JOB,
    description=(
        "Bring stale-data, lost-access and failed-run findings up to date, then send the "
        "due alert messages to KSCOPE_ALERT_WEBHOOK_URL, each exactly once."
    ),
)
def alerts_notify_job() -> None:
    deliver_alerts()
