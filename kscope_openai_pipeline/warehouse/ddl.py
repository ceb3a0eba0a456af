"""Create the warehouse's schemas and tables from the `.sql` files, idempotently.

The DDL lives in `warehouse/sql/*.sql` so analysts can read the contract without reading
Python. `ensure_schema` runs every file (schemas first, then tables in file-name order),
plus any extra DDL other parts of the project own (the sightlines tables), then writes the
pandera Field descriptions as DuckDB column comments so `duckdb_columns()` is a data
dictionary too. Every statement is `IF NOT EXISTS`, so it is safe on every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pandera.pandas as pa

from kscope_openai_pipeline.schemas import kscope, openai
from kscope_openai_pipeline.schemas.base import column_names, table_name
from kscope_openai_pipeline.warehouse.tx import transaction

#: Folder of the openai.* and kscope.* DDL.
SQL_DIR = Path(__file__).parent / "sql"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


def ddl_files(extra_ddl: Iterable[str | Path] = ()) -> list[Path]:
    """The DDL files `ensure_schema` runs, in order.

    Built-in files are sorted by name (`00_schemas.sql` first), then `extra` paths in the
    order given; a folder stands for its `*.sql` files sorted by name.
    """
    files = sorted(SQL_DIR.glob("*.sql"))
    for path in (Path(p) for p in extra_ddl):
        if path.is_dir():
            files.extend(sorted(path.glob("*.sql")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"DDL file or folder not found: {path}")
    unique: list[Path] = []
    seen: set[Path] = set()
    for f in files:
        resolved = f.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(f)
    return unique


def default_models() -> list[type[pa.DataFrameModel]]:
    """The models whose descriptions become column comments by default (openai.*, kscope.*)."""
    return [*openai.MODELS, *kscope.MODELS]


def ensure_schema(
    conn: duckdb.DuckDBPyConnection,
    extra_ddl: Iterable[str | Path] = (),
    *,
    models: Sequence[type[pa.DataFrameModel]] | None = None,
) -> list[Path]:
    """Create every schema and table that does not exist yet; return the files run.

    Runs in one transaction (or joins the caller's `transaction(conn)` block), so a broken
    extra file leaves the catalog as it was. Then sets
    table and column comments from `models` (default: the openai.* and kscope.* models;
    pass the sightlines models too if you like) where they differ from what is stored.
    """
    check_database_name(conn)
    files = ddl_files(extra_ddl)
    with transaction(conn):
        for f in files:
            conn.execute(f.read_text())
        _apply_comments(conn, default_models() if models is None else models)
    return files


#: Schemas of the warehouse; a database (file) may not share one of these names.
WAREHOUSE_SCHEMAS: tuple[str, ...] = ("openai", "kscope", "sightlines", "exports")


def check_database_name(conn: duckdb.DuckDBPyConnection) -> None:
    """Refuse a warehouse whose DuckDB catalog is named like one of its schemas.

    DuckDB names a database after its file, so `kscope.duckdb` opened with
    `duckdb.connect` is the catalog `kscope`, and then every `kscope.<table>` reference is
    ambiguous (a Binder Error far from its cause). Fail here with the fix instead.
    """
    (name,) = conn.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
    if name in WAREHOUSE_SCHEMAS:
        raise ValueError(
            f"the DuckDB database is named {name!r}, like the warehouse schema {name!r}, so "
            f"'{name}.<table>' is ambiguous in DuckDB. Name the file differently (e.g. "
            f"data/warehouse.duckdb via KSCOPE_DUCKDB_PATH) or open it with "
            f"kscope_openai_pipeline.warehouse.connect(path), which attaches it as 'warehouse'."
        )


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _apply_comments(
    conn: duckdb.DuckDBPyConnection, models: Sequence[type[pa.DataFrameModel]]
) -> None:
    stored_columns = {
        (schema, table, column): comment
        for schema, table, column, comment in conn.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()"
        ).fetchall()
    }
    stored_tables = {
        (schema, table): comment
        for schema, table, comment in conn.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables()"
        ).fetchall()
    }
    for model in models:
        qualified = checked_table(table_name(model))
        schema, table = qualified.split(".")
        if (schema, table) not in stored_tables:
            continue  # not created by this DDL set (e.g. a model without DDL yet)
        doc = (model.__doc__ or "").strip().splitlines()
        if doc and stored_tables[(schema, table)] != doc[0]:
            conn.execute(f"COMMENT ON TABLE {qualified} IS {_quote_literal(doc[0])}")
        described = model.to_schema().columns
        for column in column_names(model):
            description = described[column].description or ""
            key = (schema, table, column)
            if key in stored_columns and description and stored_columns[key] != description:
                conn.execute(
                    f"COMMENT ON COLUMN {qualified}.{column} IS {_quote_literal(description)}"
                )


def checked_table(table: str) -> str:
    """`table` if it is a plain 'schema.table' name; refuse anything else (SQL injection)."""
    if not _IDENTIFIER.match(table):
        raise ValueError(f"not a 'schema.table' name of lower-case identifiers: {table!r}")
    return table


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool]]:
    """(column, DuckDB type, nullable) of an existing table, in table order."""
    schema, name = checked_table(table).split(".")
    rows = conn.execute(
        """
        SELECT column_name, data_type, is_nullable
        FROM duckdb_columns()
        WHERE database_name = current_database()
          AND schema_name = ?
          AND table_name = ?
        ORDER BY column_index
        """,
        [schema, name],
    ).fetchall()
    if not rows:
        raise ValueError(f"table {table} does not exist: run warehouse.ensure_schema first")
    return [(r[0], r[1], bool(r[2])) for r in rows]
