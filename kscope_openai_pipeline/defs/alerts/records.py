"""The orchestrator's records the operational alerts are decided from, and their merge.

What Dagster recorded is read here into plain values (`alerts.operational`): the access
check's observations (each permission's answer), the daily assets' materialized days, the
failed runs of the pipeline's jobs. `sync_operational` decides and merges those findings;
the alerts asset and the delivery job both call it, so the table and the UI are current
whichever ran last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg
import duckdb

from kscope_openai_pipeline.alerts import operational, store
from kscope_openai_pipeline.alerts.kinds import OPERATIONAL_KINDS, AlertRules
from kscope_openai_pipeline.defs.openai.access import ACCESS_CHECK_KEY

#: The access checks compared (newest last); older ones cannot change the verdict much.
ACCESS_CHECKS_READ = 50
#: Failed runs are looked for this far back (the run-failure sensor names the newest).
FAILED_RUNS_LOOKBACK = dt.timedelta(days=1)
#: Daily assets whose yesterday is expected by the stale-data hour, and their tables.
EXPECTED_DAILY = {"openai/usage": "openai.usage", "openai/costs": "openai.costs"}
#: The job that delivers the alerts: its own failures are not alerts (it would loop).
NOTIFY_JOB = "alerts_notify_job"


def utc_now() -> dt.datetime:
    """Now as the warehouse stores times: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None)


def access_checks(instance: dg.DagsterInstance) -> list[operational.AccessCheck]:
    """The latest access checks, oldest first, from `openai/access_check`'s observations."""
    records = instance.fetch_observations(ACCESS_CHECK_KEY, limit=ACCESS_CHECKS_READ).records
    checks = []
    for record in reversed(records):
        observation = record.asset_observation
        probes = observation.metadata.get("probes") if observation else None
        if probes is None:
            continue
        checks.append(
            operational.AccessCheck(
                _naive(record.timestamp),
                {label: operational.Probe(**probe) for label, probe in probes.value.items()},
            )
        )
    return checks


def daily_tables(instance: dg.DagsterInstance) -> list[operational.DailyTable]:
    """The expected daily tables and the days stored in each (materialized partitions)."""
    return [
        operational.DailyTable(
            asset,
            table,
            frozenset(
                dt.date.fromisoformat(p)
                for p in instance.get_materialized_partitions(dg.AssetKey.from_user_string(asset))
            ),
        )
        for asset, table in EXPECTED_DAILY.items()
    ]


def _failure(instance: dg.DagsterInstance, record: dg.RunRecord) -> operational.FailedRun:
    run = record.dagster_run
    steps, messages = [], []
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        steps.append(event.step_key or "?")
        data = event.step_failure_data
        user = data.user_failure_data.description if data.user_failure_data else None
        messages.append(user or (data.error.message if data.error else "") or "")
    if not messages:
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
            messages.append(entry.dagster_event.message or "")
    failed_at = record.end_time or record.update_timestamp.timestamp()
    error = "; ".join(m.strip().splitlines()[0] for m in messages if m.strip())
    return operational.FailedRun(run.run_id, run.job_name, _naive(failed_at), tuple(steps), error)


def failed_runs(
    instance: dg.DagsterInstance, now: dt.datetime, also: Iterable[str] = ()
) -> list[operational.FailedRun]:
    """Failed runs of the pipeline's jobs updated since `now` - lookback, and the runs
    named in `also` (those the run-failure sensor reported), the delivery job excepted."""
    since = (now - FAILED_RUNS_LOOKBACK).replace(tzinfo=dt.UTC)
    records = {
        r.dagster_run.run_id: r
        for r in instance.get_run_records(
            dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=since)
        )
    }
    for run_id in also:
        record = instance.get_run_record_by_id(run_id)
        if record is not None and record.dagster_run.status == dg.DagsterRunStatus.FAILURE:
            records[run_id] = record
    return [
        _failure(instance, r)
        for _, r in sorted(records.items())
        if r.dagster_run.job_name != NOTIFY_JOB
    ]


def sync_operational(
    conn: duckdb.DuckDBPyConnection,
    instance: dg.DagsterInstance,
    rules: AlertRules,
    organization_id: str,
    now: dt.datetime,
    reported_runs: Iterable[str] = (),
) -> store.MergeResult:
    """Decide access_lost, stale_data and run_failed (those switched on) and merge them
    into sightlines.alerts as seen today."""
    decided = rules.enabled(OPERATIONAL_KINDS)
    names = {k.name for k in decided}
    findings = []
    if "access_lost" in names:
        findings += operational.access_lost(organization_id, access_checks(instance))
    if "stale_data" in names:
        findings += operational.stale_data(
            organization_id, now, rules.stale_hour, daily_tables(instance)
        )
    if "run_failed" in names:
        findings += operational.run_failed(
            organization_id, failed_runs(instance, now, reported_runs)
        )
    return store.merge(conn, findings, decided, now.date())
