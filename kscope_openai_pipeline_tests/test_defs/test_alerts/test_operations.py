"""Alerts about the pipeline itself, from what Dagster recorded in real runs: a permission
the admin key lost (the access check's observations), the failed run it causes (the
run-failure sensor), and their resolution once access is back.
"""

from __future__ import annotations

import dagster as dg
import pytest

from kscope_openai_pipeline.defs.alerts.sensors import alerts_on_run_failure
from kscope_openai_pipeline.defs.openai.access import access_check
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers.pipeline import RANGE_END_TAG, RANGE_START_TAG
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import EARLY_END, AlertsWorld
from kscope_openai_pipeline_tests.test_defs.test_alerts.test_flow import sent

LOST = [("new", "access_lost", "read:costs"), ("new", "access_lost", "read:usage")]


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "KSCOPE_ALERTS_DISABLED",
        "stale_data,new_bypass_key,bypass_spend,unattributed_member,reconciliation_gap",
    )


def check_access(world: AlertsWorld) -> dg.ExecuteInProcessResult:
    result = dg.materialize([access_check], resources=build_resources(), instance=world.instance,
                            raise_on_error=False)  # fmt: skip
    world.runs.append(result)
    return result


def failure_sensor(world: AlertsWorld, result: dg.ExecuteInProcessResult):
    """What `alerts_on_run_failure` does on the run's RUN_FAILURE event."""
    (failure,) = world.instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="alerts_on_run_failure",
        dagster_event=failure.dagster_event,
        dagster_instance=world.instance,
        dagster_run=world.instance.get_run_by_id(result.run_id),
    ).for_run_failure()
    return alerts_on_run_failure(context)


def test_a_lost_scope_is_one_alert_per_endpoint_plus_the_failed_run_and_resolves(
    world: AlertsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_access(world).success  # every endpoint answers ok: the baseline

    with Sandbox.start(seed=7, size="tiny", deny_scopes=["api.usage.read"]) as denied:
        monkeypatch.setenv("OPENAI_BASE_URL", denied.base_url)
        day = EARLY_END.isoformat()
        failed = world.run_job("daily_refresh_job", {RANGE_START_TAG: day, RANGE_END_TAG: day})
    assert not failed.success
    request = failure_sensor(world, failed)
    assert request.run_key == f"run-failed-{failed.run_id}"
    assert world.run_job("alerts_notify_job", request.tags).success

    messages = sent(world.hook.accepted)
    assert sorted(messages) == [*LOST, ("new", "run_failed", failed.run_id)]
    run_message = world.hook.accepted[messages.index(("new", "run_failed", failed.run_id))]
    assert run_message["text"] == (
        f":rotating_light: [HIGH] Run {failed.run_id} of daily_refresh_job failed "
        "(openai__access_check): 2 of 6 required permissions are not ok: read:usage, "
        "read:costs."
    )
    lost = world.hook.accepted[messages.index(LOST[1])]
    assert "GET /organization/usage/completions" in lost["text"]
    assert "denied (403)" in lost["text"]

    # the sensor seeing the same failure again (a daemon restart): nothing is sent twice
    again = failure_sensor(world, failed)
    assert again.run_key == request.run_key
    assert world.run_job("alerts_notify_job", again.tags).success
    assert len(world.hook.accepted) == 3

    # access back (the sandbox that allows everything): the next run resolves both
    monkeypatch.setenv("OPENAI_BASE_URL", world.crawl.sandbox.base_url)
    assert check_access(world).success
    world.sightlines()
    assert world.notify() == 2
    assert sorted(sent(world.hook.accepted[3:])) == [("resolved", k, s) for _, k, s in LOST]
    assert world.notify() == 0


def test_the_delivery_jobs_own_failure_is_not_an_alert(
    world: AlertsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KSCOPE_ALERT_STALE_HOUR", "nine")
    failed = world.run_job("alerts_notify_job")
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "KSCOPE_ALERT_STALE_HOUR must be a number, got 'nine'" in (
        failure.step_failure_data.error.cause.message
    )
    result = failure_sensor(world, failed)
    assert isinstance(result, dg.SkipReason)
    assert "its own failures are not alerts" in result.skip_message
