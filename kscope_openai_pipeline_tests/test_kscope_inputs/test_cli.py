"""`kscope-openai sandbox-inputs` then `kscope-openai load-inputs`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner

from kscope_openai_pipeline.cli import main


def test_sandbox_inputs_then_load_inputs(tmp_path: Path) -> None:
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
    ]
    assert min(counts.values()) > 0


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
