"""The Kscope inputs' `valid_rows` checks, run by Dagster over a real warehouse file.

Other Kscope crawlers write kscope.* straight into the warehouse, so the checks re-validate
what is stored with the loader's own pandera models: a row no loader would accept fails
its table's check (blocking), naming the column and the value.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.defs.kscope.assets import kscope_input_checks, kscope_inputs
from kscope_openai_pipeline.defs.resources.warehouse import WarehouseResource
from kscope_openai_pipeline.demo import write_sandbox_inputs
from kscope_openai_pipeline.kscope_inputs.loader import load_inputs
from kscope_openai_pipeline.sandbox.org import build_org

ORG = build_org(7, "tiny")


def _run_checks(db: Path) -> dict[str, dg.AssetCheckEvaluation]:
    defs = dg.Definitions(
        assets=kscope_inputs,
        asset_checks=kscope_input_checks,
        jobs=[dg.define_asset_job("checks", selection=dg.AssetSelection.all_asset_checks())],
        resources={"duckdb": WarehouseResource(database=str(db))},
    )
    result = defs.resolve_job_def("checks").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return {
        evaluation.asset_key.path[-1]: evaluation
        for evaluation in result.get_asset_check_evaluations()
    }


def _load(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "kscope.duckdb"
    db.parent.mkdir(parents=True)
    files = write_sandbox_inputs(7, "tiny", tmp_path / "inputs")
    conn = warehouse.connect(db)
    try:
        load_inputs(conn, files, organization_id=ORG.organization_id)
    finally:
        warehouse.disconnect(conn)
    return db


def test_loaded_inputs_pass_their_checks(tmp_path: Path) -> None:
    evaluations = _run_checks(_load(tmp_path))
    assert {name: e.passed for name, e in evaluations.items()} == {
        "dev_tokens": True,
        "gateway_costs": True,
        "engineers": True,
    }
    assert {name: e.metadata["rows"].value for name, e in evaluations.items()} == {
        "dev_tokens": len(ORG.dev_tokens),
        "gateway_costs": len(ORG.gateway_costs),
        "engineers": len(ORG.engineers),
    }


def test_a_row_written_by_another_crawler_that_breaks_the_model_fails_its_check(
    tmp_path: Path,
) -> None:
    db = _load(tmp_path)
    conn = warehouse.connect(db)
    try:
        conn.execute(
            "UPDATE kscope.gateway_costs SET cost_usd = -1.5 WHERE rowid = "
            "(SELECT MIN(rowid) FROM kscope.gateway_costs)"
        )
    finally:
        warehouse.disconnect(conn)
    evaluations = _run_checks(db)
    assert {name: e.passed for name, e in evaluations.items()} == {
        "dev_tokens": True,
        "gateway_costs": False,
        "engineers": True,
    }
    problem = evaluations["gateway_costs"].metadata["problem"].value
    assert "cost_usd" in problem and "-1.5" in problem, problem
