"""`kscope-openai sandbox-inputs` then `kscope-openai load-inputs`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from kscope_openai_pipeline.cli import main


def test_sandbox_inputs_then_load_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The load is also recorded in Dagster: one materialization per table, check passed."""
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    runner = CliRunner()
    out = tmp_path / "inputs"
    result = runner.invoke(
        main, ["sandbox-inputs", "--seed", "7", "--size", "tiny", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "dev_tokens.csv",
        "engineers.csv",
        "gateway_costs.csv",
    ]
    db = tmp_path / "data" / "w.duckdb"
    args = [
        "load-inputs",
        "--dev-tokens", str(out / "dev_tokens.csv"),
        "--gateway-costs", str(out / "gateway_costs.csv"),
        "--engineers", str(out / "engineers.csv"),
        "--db", str(db),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    conn = duckdb.connect(str(db), read_only=True)
    counts = {
        t: conn.execute(f"SELECT COUNT(*) FROM kscope.{t}").fetchone()[0]  # type: ignore[index]
        for t in ("dev_tokens", "gateway_costs", "engineers")
    }
    conn.close()
    assert result.output.splitlines() == [
        f"kscope.dev_tokens: {counts['dev_tokens']:,} rows",
        f"kscope.gateway_costs: {counts['gateway_costs']:,} rows",
        f"kscope.engineers: {counts['engineers']:,} rows",
        f"Loaded into {db}",
        "Recorded in Dagster: kscope/dev_tokens, kscope/gateway_costs, kscope/engineers "
        "materialized; valid_rows passed 3 of 3",
    ]
    assert min(counts.values()) > 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for table, rows in counts.items():
            key = dg.AssetKey(["kscope", table])
            (record,) = instance.fetch_materializations(key, limit=10).records
            metadata = record.asset_materialization.metadata
            assert metadata["dagster/row_count"] == dg.MetadataValue.int(rows)
            assert metadata["source"] == dg.MetadataValue.text(
                f"{out / 'dev_tokens.csv'}, {out / 'gateway_costs.csv'}, {out / 'engineers.csv'}"
            )
            summary = instance.event_log_storage.get_asset_check_summary_records(
                [dg.AssetCheckKey(key, "valid_rows")]
            )
            (check,) = summary.values()
            assert check.last_check_execution_record.evaluation.passed is True


def test_a_bad_file_exits_non_zero_with_the_file_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "engineers.csv"
    bad.write_text(
        "engineer_id,email,aliases,name,team,status\n"
        "eng-1,a@corp.com,,A,ml,active\n"
        "eng-2,,,B,ml,active\n"
    )
    result = CliRunner().invoke(
        main,
        ["load-inputs", "--engineers", str(bad), "--db", str(tmp_path / "w.duckdb"),
         "--organization-id", "org-t"],
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: engineers.csv: row 2 (line 3), column email: is empty (a value is required)\n"
    )


def test_load_inputs_needs_a_file() -> None:
    result = CliRunner().invoke(main, ["load-inputs"])
    assert result.exit_code == 2
    assert "give at least one of --dev-tokens, --gateway-costs, --engineers" in result.output
