"""Child process: one real Dagster run of the pipeline, timed, with its peak RSS.

    python -m benchmarks.pipeline_runs inventory
    python -m benchmarks.pipeline_runs backfill 2025-11-26 2026-11-25
    python -m benchmarks.pipeline_runs partitions 2026-05-01 2026-05-02 ...   (one run each)
    python -m benchmarks.pipeline_runs daily 2026-11-26 --inputs-dir DIR

The parent sets the sandbox environment (OPENAI_*, KSCOPE_SANDBOX, KSCOPE_DUCKDB_PATH)
before this process starts, so the resources are `build_resources()` of exactly that
environment, as in production, and the jobs are the project's own (`openai_inventory_job`,
`openai_daily_job` with the partition-range tags a UI backfill sets, `daily_refresh_job`
with the tags the `daily_refresh` schedule computes). Runs use an ephemeral instance
(nothing is written to the user's DAGSTER_HOME) and the in-process executor.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

from benchmarks.measure import cpu_seconds, current_rss_mb, emit, peak_rss_mb

_BEGAN = time.perf_counter()

import dagster as dg  # noqa: E402  (timed: import cost is reported separately)

from kscope_openai_pipeline.defs.operations import refresh  # noqa: E402


def _definitions() -> dg.Definitions:
    """The project's Definitions; its resources are `build_resources()` of this process's
    environment, which the parent set before the process started."""
    from kscope_openai_pipeline.definitions import defs

    return defs


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall seconds of each step (STEP_START to STEP_SUCCESS/FAILURE) from the event log."""
    starts: dict[str, float] = {}
    out: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            out[event.step_key] = round(entry.timestamp - starts.get(event.step_key, 0.0), 2)
    return out


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Per asset: the numbers its materialization metadata reports (rows, requests, ...).

    A range run records one materialization per partition: the run-level figures are the
    same on each, `partition_rows` sums the per-day row counts.
    """
    out: dict[str, dict[str, Any]] = {}
    wanted = ("dagster/row_count", "rows_in_window", "requests", "retries", "pages", "days",
              "days_skipped_before_first_data")
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat is None:
            continue
        meta = {k: v.value for k, v in mat.metadata.items() if k in wanted}
        name = "/".join(mat.asset_key.path)
        seen = out.setdefault(name, {"materializations": 0, "partition_rows": 0})
        seen["materializations"] += 1
        seen["partition_rows"] += int(meta.get("dagster/row_count") or 0)
        seen.update(meta)
    return out


def _execute(
    job_name: str,
    tags: dict[str, str],
    partition_key: str | None = None,
    run_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    defs = _definitions()
    job = defs.resolve_job_def(job_name)
    imported = time.perf_counter() - _BEGAN
    rss_before = current_rss_mb()
    instance = dg.DagsterInstance.ephemeral()
    began, cpu = time.perf_counter(), cpu_seconds()
    result = job.execute_in_process(
        instance=instance,
        tags=tags,
        partition_key=partition_key,
        run_config=run_config,
        raise_on_error=True,
    )
    wall = time.perf_counter() - began
    return {
        "job": job_name,
        "tags": tags,
        "success": result.success,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "import_seconds": round(imported, 2),
        "rss_before_run_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "steps": _step_seconds(instance, result.run_id),
        "assets": _materializations(result),
    }


def _range_tags(first: date, last: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def _daily(
    today: date, inputs_dir: str | None, subscription_patterns: list[str] | None = None
) -> dict[str, Any]:
    """The scheduled run of `today`: the schedule's own RunRequest, then the job.

    `subscription_patterns` overrides the sightlines' default seat line-item patterns
    through run config (what a user would set in the launchpad)."""
    loaded: dict[str, int] = {}
    if inputs_dir:
        import os
        from pathlib import Path

        from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
        from kscope_openai_pipeline.kscope_inputs.loader import load_inputs
        from kscope_openai_pipeline.settings import duckdb_path

        files = {p.stem: p for p in Path(inputs_dir).glob("*.csv")}
        with WarehouseResource(database=duckdb_path()).get_connection() as conn:
            loaded = load_inputs(conn, files,
                                 organization_id=os.environ["OPENAI_ORGANIZATION_ID"])
    moment = datetime.combine(today, dtime(2, 0), tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=moment)
    request = refresh.daily_refresh(context)
    assert isinstance(request, dg.RunRequest)
    run_config = None
    if subscription_patterns:
        run_config = {
            "ops": {"sightlines": {"config": {"subscription_patterns": subscription_patterns}}}
        }
    figures = _execute("daily_refresh_job", dict(request.tags), run_config=run_config)
    figures["inputs_loaded"] = loaded
    figures["subscription_patterns"] = subscription_patterns
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("inventory", "backfill", "partitions", "daily"))
    parser.add_argument("days", nargs="*", type=date.fromisoformat)
    parser.add_argument("--inputs-dir", default=None)
    parser.add_argument("--subscription-patterns", nargs="*", default=None)
    args = parser.parse_args()
    if args.mode == "inventory":
        emit(_execute("openai_inventory_job", {}))
    elif args.mode == "backfill":
        first, last = args.days
        emit(_execute("openai_daily_job", _range_tags(first, last)))
    elif args.mode == "partitions":
        runs = [_execute("openai_daily_job", {}, partition_key=d.isoformat()) for d in args.days]
        emit({"runs": runs, "peak_rss_mb": peak_rss_mb()})
    else:
        (today,) = args.days
        emit(_daily(today, args.inputs_dir, args.subscription_patterns))


if __name__ == "__main__":
    main()
