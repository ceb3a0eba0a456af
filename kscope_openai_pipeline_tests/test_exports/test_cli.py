"""`kscope-openai export-focus`: one month to a file, and an error that says what to do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kscope_openai_pipeline import exports, warehouse
from kscope_openai_pipeline.cli import main
from kscope_openai_pipeline_tests.test_exports.conftest import NOV29


@pytest.fixture
def published(conn: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch) -> Path:
    """The analyst copy of an exported warehouse, named by KSCOPE_ANALYST_COPY_PATH."""
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    copy = tmp_path / "kscope_analytics.duckdb"
    warehouse.publish(tmp_path / "kscope.duckdb", copy, conn=conn)
    monkeypatch.setenv("KSCOPE_ANALYST_COPY_PATH", str(copy))
    return copy


def _run(*args: str):
    return CliRunner().invoke(main, ["export-focus", *args])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_one_month_from_the_analyst_copy(published: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / "hand-off" / f"november{suffix}"
    result = _run("--month", "2026-11", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: 9 FOCUS rows for 2026-11, BilledCost 26.413915389 USD\n"
    reader = f"read_{'parquet' if suffix == '.parquet' else 'csv'}"
    (rows,) = duckdb.connect().execute(f"SELECT COUNT(*) FROM {reader}(?)", [str(out)]).fetchone()
    assert rows == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "'2026-13' is not a month: write it as YYYY-MM, e.g. 2026-11"),
        (["--month", "2026-11", "--out", "x.xlsx"], "unknown extension '.xlsx'"),
        (["--month", "2026-10"], "no FOCUS rows for 2026-10 in "),
        (["--month", "2026-10"], "(months with rows: 2026-11, 2026-12)"),
    ],
)
def test_errors_say_what_to_do(published: Path, tmp_path: Path, args, message: str) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "out.csv")]
    result = _run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_file_or_table_is_named(tmp_path: Path) -> None:
    result = _run("--month", "2026-11", "--out", str(tmp_path / "a.csv"),
                  "--db", str(tmp_path / "nowhere.duckdb"))
    assert result.exit_code == 1
    assert "nowhere.duckdb does not exist: run the pipeline" in result.output
    empty = tmp_path / "empty.duckdb"
    conn = warehouse.connect(empty)
    warehouse.ensure_schema(conn)
    warehouse.disconnect(conn)
    result = _run("--month", "2026-11", "--out", str(tmp_path / "a.csv"), "--db", str(empty))
    assert "has no exports.focus_costs: materialize exports/focus_costs first" in result.output
