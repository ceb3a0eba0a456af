"""`kscope-openai sql`: the read-only prompt on a real published analyst copy.

The copy is the tiny sandbox org (seed 7) filled into a DuckDB file, the sightlines
computed, published as a run publishes it; expected numbers come from the ground truth.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kscope_openai_pipeline import settings, sightlines, warehouse
from kscope_openai_pipeline.analyst_sql import render
from kscope_openai_pipeline.cli import main
from kscope_openai_pipeline.exports.focus import ensure_exports_schema
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.org import build_org
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org

README = Path(__file__).resolve().parent.parent / "README.md"
#: The README's data-dictionary query, filtered to the pipeline's schemas.
COMMENTS_QUERY = (
    "SELECT schema_name, table_name, column_name, comment\n"
    "FROM duckdb_columns()\n"
    "WHERE schema_name IN ('openai', 'kscope', 'sightlines', 'exports')\n"
    "ORDER BY schema_name, table_name, column_index;"
)


@pytest.fixture(scope="module")
def org() -> SyntheticOrg:
    return build_org(7, "tiny")


@pytest.fixture(scope="module")
def copy(org: SyntheticOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("analyst")
    db = folder / "warehouse.duckdb"
    conn = duckdb.connect(str(db))
    sightlines.ensure_sightlines_schema(conn)
    ensure_exports_schema(conn)
    fill_from_org(conn, org)
    sightlines.compute_all(conn, sightlines.SightlineParams(as_of=sightlines.default_as_of(conn)))
    conn.close()
    path = folder / "kscope_analytics.duckdb"
    warehouse.publish(db, path, storage_version=settings.analyst_storage_version())
    return path


def sql(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["sql", *args], input=input, env=env)


def test_one_query_prints_an_aligned_table_with_exact_decimals(copy: Path) -> None:
    result = sql(
        "--db", str(copy), "-c",
        "SELECT 'a' AS name, 1.5::DECIMAL(18,9) AS usd, 12 AS n, NULL AS missing "
        "UNION ALL SELECT 'longer name', 0.000000001, 7, NULL ORDER BY n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "name                 usd   n  missing\n"
        "-----------  -----------  --  -------\n"
        "longer name  0.000000001   7  NULL\n"
        "a            1.500000000  12  NULL\n"
        "(2 rows)\n"
    )


def test_daily_spend_is_the_ground_truth_to_the_nano_dollar(
    copy: Path, org: SyntheticOrg
) -> None:
    last = gt.to_date(org.end_day) - timedelta(days=1)
    result = sql(
        "--db", str(copy), "-c",
        "SELECT cost_date, SUM(amount_usd) AS billed_usd FROM openai.costs "
        "GROUP BY cost_date ORDER BY cost_date DESC LIMIT 7",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["cost_date", "billed_usd"]
    assert lines[-1] == "(7 rows)"
    printed = {
        m[1]: Decimal(m[2]) for m in re.finditer(r"^(\d{4}-\d\d-\d\d)\s+(-?\d+\.\d{9})$",
                                                result.stdout, re.M)
    }  # fmt: skip
    truth = gt.cost_totals(org, last - timedelta(days=6), last + timedelta(days=1)).per_day
    assert printed == {d.isoformat(): v for d, v in truth.items() if v}
    assert len(printed) == 7


def test_several_statements_and_the_settings_default_path(
    copy: Path, org: SyntheticOrg
) -> None:
    result = sql(
        "-c", "SELECT COUNT(*) AS users FROM openai.users; SET threads = 1; "
        "SELECT COUNT(*) AS keys FROM sightlines.gateway_bypass",
        env={"KSCOPE_ANALYST_COPY_PATH": str(copy)},
    )
    assert result.exit_code == 0, result.output
    listed_project_keys = sum(not k.deleted and k.kind == "project" for k in org.api_keys)
    assert result.stdout == (
        f"users\n-----\n{len(org.users):>5}\n(1 row)\n"
        "OK\n"
        f"keys\n----\n{listed_project_keys:>4}\n(1 row)\n"
    )


def test_the_copy_cannot_be_written(copy: Path) -> None:
    before = copy.read_bytes()
    result = sql("--db", str(copy), "-c", "DELETE FROM openai.usage")
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert result.stderr.startswith("Error: ")
    assert copy.read_bytes() == before


def test_a_missing_copy_says_how_to_get_one(tmp_path: Path) -> None:
    result = sql("--db", str(tmp_path / "none.duckdb"), "-c", "SELECT 1")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: analyst copy not found: {tmp_path / 'none.duckdb'} (run the pipeline or "
        "`kscope-openai publish` first)\n"
    )


def test_max_rows_caps_what_is_printed_not_what_is_counted(copy: Path) -> None:
    result = sql("--db", str(copy), "--max-rows", "2", "-c", "SELECT * FROM range(5) t(i)")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "i", "-", "0", "1", "(5 rows, first 2 shown; --max-rows 0 shows all)",
    ]  # fmt: skip


def test_the_prompt_reads_statements_over_lines_until_quit(
    copy: Path, org: SyntheticOrg
) -> None:
    result = sql(
        "--db", str(copy),
        input="SELECT COUNT(*) AS invites\nFROM openai.invites;\nSELEC 1;\n.tables\n.quit\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert result.stderr.startswith(f"{copy} (read-only). End statements with ';'")
    assert "kscope>" not in out  # input is not a terminal: results only
    assert f"invites\n-------\n{len(org.invites):>7}\n(1 row)\n" in out
    assert "Error: Parser Error: syntax error at or near \"SELEC\"" in out
    tables = re.findall(r"^(\w+\.\w+)\s+(\d+)$", out, re.M)
    assert len(tables) == 24  # + the audit log, 4 histories, 2 daily sightlines
    assert ("openai.users", str(len(org.users))) in tables


def test_the_prompt_leaves_on_end_of_input(copy: Path) -> None:
    result = sql("--db", str(copy), input="SELECT 42 AS answer;\n")
    assert result.exit_code == 0
    assert "answer\n------\n    42\n(1 row)\n" in result.stdout


def test_the_readme_comment_query_lists_only_the_pipelines_columns(copy: Path) -> None:
    assert COMMENTS_QUERY in README.read_text()
    result = sql("--db", str(copy), "--max-rows", "0", "-c", COMMENTS_QUERY)
    assert result.exit_code == 0, result.output
    conn = warehouse.open_analyst(copy)
    try:
        expected = conn.execute(COMMENTS_QUERY).fetchall()
        everything = conn.execute("SELECT COUNT(*) FROM duckdb_columns()").fetchone()[0]
    finally:
        conn.close()
    rows = result.stdout.splitlines()[2:-1]
    assert result.stdout.splitlines()[-1] == f"({len(expected)} rows)"
    assert len(rows) == len(expected) < everything
    assert {schema for schema, *_ in expected} == {"openai", "kscope", "sightlines", "exports"}
    assert all(comment for *_, comment in expected)  # every pipeline column is documented


def test_render_spells_out_types_an_analyst_meets() -> None:
    import datetime as dt

    text = render(
        ["day", "at", "flag", "aliases"],
        [(dt.date(2026, 11, 25), dt.datetime(2026, 11, 25, 13, 45), True, ["a@x.io", "b@x.io"])],
        0,
    )
    assert text.splitlines()[2] == "2026-11-25  2026-11-25 13:45:00  true  [a@x.io, b@x.io]"
