"""Exports with more than the table: unknown columns ignored (or refused with --strict),
and a `provider` column that keeps only the OpenAI rows.

Real files in tmp_path, a real DuckDB file, the loader and the `load-inputs` command.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kscope_openai_pipeline.cli import main
from kscope_openai_pipeline.kscope_inputs.loader import InputFileError, load_inputs, read_input
from kscope_openai_pipeline.warehouse import ensure_schema

HEADER = (
    "usage_date,provider,provider_key_id,project_id,model,requests,input_tokens,"
    "output_tokens,cached_tokens,cost_usd\n"
)
#: A gateway export of three providers: rows 1, 3 and 5 are OpenAI's (in three spellings).
GATEWAY = HEADER + (
    "2026-11-25,openai,key_1,proj_a,gpt-4o,3,100,20,0,0.012000000\n"
    "2026-11-25,anthropic,ant_1,,claude-x,2,50,10,0,0.5\n"
    "2026-11-25, OpenAI ,key_2,proj_a,gpt-4o,1,10,2,0,0.001\n"
    "2026-11-25,google,goo_1,,gemini-y,not-a-number,1,1,0,-3\n"
    "2026-11-24,OPENAI,key_1,proj_a,gpt-4o,4,40,8,0,0.004\n"
    "2026-11-24,anthropic,ant_1,,claude-x,1,5,1,0,0.05\n"
    "2026-11-24,,key_9,,m,1,1,1,0,0.1\n"
)


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def test_a_provider_column_keeps_the_openai_rows_and_counts_the_others(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY)
    notes: list[str] = []

    frame = read_input(path, "gateway_costs", organization_id="org-t", notes=notes)

    assert notes == [
        "gateway.csv: ignored column(s) provider, which kscope.gateway_costs does not have "
        "(--strict refuses them)",
        "gateway.csv: kept the 3 OpenAI row(s) of 7; skipped 4 row(s) of other providers "
        "((empty) 1, anthropic 2, google 1)",
    ]
    # the index stays the file's own rows; the bad cells of google's row were never read
    assert frame.index.tolist() == [1, 3, 5]
    assert frame["provider_key_id"].tolist() == ["key_1", "key_2", "key_1"]
    assert frame["cost_usd"].tolist() == [
        Decimal("0.012000000"), Decimal("0.001"), Decimal("0.004")
    ]
    assert "provider" not in frame.columns


def test_errors_still_name_the_files_own_rows(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY.replace("gpt-4o,4,40,8", "gpt-4o,four,40,8"))
    with pytest.raises(InputFileError) as err:
        read_input(path, "gateway_costs", organization_id="org-t", notes=[])
    assert str(err.value) == (
        "gateway.csv: row 5 (line 6), column requests: expected a whole number, got 'four'"
    )
    assert (err.value.row, err.value.column) == (5, "requests")


def test_an_unknown_column_is_ignored_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "engineers.json"
    path.write_text(
        '[{"engineer_id": "e1", "email": "a@x.io", "aliases": [], "name": "A", '
        '"team": "ml", "status": "active", "region": "eu", "cost_center": 7}]'
    )
    with caplog.at_level(logging.WARNING, logger="kscope_openai_pipeline.kscope_inputs"):
        frame = read_input(path, "engineers", organization_id="org-t")
    assert [r.getMessage() for r in caplog.records] == [
        "engineers.json: ignored column(s) region, cost_center, which kscope.engineers does "
        "not have (--strict refuses them)"
    ]
    assert frame["engineer_id"].tolist() == ["e1"]


def test_strict_refuses_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY)
    with pytest.raises(InputFileError) as err:
        read_input(path, "gateway_costs", organization_id="org-t", strict=True)
    assert str(err.value) == (
        "gateway.csv: header (line 1): unexpected column(s) provider (expected the columns of "
        "kscope.gateway_costs: organization_id, usage_date, provider_key_id, project_id, model, "
        "requests, input_tokens, output_tokens, cached_tokens, cost_usd)"
    )
    assert err.value.column == "provider"


def test_a_missing_column_is_refused_even_without_strict(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY.replace(",cost_usd\n", ",price\n", 1))
    with pytest.raises(InputFileError, match=r"missing column\(s\) cost_usd; unexpected column"):
        read_input(path, "gateway_costs", organization_id="org-t")


def test_dev_tokens_of_other_providers_are_skipped_too(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """`provider` is a dev_tokens column: it stays, but only OpenAI tokens are loaded."""
    path = tmp_path / "tokens.csv"
    path.write_text(
        "dev_token_id,provider,provider_key_id,provider_key_redacted,owner_email,status,"
        "created_at,revoked_at\n"
        "dt_1,openai,key_1,,a@x.io,active,2026-11-01T00:00:00Z,\n"
        "dt_2,anthropic,ant_1,,b@x.io,active,2026-11-01T00:00:00Z,\n"
        "dt_3,OpenAI,key_2,,c@x.io,revoked,2026-11-01T00:00:00Z,2026-11-20T00:00:00Z\n"
    )
    notes: list[str] = []
    written = load_inputs(conn, {"dev_tokens": path}, organization_id="org-t", notes=notes)
    assert written == {"kscope.dev_tokens": 2}
    assert notes == [
        "tokens.csv: kept the 2 OpenAI row(s) of 3; skipped 1 row(s) of other providers "
        "(anthropic 1)"
    ]
    assert conn.execute(
        "SELECT dev_token_id, provider FROM kscope.dev_tokens ORDER BY 1"
    ).fetchall() == [("dt_1", "openai"), ("dt_3", "OpenAI")]


def test_a_file_without_openai_rows_is_refused_unless_allow_empty(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(HEADER + "2026-11-25,anthropic,ant_1,,claude-x,2,50,10,0,0.5\n")
    with pytest.raises(InputFileError) as err:
        load_inputs(conn, {"gateway_costs": path}, organization_id="org-t", notes=[])
    assert str(err.value) == (
        "gateway.csv: the file has no OpenAI rows (1 of other providers skipped) (pass "
        "allow_empty / --allow-empty to clear kscope.gateway_costs)"
    )
    assert load_inputs(
        conn, {"gateway_costs": path}, organization_id="org-t", allow_empty=True, notes=[]
    ) == {"kscope.gateway_costs": 0}


def test_load_inputs_command_warns_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY)
    db = tmp_path / "w.duckdb"
    args = ["load-inputs", "--gateway-costs", str(path), "--db", str(db),
            "--organization-id", "org-t"]  # fmt: skip

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Warning: gateway.csv: ignored column(s) provider, which kscope.gateway_costs does not "
        "have (--strict refuses them)",
        "Warning: gateway.csv: kept the 3 OpenAI row(s) of 7; skipped 4 row(s) of other "
        "providers ((empty) 1, anthropic 2, google 1)",
    ]
    assert result.stdout.splitlines() == [
        "kscope.gateway_costs: 3 rows",
        f"Loaded into {db}",
        "Recorded in Dagster: kscope/gateway_costs materialized; valid_rows passed 1 of 1",
    ]
    conn = duckdb.connect(str(db), read_only=True)
    assert conn.execute("SELECT SUM(cost_usd) FROM kscope.gateway_costs").fetchall() == [
        (Decimal("0.017000000"),)
    ]
    conn.close()


def test_load_inputs_command_strict_refuses(tmp_path: Path) -> None:
    path = tmp_path / "gateway.csv"
    path.write_text(GATEWAY)
    db = tmp_path / "w.duckdb"
    args = ["load-inputs", "--gateway-costs", str(path), "--db", str(db),
            "--organization-id", "org-t", "--strict"]  # fmt: skip

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: gateway.csv: header (line 1): unexpected column(s) provider (expected"
    )
    assert result.stdout == ""
