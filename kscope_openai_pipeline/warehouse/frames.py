"""Move DataFrames into and out of DuckDB exactly, through Arrow.

Why Arrow: DuckDB's pandas scan and `.df()` turn DECIMAL into float64, and money must never
be a float. Into DuckDB, each column is converted to the Arrow type of its target column
(DECIMAL(18,9) -> decimal128(18, 9)); Arrow refuses a Decimal that would need rounding, so
an over-precise amount fails loudly instead of being rounded. Out of DuckDB, `read_frame`
returns Decimal objects for DECIMAL, `datetime.date` for DATE, naive datetime64[ns] for
TIMESTAMP and nullable Int64 only where an integer column holds NULLs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from kscope_openai_pipeline.warehouse.ddl import checked_table, table_columns

_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
    "FLOAT": pa.float32(),
}

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")

#: The Arrow type of a page table's VARCHAR columns: each distinct text once per part and
#: an int32 index per row. A page repeats a few hundred ids, models and line items over
#: hundreds of thousands of rows, so this holds a costs page in about half the memory of
#: plain strings, built as fast; DuckDB reads it as VARCHAR.
TEXT_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def arrow_type(duckdb_type: str) -> pa.DataType | None:
    """The Arrow type a DuckDB column type is written from (None: let DuckDB cast)."""
    if duckdb_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duckdb_type]
    m = _DECIMAL.match(duckdb_type)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    if duckdb_type.endswith("[]"):
        inner = arrow_type(duckdb_type[:-2])
        return pa.list_(inner) if inner is not None else None
    return None


def page_arrow_type(duckdb_type: str) -> pa.DataType | None:
    """The Arrow type a page table holds a column of `duckdb_type` in: `arrow_type`, but
    text dictionary-encoded (`TEXT_DICTIONARY`)."""
    return TEXT_DICTIONARY if duckdb_type == "VARCHAR" else arrow_type(duckdb_type)


def to_arrow(
    conn: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame
) -> tuple[pa.Table, list[tuple[str, str]]]:
    """`df` as an Arrow table typed like `table`'s columns, plus (column, DuckDB type) pairs.

    The frame must have exactly the table's columns (any order). Raises ValueError naming
    missing or unexpected columns, and the column whose values do not fit its type.
    """
    columns = table_columns(conn, table)
    names = [c for c, _, _ in columns]
    missing = [c for c in names if c not in df.columns]
    extra = [c for c in df.columns if c not in names]
    if missing or extra:
        raise ValueError(
            f"{table}: frame columns do not match the table: missing {missing}, unexpected {extra}"
        )
    arrays = []
    fields = []
    for name, duck_type, _ in columns:
        target = arrow_type(duck_type)
        series = df[name]
        try:
            if target is None:
                array = pa.array(series, from_pandas=True)
            elif pa.types.is_timestamp(target) and pd.api.types.is_datetime64_any_dtype(series):
                if isinstance(series.dtype, pd.DatetimeTZDtype):
                    raise ValueError("tz-aware timestamps: convert to naive UTC first")
                array = pa.array(series, from_pandas=True).cast(target)
            else:
                array = pa.array(series, type=target, from_pandas=True)
        except (pa.ArrowException, ValueError, TypeError) as err:
            raise ValueError(
                f"{table}: column {name} ({duck_type}) cannot take its values: {err}"
            ) from err
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)), [(c, t) for c, t, _ in columns]


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """INSERT `df` into `table` through Arrow with an explicit column list; return rows.

    No transaction of its own: callers (writes.py) wrap it in theirs.
    """
    table = checked_table(table)
    if not len(df):
        return 0
    arrow, columns = to_arrow(conn, table, df)
    return _insert(conn, table, arrow, columns)


def insert_arrow(conn: duckdb.DuckDBPyConnection, table: str, arrow: pa.Table) -> int:
    """INSERT an Arrow table that has exactly `table`'s columns (any order); return rows.

    The table's own types go in as they are (a page typed like the DDL needs no cast);
    a column of another type is cast by DuckDB, which refuses a value that does not fit.
    No transaction of its own: callers (writes.py) wrap it in theirs.
    """
    table = checked_table(table)
    columns = table_columns(conn, table)
    names = [c for c, _, _ in columns]
    missing = [c for c in names if c not in arrow.column_names]
    extra = [c for c in arrow.column_names if c not in names]
    if missing or extra:
        raise ValueError(
            f"{table}: Arrow columns do not match the table: missing {missing}, unexpected {extra}"
        )
    if not arrow.num_rows:
        return 0
    return _insert(conn, table, arrow, [(c, t) for c, t, _ in columns])


def _insert(
    conn: duckdb.DuckDBPyConnection, table: str, arrow: pa.Table, columns: list[tuple[str, str]]
) -> int:
    """`INSERT INTO table (columns) SELECT ... FROM arrow`, casting what is not typed yet."""
    types = dict(zip(arrow.column_names, arrow.schema.types, strict=True))
    view = f"__kscope_stage_{uuid.uuid4().hex}"
    select = ", ".join(
        f'"{c}"' if _goes_in_as_is(types[c], t) else f'CAST("{c}" AS {t}) AS "{c}"'
        for c, t in columns
    )
    column_list = ", ".join(f'"{c}"' for c, _ in columns)
    execute_over_arrow(
        conn, arrow, view, f"INSERT INTO {table} ({column_list}) SELECT {select} FROM {view}"
    )
    return arrow.num_rows


def _goes_in_as_is(arrow_t: pa.DataType, duckdb_type: str) -> bool:
    """Whether DuckDB reads an Arrow column of `arrow_t` as `duckdb_type` without a cast."""
    return arrow_t in (arrow_type(duckdb_type), page_arrow_type(duckdb_type))


def execute_over_arrow(
    conn: duckdb.DuckDBPyConnection, arrow: pa.Table, view: str, sql: str
) -> None:
    """Run `sql` (e.g. an INSERT ... SELECT) with `arrow` readable as `view`.

    Through a relation, not `conn.register`: DuckDB keeps a registered table alive until
    the transaction commits, even once unregistered, so a year written in one transaction
    held every page's Arrow buffers to the end (~270 MiB for a year of usage).
    """
    conn.from_arrow(arrow).query(view, sql)


def read_frame(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Run a query and return its rows with exact types (Decimal money, date days).

    Use this rather than `.df()`, which turns DECIMAL into float64.
    """
    table = conn.sql(sql, params=list(params) if params else None).to_arrow_table()
    data: dict[str, pd.Series] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) and column.null_count:
            series = column.to_pandas(types_mapper={kind: pd.Int64Dtype()}.get)
        elif pa.types.is_boolean(kind) and column.null_count:
            series = column.to_pandas(types_mapper={kind: pd.BooleanDtype()}.get)
        elif pa.types.is_timestamp(kind):
            series = column.to_pandas(coerce_temporal_nanoseconds=True)
        elif pa.types.is_list(kind):
            series = pd.Series(column.to_pylist(), dtype=object)
        else:
            series = column.to_pandas()
        data[name] = series.reset_index(drop=True)
    return pd.DataFrame(data, columns=table.column_names)


def read_table(
    conn: duckdb.DuckDBPyConnection, table: str, order_by: Sequence[str] = ()
) -> pd.DataFrame:
    """Every row of `table` as an exact frame (see `read_frame`), sorted by `order_by`."""
    known = {c for c, _, _ in table_columns(conn, table)}
    unknown = [c for c in order_by if c not in known]
    if unknown:
        raise ValueError(f"{table} has no column(s) {unknown}")
    sql = f"SELECT * FROM {checked_table(table)}"
    if order_by:
        sql += " ORDER BY " + ", ".join(f'"{c}" NULLS FIRST' for c in order_by)
    return read_frame(conn, sql)
