"""`kscope-openai sql`: a read-only SQL prompt on the analyst copy.

Why a command of our own: the README's queries should work right after `make`, which
installs DuckDB as a Python package but no DuckDB CLI. This prompt opens the published
copy read-only (`warehouse.open_analyst`, so a run is never blocked and nothing can be
written to the copy), prints each result as an aligned table and shows money exactly as
stored (`DECIMAL(18,9)`, never rounded through a float). `-c "SELECT ..."` runs one or more
statements and exits, for scripts; without it, statements end with `;` and `.quit` (or
Ctrl-D) leaves, and SQL piped in (`kscope-openai sql < report.sql`) prints only results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import duckdb

from kscope_openai_pipeline import settings, warehouse

#: Rows printed per result unless --max-rows says otherwise (0: all).
MAX_ROWS_DEFAULT = 1000
PROMPT, CONTINUATION = "kscope> ", "   ...> "
#: The pipeline's schemas, listed by `.tables`.
SCHEMAS = ("openai", "kscope", "sightlines")

HELP = """\
Statements end with ';' and may span lines. The copy is read-only.
  .tables   the pipeline's tables (schema.table) with their row counts
  .help     this text
  .quit     leave (also .exit or Ctrl-D)"""


def cell(value: Any) -> str:
    """One value as text: exact decimals, ISO dates and times, NULL spelled out."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cell(v) for v in value) + "]"
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_rows: int) -> str:
    """An aligned text table (numbers right-aligned) and a row count."""
    shown = rows if max_rows <= 0 else rows[:max_rows]
    texts = [[cell(v) for v in row] for row in shown]
    right = [any(_numeric(row[i]) for row in shown) for i in range(len(columns))]
    widths = [
        max([len(name), *(len(t[i]) for t in texts)]) for i, name in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(t) for t in texts]
    count = f"({len(rows):,} row{'' if len(rows) == 1 else 's'}"
    if len(shown) < len(rows):
        count += f", first {len(shown):,} shown; --max-rows 0 shows all"
    out.append(count + ")")
    return "\n".join(out)


def run_statements(
    conn: duckdb.DuckDBPyConnection, sql: str, max_rows: int, echo: Callable[[str], None]
) -> None:
    """Run every statement of `sql` in order, printing each result; raises duckdb.Error."""
    for statement in duckdb.extract_statements(sql):
        relation = conn.execute(statement)
        description = relation.description
        if not description:
            echo("OK")
            continue
        rows = relation.fetchall()
        columns = [d[0] for d in description]
        if columns == ["Success"] and not rows:
            echo("OK")
            continue
        echo(render(columns, rows, max_rows))


def _tables(conn: duckdb.DuckDBPyConnection) -> str:
    names = conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        f"WHERE database_name = current_database() AND schema_name IN {SCHEMAS} ORDER BY 1"
    ).fetchall()
    rows = [(n, conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0]) for (n,) in names]  # type: ignore[index]
    return render(["table", "rows"], rows, 0)


def prompt_loop(
    conn: duckdb.DuckDBPyConnection,
    read: Callable[[str], str],
    echo: Callable[[str], None],
    max_rows: int,
) -> None:
    """Read statements until .quit or end of input; an error is shown, not fatal."""
    buffer: list[str] = []
    while True:
        try:
            line = read(CONTINUATION if buffer else PROMPT)
        except EOFError:
            echo("")
            return
        command = line.strip()
        if not buffer and command.startswith("."):
            if command in (".quit", ".exit"):
                return
            if command == ".tables":
                echo(_tables(conn))
            elif command == ".help":
                echo(HELP)
            else:
                echo(f"Unknown command {command}; .help lists the commands")
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if not text.strip():
            buffer.clear()
            continue
        if not command.endswith(";"):
            continue
        buffer.clear()
        try:
            run_statements(conn, text, max_rows, echo)
        except duckdb.Error as err:
            echo(f"Error: {err}")


def _read_line(prompt: str) -> str:
    """A line of input; the prompt only for a person at a terminal (piped SQL gets clean
    output)."""
    return input(prompt if sys.stdin.isatty() else "")


@click.command("sql")
@click.option("-c", "--command", "sql", default=None, metavar="SQL",
              help="Run these statements (';'-separated), print the results and exit.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Analyst copy [default: $KSCOPE_ANALYST_COPY_PATH or "
              "kscope_analytics.duckdb beside the warehouse].")
@click.option("--max-rows", default=MAX_ROWS_DEFAULT, show_default=True, type=int,
              help="Rows printed per result (0: all).")
def sql_command(sql: str | None, db_path: Path | None, max_rows: int) -> None:
    """A read-only SQL prompt on the analyst copy (no DuckDB CLI needed).

    Tables: openai.*, kscope.*, sightlines.* (`.tables` lists them). Money prints exactly.
    """
    path = Path(db_path or settings.analyst_copy_path())
    try:
        conn = warehouse.open_analyst(path)
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from None
    except duckdb.Error as err:
        raise click.ClickException(f"cannot open {path}: {err}") from None
    try:
        if sql is not None:
            try:
                run_statements(conn, sql, max_rows, click.echo)
            except duckdb.Error as err:
                raise click.ClickException(str(err)) from None
            return
        click.echo(
            f"{path} (read-only). End statements with ';'; .help for help, .quit to leave.",
            err=True,
        )
        # line editing and history for input(); not on every platform, and not needed
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
        prompt_loop(conn, _read_line, click.echo, max_rows)
    finally:
        conn.close()
