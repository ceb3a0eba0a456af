"""Findings about the pipeline itself, decided from what the orchestrator recorded.

The warehouse cannot tell that a permission was lost (the run stops before writing), that
yesterday never arrived (nothing was written), or that a run failed: the orchestrator's
records can. The Dagster layer reads those records into the plain values below; these
functions decide the findings, so the rules are testable without Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kscope_openai_pipeline.alerts.findings import Finding, to_json
from kscope_openai_pipeline.alerts.kinds import ACCESS_LOST, RUN_FAILED, STALE_DATA

#: HTTP statuses that mean the key may no longer read an endpoint.
LOST_STATUSES = (401, 403)
#: The longest error text kept in a run_failed finding (the run's page has the rest).
ERROR_CHARS = 500


@dataclass(frozen=True)
class Probe:
    """One permission's answer in one access check."""

    endpoint: str
    result: str
    status: int | None
    ok: bool


@dataclass(frozen=True)
class AccessCheck:
    """One access check: when, and each permission's answer."""

    checked_at: dt.datetime
    probes: Mapping[str, Probe]


def access_lost(organization_id: str, checks: Sequence[AccessCheck]) -> list[Finding]:
    """Permissions whose latest answer is 401/403 although an earlier check was ok.

    `checks` oldest first. The finding starts with the first denial after the last ok.
    """
    if not checks:
        return []
    findings = []
    for permission, latest in sorted(checks[-1].probes.items()):
        if latest.status not in LOST_STATUSES:
            continue
        history = [(c.checked_at, c.probes.get(permission)) for c in checks]
        ok_times = [at for at, probe in history if probe is not None and probe.ok]
        if not ok_times:
            continue  # never readable: a setup problem the access check already reports
        last_ok = max(ok_times)
        first_lost = min(
            at
            for at, probe in history
            if at > last_ok and probe is not None and probe.status in LOST_STATUSES
        )
        findings.append(
            Finding(
                organization_id,
                ACCESS_LOST.name,
                permission,
                first_lost.date(),
                to_json(
                    {
                        "permission": permission,
                        "endpoint": latest.endpoint,
                        "result": latest.result,
                        "status": latest.status,
                        "last_ok_at": last_ok,
                        "checked_at": checks[-1].checked_at,
                    }
                ),
            )
        )
    return findings


def required_day(now: dt.datetime, hour: int) -> dt.date:
    """The latest day that must be stored by `now`: day D is due at D+1, `hour`:00 UTC."""
    return (now - dt.timedelta(hours=hour)).date() - dt.timedelta(days=1)


@dataclass(frozen=True)
class DailyTable:
    """A daily table and the days stored in it (its materialized partitions)."""

    asset: str  # e.g. 'openai/usage'
    table: str  # e.g. 'openai.usage'
    stored: frozenset[dt.date]


def stale_data(
    organization_id: str, now: dt.datetime, hour: int, tables: Iterable[DailyTable]
) -> list[Finding]:
    """Tables whose required day (`required_day`) is not stored. A table with nothing
    stored at all is not stale: it was never crawled (a new install)."""
    day = required_day(now, hour)
    deadline = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hour))
    return [
        Finding(
            organization_id,
            STALE_DATA.name,
            t.asset,
            deadline.date(),
            to_json(
                {
                    "table": t.table,
                    "missing_day": day,
                    "deadline": f"{deadline:%Y-%m-%d %H:%M} UTC",
                    "last_stored_day": max(t.stored),
                }
            ),
        )
        for t in tables
        if t.stored and day not in t.stored
    ]


@dataclass(frozen=True)
class FailedRun:
    """A failed run of one of the pipeline's jobs."""

    run_id: str
    job_name: str
    failed_at: dt.datetime
    failed_steps: tuple[str, ...]
    error: str


def run_failed(organization_id: str, runs: Iterable[FailedRun]) -> list[Finding]:
    """One finding per failed run (an event: it never resolves)."""
    return [
        Finding(
            organization_id,
            RUN_FAILED.name,
            run.run_id,
            run.failed_at.date(),
            to_json(
                {
                    "job_name": run.job_name,
                    "failed_at": run.failed_at,
                    "failed_steps": list(run.failed_steps),
                    "error": run.error[:ERROR_CHARS],
                }
            ),
        )
        for run in runs
    ]
