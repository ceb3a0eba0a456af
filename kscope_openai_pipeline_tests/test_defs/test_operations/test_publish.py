"""Handing the warehouse file over: between assets, to other processes, to analysts.

No DuckDB file lock outlives the asset that took it.

`warehouse.connect` shares one attachment per file and process and releases it when the
last connection handed out is garbage-collected. If an asset kept its connection alive,
the next asset would find two, and after the run the file would stay locked against the
sensor's publish and the next run (other processes).
"""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.operations import publish
from kscope_openai_pipeline.warehouse import connection
from kscope_openai_pipeline_tests.helpers.pipeline import DAILY, INVENTORY, Pipeline, table_rows

WRITERS = ("replace_table", "replace_window_streaming")


def test_each_asset_holds_the_only_connection_and_the_run_releases_the_file(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an asset writes, the file's connections are its own and the run's (the
    resource keeps the attachment from the first step to the end of the run): no asset
    leaves one behind, and after the run nothing holds the file."""
    path = pipeline.db_path.resolve()
    open_when_writing: list[tuple[str, int]] = []
    for name in WRITERS:
        writer = getattr(warehouse, name)

        def spy(conn, table, *args, _writer=writer, **kwargs):
            open_when_writing.append((table, connection._ANCHORS[path].live))
            return _writer(conn, table, *args, **kwargs)

        monkeypatch.setattr(warehouse, name, spy)

    result = pipeline.materialize([*INVENTORY, *DAILY], pipeline.day(13), pipeline.day(15))

    assert result.success
    assert sorted(open_when_writing) == sorted(
        (asset.metadata_by_key[key]["dagster/table_name"], 2)
        for asset in [*INVENTORY, *DAILY]
        for key in asset.keys
        if not key.path[-1].endswith("_history")  # merged in the snapshot's transaction
    )
    assert connection._ANCHORS == {}  # released at once, no garbage collection needed
    probe = f"import duckdb; duckdb.connect({str(path)!r}).close()"
    other_process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert other_process.returncode == 0, other_process.stderr


def test_publish_sensor_copies_the_warehouse_after_a_successful_run(pipeline: Pipeline) -> None:
    """The run-status sensor's body, on the SUCCESS event of a real run: the analyst copy
    appears, opens read-only and holds exactly the warehouse's rows."""
    instance = dg.DagsterInstance.ephemeral()
    result = pipeline.materialize(DAILY, pipeline.day(13), pipeline.day(14), instance=instance)
    (success,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    analyst = pipeline.db_path.with_name("kscope_analytics.duckdb")
    assert not analyst.exists()
    context = dg.build_run_status_sensor_context(
        sensor_name="publish_analyst_copy",
        dagster_event=success.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    )

    assert publish.publish_analyst_copy(context) is None

    conn = warehouse.open_analyst(analyst)
    try:
        for table in ("openai.usage", "openai.costs", "openai.api_key_costs"):
            copied = conn.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            assert copied == table_rows(pipeline.db_path, table), table
    finally:
        conn.close()
        del conn
