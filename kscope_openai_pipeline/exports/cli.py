"""`kscope-openai export-focus`: one billing month as a FOCUS file, for a one-off hand-off.

Why a command beside the asset's files: a FinOps team may want one month as CSV for a tool
that takes no Parquet, or a copy outside `data/exports/focus/`. It reads the analyst copy
by default (never blocked by a running pipeline, never blocking it), or any warehouse file
given with --db, read-only, and writes the file atomically.
"""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from kscope_openai_pipeline import settings, warehouse
from kscope_openai_pipeline.exports.files import (
    file_format,
    months_with_rows,
    parse_month,
    write_month,
)
from kscope_openai_pipeline.exports.focus import TABLE


@click.command("export-focus")
@click.option("--month", required=True, help="Billing month, YYYY-MM (e.g. 2026-11).")
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="File to write: .parquet or .csv.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB file to read [default: the analyst copy, $KSCOPE_ANALYST_COPY_PATH "
              "or kscope_analytics.duckdb beside the warehouse].")
def export_focus_command(month: str, out_path: Path, db_path: Path | None) -> None:
    """Write one billing month of exports.focus_costs as a FOCUS 1.2 file."""
    try:
        first_day = parse_month(month)
        file_format(out_path)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    source = Path(db_path or settings.analyst_copy_path())
    if not source.exists():
        raise click.ClickException(
            f"{source} does not exist: run the pipeline (the analyst copy is published after "
            "each run) or point --db at the warehouse"
        )
    conn = _open_read_only(source)
    try:
        exists = conn.execute(
            "SELECT COUNT(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'exports' AND table_name = 'focus_costs'"
        ).fetchone()[0]  # type: ignore[index]
        if not exists:
            raise click.ClickException(
                f"{source} has no {TABLE}: materialize exports/focus_costs first"
            )
        result = write_month(conn, first_day, out_path)
        if not result.rows:
            months = ", ".join(f"{m:%Y-%m}" for m in months_with_rows(conn)) or "none"
            raise click.ClickException(
                f"no FOCUS rows for {first_day:%Y-%m} in {source} (months with rows: {months}); "
                "materialize exports/focus_costs for that month's days first"
            )
    finally:
        conn.close()
    click.echo(
        f"{result.path}: {result.rows:,} FOCUS rows for {first_day:%Y-%m}, "
        f"BilledCost {result.billed_usd} USD"
    )


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The file attached read-only whatever its name (the analyst copy or a warehouse)."""
    try:
        return warehouse.open_analyst(path)
    except duckdb.Error as err:
        raise click.ClickException(f"cannot read {path}: {err}") from err
