"""Findings about the pipeline itself, from plain records: lost access, stale data and
failed runs (the Dagster tests feed them what Dagster really recorded)."""

from __future__ import annotations

import datetime as dt

from kscope_openai_pipeline.alerts import operational as op
from kscope_openai_pipeline.alerts.findings import from_json

ORG = "org-test"
OK = op.Probe("GET /organization/costs", "ok", 200, True)
DENIED = op.Probe("GET /organization/costs", "denied (403)", 403, False)
INVALID = op.Probe("GET /organization/costs", "invalid key (401)", 401, False)
UNREACHABLE = op.Probe("GET /organization/costs", "unreachable", None, False)


def check(hour: int, **probes: op.Probe) -> op.AccessCheck:
    return op.AccessCheck(dt.datetime(2026, 11, 20 + hour // 24, hour % 24), probes)


def test_access_is_lost_when_an_endpoint_that_answered_ok_now_answers_401_or_403() -> None:
    checks = [
        check(2, costs=OK, usage=OK, audit=DENIED),
        check(26, costs=UNREACHABLE, usage=OK, audit=DENIED),
        check(50, costs=DENIED, usage=INVALID, audit=DENIED),
        check(74, costs=DENIED, usage=INVALID, audit=DENIED),
    ]
    found = {f.subject: f for f in op.access_lost(ORG, checks)}
    # audit: never readable, a setup problem the check reports, not a loss
    assert sorted(found) == ["costs", "usage"]
    assert found["costs"].first_seen_date == dt.date(2026, 11, 22)  # first denial after ok
    assert from_json(found["usage"].details) == {
        "permission": "usage", "endpoint": "GET /organization/costs",
        "result": "invalid key (401)", "status": 401,
        "last_ok_at": "2026-11-21T02:00:00", "checked_at": "2026-11-23T02:00:00",
    }  # fmt: skip
    # answered again: no finding, so the merge resolves it
    assert op.access_lost(ORG, [*checks, check(98, costs=OK, usage=OK)]) == []
    # an unreachable API is not lost access
    assert op.access_lost(ORG, [check(2, costs=OK), check(26, costs=UNREACHABLE)]) == []
    assert op.access_lost(ORG, []) == []


def test_the_required_day_is_yesterday_once_the_hour_has_passed() -> None:
    at = dt.datetime
    assert op.required_day(at(2026, 12, 2, 9, 0), 9) == dt.date(2026, 12, 1)
    assert op.required_day(at(2026, 12, 2, 8, 59), 9) == dt.date(2026, 11, 30)
    assert op.required_day(at(2026, 12, 3, 1, 0), 9) == dt.date(2026, 12, 1)
    assert op.required_day(at(2026, 12, 2, 0, 0), 0) == dt.date(2026, 12, 1)


def test_a_table_is_stale_until_its_required_day_is_stored() -> None:
    days = frozenset(dt.date(2026, 11, d) for d in range(1, 31))
    usage = op.DailyTable("openai/usage", "openai.usage", days)
    costs = op.DailyTable("openai/costs", "openai.costs", days | {dt.date(2026, 12, 1)})
    never = op.DailyTable("openai/x", "openai.x", frozenset())
    now = dt.datetime(2026, 12, 2, 9, 30)
    (stale,) = op.stale_data(ORG, now, 9, [usage, costs, never])
    assert (stale.kind, stale.subject, stale.first_seen_date) == (
        "stale_data", "openai/usage", dt.date(2026, 12, 2)
    )  # fmt: skip
    assert from_json(stale.details) == {
        "table": "openai.usage", "missing_day": "2026-12-01",
        "deadline": "2026-12-02 09:00 UTC", "last_stored_day": "2026-11-30",
    }  # fmt: skip
    # before the hour, the day before yesterday is what must be there: it is
    assert op.stale_data(ORG, dt.datetime(2026, 12, 2, 8, 0), 9, [usage]) == []


def test_each_failed_run_is_one_finding_with_its_first_error_line() -> None:
    run = op.FailedRun("run-1", "daily_refresh_job", dt.datetime(2026, 11, 30, 2, 5),
                       ("openai__access_check",), "x" * 600)  # fmt: skip
    (finding,) = op.run_failed(ORG, [run])
    assert (finding.subject, finding.first_seen_date) == ("run-1", dt.date(2026, 11, 30))
    details = from_json(finding.details)
    assert details["error"] == "x" * op.ERROR_CHARS
    assert details["failed_steps"] == ["openai__access_check"]
