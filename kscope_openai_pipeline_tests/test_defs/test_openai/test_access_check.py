"""The access check first in the daily job, and the organization every row is stamped with,
in real Dagster runs over real HTTP into a real DuckDB file.

- a key that lost a scope fails the run at `openai/access_check` with the table, before
  any table is touched; all fine, it costs exactly its seven probes;
- the organization: setting only, header only, cost rows only, neither (today's message),
  and a setting the API contradicts (both named), with and without the access check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.openai.access import access_check
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.demo import sandbox_environment
from kscope_openai_pipeline.openai_admin.organization import NOT_SET
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY,
    INVENTORY,
    RANGE_END_TAG,
    RANGE_START_TAG,
    merged_requests,
    minimum_access_check_requests,
    minimum_audit_log_requests,
    minimum_daily_requests,
    minimum_inventory_requests,
    query,
    requests_per_path,
)

ORG = "org-sandbox7"
#: The access check's probes, one request each, by path (the project keys' path varies).
PROBE_PATHS = ["/organization/admin_api_keys", "/organization/projects", None,
               "/organization/users", "/organization/usage/completions", "/organization/costs",
               "/organization/audit_logs"]  # fmt: skip
PROJECTS = next(a for a in INVENTORY if dg.AssetKey(["openai", "projects"]) in a.keys)
COSTS = next(a for a in DAILY if a.key == dg.AssetKey(["openai", "costs"]))


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """start(**sandbox options, organization=setting) -> the sandbox, env set for it."""
    started: list[Sandbox] = []

    def start(organization: str | None = "same", **options) -> Sandbox:
        sb = Sandbox.start(seed=7, size="tiny", **options)
        started.append(sb)
        for name, value in sandbox_environment(sb).items():
            monkeypatch.setenv(name, value)
        if organization is None:
            monkeypatch.delenv("OPENAI_ORGANIZATION_ID")
        elif organization != "same":
            monkeypatch.setenv("OPENAI_ORGANIZATION_ID", organization)
        monkeypatch.setenv("KSCOPE_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
        return sb

    yield start
    for sb in started:
        sb.stop()


def last_days(sb: Sandbox, n: int) -> tuple[date, date]:
    last = gt.to_date(sb.org.end_day) - timedelta(days=1)
    return last - timedelta(days=n - 1), last


def refresh(first: date, last: date) -> dg.ExecuteInProcessResult:
    """daily_refresh_job over first..last, as the schedule runs it."""
    return defs.resolve_job_def("daily_refresh_job").execute_in_process(
        resources=build_resources(),
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
        raise_on_error=False,
    )


def materialize(assets, first: date, last: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets,
        resources=build_resources(),
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
        raise_on_error=False,
    )


def failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        e.step_key: e.step_failure_data.error.message
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    }


def steps_started(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]


def test_a_key_that_lost_a_scope_fails_the_daily_run_first_with_the_table(
    run_env, tmp_path: Path
) -> None:
    sb = run_env(deny_scopes=["api.usage.read"])
    first, last = last_days(sb, 2)

    result = refresh(first, last)

    assert not result.success
    assert steps_started(result) == ["openai__access_check"]  # nothing else ran
    (message,) = failures(result).values()
    assert "2 of 6 required permissions are not ok: read:usage, read:costs." in message
    assert "permission                 endpoint probed" in message
    assert (
        "read:usage                 GET /organization/usage/completions (2026-11-25)"
        in message
    )
    assert "the key lacks api.usage.read" in message
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.user_failure_data.metadata["requests"].value == 7
    assert len(sb.requests) == 7  # the probes, not one retry
    assert not (tmp_path / "warehouse.duckdb").exists()  # no table touched


def test_all_fine_the_access_check_costs_exactly_its_seven_probes(run_env) -> None:
    sb = run_env()
    first, last = last_days(sb, 3)

    result = refresh(first, last)

    assert result.success, failures(result)
    assert steps_started(result)[0] == "openai__access_check"
    served = sb.requests
    assert [r.path for r in served[:7]] == [
        p or f"/organization/projects/{sb.org.projects[0].id}/api_keys" for p in PROBE_PATHS
    ]
    expected = merged_requests(
        minimum_access_check_requests(sb.org),  # the only requests the check adds
        minimum_inventory_requests(sb.org),
        minimum_daily_requests(first, last),
        minimum_audit_log_requests(sb.org, first, last),
    )
    assert requests_per_path(served) == expected
    materialized = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    check = materialized["openai/access_check"]
    assert (check["organization_id"].value, check["requests"].value) == (ORG, 7)
    assert "| read:usage | GET /organization/usage/completions" in check["permissions"].value


def test_audit_logging_off_does_not_stop_the_run(run_env) -> None:
    sb = run_env(audit_logging=False)
    first, last = last_days(sb, 1)
    result = materialize([access_check, PROJECTS], first, last)
    assert result.success, failures(result)
    check = next(
        e.materialization.metadata for e in result.get_asset_materialization_events()
        if e.asset_key == access_check.key
    )  # fmt: skip
    assert "| read:audit_log (optional) | GET /organization/audit_logs?limit=1 | not enabled |" in (
        check["permissions"].value
    )


# --------------------------------------------------------------------- the organization

STAMPED = "SELECT DISTINCT organization_id FROM openai.projects UNION " \
          "SELECT DISTINCT organization_id FROM openai.costs ORDER BY 1"  # fmt: skip


@pytest.mark.parametrize("with_access_check", [True, False], ids=["checked", "alone"])
@pytest.mark.parametrize(
    ("setting", "header", "cost_rows", "identify"),
    [
        ("same", False, False, 0),  # setting only: never asks
        (None, True, False, 1),  # header only
        (None, False, True, 1),  # cost rows only
        ("same", True, True, 0),  # setting and API agree
    ],
    ids=["setting-only", "header-only", "cost-rows-only", "agreeing"],
)
def test_rows_are_stamped_with_the_organization_from_wherever_it_is_said(
    run_env, tmp_path: Path, setting, header, cost_rows, identify, with_access_check
) -> None:
    sb = run_env(organization=setting, organization_header=header,
                 organization_in_costs=cost_rows)  # fmt: skip
    first, last = last_days(sb, 2)
    assets = [access_check, PROJECTS, COSTS] if with_access_check else [PROJECTS, COSTS]

    result = materialize(assets, first, last)

    assert result.success, failures(result)
    assert query(tmp_path / "warehouse.duckdb", STAMPED) == [(ORG,)]
    extra = 7 if with_access_check else identify  # the probes, or one identifying request
    assert len(sb.requests) == extra + 2  # + one projects page, one costs page


@pytest.mark.parametrize("with_access_check", [True, False], ids=["checked", "alone"])
def test_nothing_names_the_organization_fails_with_todays_message(
    run_env, tmp_path: Path, with_access_check: bool
) -> None:
    sb = run_env(organization=None, organization_header=False, organization_in_costs=False)
    first, last = last_days(sb, 1)
    assets = [access_check, PROJECTS] if with_access_check else [PROJECTS]

    result = materialize(assets, first, last)

    assert not result.success
    (message,) = failures(result).values()
    assert message.strip().endswith(NOT_SET)
    assert not (tmp_path / "warehouse.duckdb").exists()


@pytest.mark.parametrize("with_access_check", [True, False], ids=["checked", "alone"])
def test_a_setting_the_api_contradicts_fails_naming_both(
    run_env, tmp_path: Path, with_access_check: bool
) -> None:
    sb = run_env(organization="org-expected")
    first, last = last_days(sb, 1)
    assets = [access_check, PROJECTS] if with_access_check else [PROJECTS]

    result = materialize(assets, first, last)

    assert not result.success
    (step, message), = failures(result).items()
    assert step == ("openai__access_check" if with_access_check else "openai__projects")
    assert "OPENAI_ORGANIZATION_ID is org-expected but the Admin API says org-sandbox7" in message
    assert "the openai-organization header" in message
    db = tmp_path / "warehouse.duckdb"
    if with_access_check:
        assert len(sb.requests) == 7
        assert not db.exists()  # failed before any asset opened the warehouse
    else:
        assert [r.path for r in sb.requests] == ["/organization/projects"]  # first response
        assert query(db, "SELECT COUNT(*) FROM openai.projects") == [(0,)]


def test_cost_rows_contradicting_the_setting_fail_the_access_check(run_env, tmp_path: Path) -> None:
    sb = run_env(organization="org-expected", organization_header=False)
    first, last = last_days(sb, 1)
    result = materialize([access_check, PROJECTS], first, last)
    assert not result.success
    (message,) = failures(result).values()
    assert "OPENAI_ORGANIZATION_ID is org-expected but the Admin API says org-sandbox7 " \
           "(cost rows)" in message  # fmt: skip
    assert len(sb.requests) == 7
