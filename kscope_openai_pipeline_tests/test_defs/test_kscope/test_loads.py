"""A load of the Kscope inputs recorded in a real Dagster instance: one runless
materialization per loaded table (row counts, source) and its `valid_rows` check evaluated
on the stored rows and attached to that materialization, as the UI shows them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.dagster_home import INSTANCE_CONFIG
from kscope_openai_pipeline.defs.kscope.loads import describe, record_input_loads
from kscope_openai_pipeline.demo import write_sandbox_inputs
from kscope_openai_pipeline.kscope_inputs.loader import load_inputs
from kscope_openai_pipeline.sandbox.org import build_org

ORG = build_org(7, "tiny")
ROWS = {
    "kscope.dev_tokens": len(ORG.dev_tokens),
    "kscope.gateway_costs": len(ORG.gateway_costs),
    "kscope.engineers": len(ORG.engineers),
}


@pytest.fixture
def instance(tmp_path: Path) -> dg.DagsterInstance:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(INSTANCE_CONFIG)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def _load(tmp_path: Path, kinds: tuple[str, ...]) -> tuple[Path, dict[str, int]]:
    db = tmp_path / "data" / "kscope.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    files = write_sandbox_inputs(7, "tiny", tmp_path / "inputs")
    conn = warehouse.connect(db)
    try:
        written = load_inputs(
            conn, {k: files[k] for k in kinds}, organization_id=ORG.organization_id
        )
    finally:
        warehouse.disconnect(conn)
    return db, written


def _record(instance: dg.DagsterInstance, db: Path, written: dict[str, int]):
    conn = warehouse.connect(db)
    try:
        return record_input_loads(instance, conn, written, "inputs/*.csv")
    finally:
        warehouse.disconnect(conn)


def test_each_loaded_table_is_materialized_with_its_check_passed(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    db, written = _load(tmp_path, ("dev_tokens", "gateway_costs", "engineers"))
    assert written == ROWS
    recorded = _record(instance, db, written)
    assert describe(recorded) == (
        "Recorded in Dagster: kscope/dev_tokens, kscope/gateway_costs, kscope/engineers "
        "materialized; valid_rows passed 3 of 3"
    )
    assert instance.get_runs() == []  # runless: nothing queued, no run in the history
    for table, rows in ROWS.items():
        key = dg.AssetKey(["kscope", table.split(".")[1]])
        (materialization,) = instance.fetch_materializations(key, limit=10).records
        metadata = materialization.asset_materialization.metadata
        assert metadata["dagster/row_count"] == dg.MetadataValue.int(rows)
        assert metadata["rows_loaded"] == dg.MetadataValue.int(rows)
        assert metadata["source"] == dg.MetadataValue.text("inputs/*.csv")
        check = dg.AssetCheckKey(key, "valid_rows")
        (execution,) = instance.event_log_storage.get_asset_check_execution_history(check, 10)
        evaluation = execution.evaluation
        assert (evaluation.passed, evaluation.blocking) == (True, True)
        assert evaluation.metadata["rows"] == dg.MetadataValue.int(rows)
        assert evaluation.target_materialization_data.storage_id == materialization.storage_id
        assert evaluation.description == (
            f"Every stored row of {table} passes its pandera model."
        )


def test_only_the_loaded_tables_are_recorded_and_a_bad_stored_row_fails_the_check(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """The check reads what is stored (every organization's rows), as the UI's would."""
    db, written = _load(tmp_path, ("gateway_costs",))
    conn = warehouse.connect(db)
    try:
        conn.execute(
            "INSERT INTO kscope.gateway_costs SELECT * REPLACE ('org-other' AS organization_id, "
            "-1.5 AS cost_usd) FROM kscope.gateway_costs LIMIT 1"
        )
    finally:
        warehouse.disconnect(conn)
    (recorded,) = _record(instance, db, written)
    assert (recorded.asset_key, recorded.rows, recorded.check_passed) == (
        dg.AssetKey(["kscope", "gateway_costs"]),
        len(ORG.gateway_costs),
        False,
    )
    for other in ("dev_tokens", "engineers"):
        assert instance.fetch_materializations(dg.AssetKey(["kscope", other]), 1).records == []
    key = dg.AssetKey(["kscope", "gateway_costs"])
    (materialization,) = instance.fetch_materializations(key, limit=10).records
    metadata = materialization.asset_materialization.metadata
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(len(ORG.gateway_costs) + 1)
    (execution,) = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, "valid_rows"), 10
    )
    problem = execution.evaluation.metadata["problem"].value
    assert "cost_usd" in problem and "-1.5" in problem, problem
