"""The sightlines follow their upstream: real runs against the sandbox, then Dagster's own
evaluation of the automation conditions (what `sightlines_automation` does every tick).

- a run that updates the inputs and the sightlines together (the daily refresh) requests
  nothing more;
- a backfill of the daily assets alone requests exactly the four sightlines and the
  alerts that read them, once, in one run;
- a load of the Kscope inputs (recorded as runless materializations) requests them too.
"""

from __future__ import annotations

import dagster as dg

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.kscope.loads import record_input_loads
from kscope_openai_pipeline.defs.sightlines.automation import sightlines_automation
from kscope_openai_pipeline.demo import load_sandbox_inputs
from kscope_openai_pipeline_tests.helpers.pipeline import (
    DAILY,
    RANGE_END_TAG,
    RANGE_START_TAG,
    Pipeline,
)

SIGHTLINE_KEYS = {
    dg.AssetKey(["sightlines", name])
    for name in (
        "gateway_bypass", "billing_reconciliation", "seat_allocation", "seat_governance",
        "gateway_bypass_daily", "seat_governance_daily", "alerts",
    )
}  # fmt: skip


def _requested(result: dg.EvaluateAutomationConditionsResult) -> set[dg.AssetKey]:
    return {
        r.key for r in result.results if isinstance(r.key, dg.AssetKey) and r.true_subset.size
    }


def test_the_sightlines_follow_a_backfill_once_and_not_the_daily_refresh(
    pipeline: Pipeline,
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    loaded = load_sandbox_inputs(pipeline.sandbox, 7, "tiny", pipeline.db_path)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert _requested(tick) == set()  # the first evaluation only takes stock

    # the daily refresh computes inputs and sightlines in one run: nothing left to do
    first, last = pipeline.day(10), pipeline.day(12)
    refresh = defs.resolve_job_def("daily_refresh_job").execute_in_process(
        resources=pipeline.resources,
        instance=instance,
        tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
    )
    assert refresh.success
    assert {e.asset_key for e in refresh.get_asset_materialization_events()} >= SIGHTLINE_KEYS
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(tick) == set()

    # a backfill of the daily assets alone (what the UI launches): the sightlines, once
    backfill = pipeline.materialize(DAILY, pipeline.day(13), pipeline.day(15), instance=instance)
    assert backfill.success
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(tick) == SIGHTLINE_KEYS
    assert all(tick.get_requested_partitions(k) == {None} for k in SIGHTLINE_KEYS)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(tick) == set()

    # a load of the Kscope inputs, recorded in Dagster: the sightlines again
    conn = warehouse.connect(pipeline.db_path)
    try:
        record_input_loads(instance, conn, loaded, "test files")
    finally:
        warehouse.disconnect(conn)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(tick) == SIGHTLINE_KEYS


def test_the_automation_sensor_targets_the_sightlines_and_runs_by_default() -> None:
    sensor = defs.resolve_sensor_def("sightlines_automation")
    assert sensor is sightlines_automation
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    conditioned = {k for k in graph.materializable_asset_keys if graph.get(k).automation_condition}
    assert conditioned == SIGHTLINE_KEYS
    assert sensor.asset_selection.resolve(graph) == SIGHTLINE_KEYS


def test_inputs_loaded_into_a_warehouse_without_usage_or_costs_request_nothing(
    pipeline: Pipeline,
) -> None:
    """The sightlines need a day of usage or costs: no run bound to fail is started."""
    instance = dg.DagsterInstance.ephemeral()
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    loaded = load_sandbox_inputs(pipeline.sandbox, 7, "tiny", pipeline.db_path)
    conn = warehouse.connect(pipeline.db_path)
    try:
        record_input_loads(instance, conn, loaded, "test files")
    finally:
        warehouse.disconnect(conn)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(tick) == set()
