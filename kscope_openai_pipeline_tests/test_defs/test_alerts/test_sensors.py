"""How the alerts are wired: the sensors on by default and what starts a delivery, the
delivery in the writer pool, the alerts asset beside the sightlines."""

from __future__ import annotations

import dagster as dg
import pytest

from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.alerts.assets import ALERTS_KEY
from kscope_openai_pipeline.defs.alerts.sensors import NotifierCursor
from kscope_openai_pipeline.defs.policies import WRITER_POOL
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import AlertsWorld


def test_the_sensors_run_by_default_and_start_the_delivery_job() -> None:
    for name in ("alerts_notifier", "alerts_on_run_failure"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.minimum_interval_seconds == 30
        assert sensor.job_name == "alerts_notify_job"
    job = defs.resolve_job_def("alerts_notify_job")
    assert {node.definition.pool for node in job.graph.node_dict.values()} == {WRITER_POOL}
    graph = defs.resolve_asset_graph()
    node = graph.get(ALERTS_KEY)
    assert node.pools == {WRITER_POOL}
    assert node.group_name == "sightlines"  # in sightlines_job and the daily refresh
    refresh = defs.resolve_job_def("daily_refresh_job")
    assert ALERTS_KEY in refresh.asset_layer.selected_asset_keys
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == ALERTS_KEY}
    assert checks == {f"no_open_{kind}" for kind in (
        "new_bypass_key", "bypass_spend", "reconciliation_gap", "unattributed_member",
        "access_lost", "stale_data",
    )}  # fmt: skip  # failed runs are events: never open, no check


def test_the_notifier_waits_while_a_delivery_is_queued_or_running(
    world: AlertsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KSCOPE_ALERTS_DISABLED", "stale_data")
    running = world.instance.create_run_for_job(
        job_def=defs.resolve_job_def("alerts_notify_job"), status=dg.DagsterRunStatus.STARTED
    )
    tick = world.tick()
    assert not tick.run_requests and "queued or running" in tick.skip_message
    assert world.cursor is None  # nothing consumed: the next tick looks again
    world.instance.delete_run(running.run_id)
    (request,) = world.tick().run_requests
    assert request.tags["kscope/alerts_reason"] == "webhook configured"
    assert NotifierCursor.parse(world.cursor) == NotifierCursor(webhook=True)
    assert not world.tick().run_requests
