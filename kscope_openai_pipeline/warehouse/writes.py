"""Transactional writes: a table or a window of days is replaced all-or-nothing.

Every writer here runs ONE DuckDB transaction: delete what is being replaced, insert the
new rows through Arrow (exact decimals), commit. Any exception (a pandera failure, a bad
value, a crash of the caller's iterator, a KeyboardInterrupt) rolls back, so the previous
rows stay and readers never see a half-written window. Re-writing a window replaces exactly
[start, end): no duplicates, no other day touched.

Each writer opens its own transaction, or joins the caller's `transaction(conn)` block so
several tables can be replaced as one unit; do not call them inside a transaction opened
with a raw BEGIN. `on_deleted` is a hook called between the delete and the insert; tests
use it to inject a failure at the worst moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow

from kscope_openai_pipeline.schemas.base import grain as model_grain
from kscope_openai_pipeline.warehouse.allocators import (
    release_arrow_memory,
    return_freed_memory,
)
from kscope_openai_pipeline.warehouse.arrow_validation import (
    organization_problem,
    validate_table,
)
from kscope_openai_pipeline.warehouse.arrow_validation import (
    window_problem as arrow_window_problem,
)
from kscope_openai_pipeline.warehouse.ddl import checked_table, table_columns
from kscope_openai_pipeline.warehouse.frames import insert_arrow, insert_frame
from kscope_openai_pipeline.warehouse.tx import transaction
from kscope_openai_pipeline.warehouse.validation import (
    Problem,
    WarehouseValidationError,
    _conform_column,
    _distinct,
    validate,
    window_problem,
)

OnDeleted = Callable[[duckdb.DuckDBPyConnection], None]
#: One batch of a streaming write: a frame, or an Arrow table typed like the DDL
#: (`records.page_table`), which is validated and inserted without a pandas round trip.
Batch = pd.DataFrame | arrow.Table


def _check_column(conn: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    if column not in {c for c, _, _ in table_columns(conn, table)}:
        raise ValueError(f"{table} has no column {column!r}")


def _check_window(start: dt.date, end: dt.date) -> None:
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ValueError(f"{name} must be a datetime.date (a UTC day), got {value!r}")
    if end < start:
        raise ValueError(f"empty or inverted window: start {start} is after end {end}")


def _prepare(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    *,
    model: type[pa.DataFrameModel] | None,
    endpoint: str | None,
    organization_id: str | None,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Validate (with `model`) or at least window-check `df`; refuse other orgs' rows."""
    if model is not None:
        df = validate(model, df, table, endpoint, start=start, end=end, date_column=date_column)
    elif date_column is not None and start is not None and end is not None:
        if date_column not in df.columns:
            raise ValueError(f"{table}: frame has no date column {date_column!r}")
        df = df.copy()
        df[date_column] = _conform_column(df[date_column], "DATE", nullable=False)
        problem = window_problem(df, date_column, start, end)
        if problem:
            raise WarehouseValidationError(table, [problem], endpoint)
    if organization_id is not None and len(df):
        if "organization_id" not in df.columns:
            raise ValueError(f"{table}: frame has no organization_id column")
        others = df.loc[df["organization_id"] != organization_id, "organization_id"]
        if len(others):
            raise WarehouseValidationError(
                table,
                [
                    Problem(
                        "organization_id",
                        f"rows of another organization than {organization_id!r}",
                        _distinct(others.tolist()),
                        others.index.tolist()[:5],
                        len(others),
                    )
                ],
                endpoint,
            )
    return df


def _org_filter(organization_id: str | None) -> tuple[str, list[object]]:
    if organization_id is None:
        return "", []
    return " AND organization_id = ?", [organization_id]


def _delete_window(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    date_column: str,
    start: dt.date,
    end: dt.date,
    organization_id: str | None,
) -> None:
    org_sql, org_params = _org_filter(organization_id)
    conn.execute(
        f'DELETE FROM {table} WHERE "{date_column}" >= ? AND "{date_column}" < ?{org_sql}',
        [start, end, *org_params],
    )


def replace_window(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    date_column: str,
    start: dt.date,
    end: dt.date,
    *,
    model: type[pa.DataFrameModel] | None = None,
    endpoint: str | None = None,
    organization_id: str | None = None,
    on_deleted: OnDeleted | None = None,
) -> int:
    """Replace the rows with start <= date_column < end by `df`, in one transaction.

    Returns the number of rows inserted. Refuses (ValueError, before touching the table)
    rows dated outside the window, and, with `model`, any row pandera rejects. With
    `organization_id`, only that organization's rows are deleted (and `df` may hold no
    other). DATE is compared to DATE: `start`/`end` are `datetime.date` UTC days.
    """
    table = checked_table(table)
    _check_window(start, end)
    _check_column(conn, table, date_column)
    df = _prepare(
        conn,
        table,
        df,
        model=model,
        endpoint=endpoint,
        organization_id=organization_id,
        date_column=date_column,
        start=start,
        end=end,
    )
    with transaction(conn):
        _delete_window(conn, table, date_column, start, end, organization_id)
        if on_deleted is not None:
            on_deleted(conn)
        return insert_frame(conn, table, df)


def replace_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    *,
    model: type[pa.DataFrameModel] | None = None,
    endpoint: str | None = None,
    organization_id: str | None = None,
    on_deleted: OnDeleted | None = None,
) -> int:
    """Replace every row of an unpartitioned table by `df`, in one transaction.

    With `organization_id`, only that organization's rows are replaced. Returns rows inserted.
    """
    table = checked_table(table)
    table_columns(conn, table)  # fail early, outside the transaction, if it does not exist
    df = _prepare(conn, table, df, model=model, endpoint=endpoint, organization_id=organization_id)
    org_sql, org_params = _org_filter(organization_id)
    with transaction(conn):
        conn.execute(f"DELETE FROM {table} WHERE TRUE{org_sql}", org_params)
        if on_deleted is not None:
            on_deleted(conn)
        return insert_frame(conn, table, df)


def duplicate_grain(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    grain: Sequence[str],
    where: str = "TRUE",
    params: Sequence[object] = (),
    limit: int = 5,
) -> tuple[int, list[tuple[object, ...]]]:
    """(number of duplicated grain keys, up to `limit` of them) among rows matching `where`.

    NULLs group together, so a NULL dimension is one "unassigned" value. Also what the
    blocking grain-uniqueness asset check can run.

    Why two queries: grouping a year of usage by its eleven grain columns takes about a
    second; grouping one 64-bit hash of them a third of that. Equal grains have equal
    hashes, so when no hash repeats (the usual answer) no grain does; otherwise only the
    rows of a repeated hash are grouped by their columns, which gives the exact answer
    (a hash collision of distinct grains is not counted).
    """
    table = checked_table(table)
    for column in grain:
        _check_column(conn, table, column)
    cols = ", ".join(f'"{c}"' for c in grain)
    (repeated,) = conn.execute(
        f"""
        SELECT COUNT(*)
        FROM (
            SELECT hash({cols}) AS grain_hash
            FROM {table}
            WHERE {where}
            GROUP BY grain_hash
            HAVING COUNT(*) > 1
        )
        """,
        list(params),
    ).fetchone()  # type: ignore[misc]
    if not repeated:
        return 0, []
    rows = conn.execute(
        f"""
        WITH repeated_hashes AS (
            SELECT hash({cols}) AS grain_hash
            FROM {table}
            WHERE {where}
            GROUP BY grain_hash
            HAVING COUNT(*) > 1
        ),
        duplicated_keys AS (
            SELECT {cols}
            FROM {table}
            WHERE ({where})
                AND hash({cols}) IN (SELECT grain_hash FROM repeated_hashes)
            GROUP BY ALL
            HAVING COUNT(*) > 1
        )
        SELECT *, COUNT(*) OVER () AS n_keys
        FROM duplicated_keys
        LIMIT {int(limit)}
        """,
        list(params) * 2,
    ).fetchall()
    if not rows:
        return 0, []
    return int(rows[0][-1]), [tuple(r[:-1]) for r in rows]


def _prepare_arrow(
    table: str,
    batch: arrow.Table,
    *,
    model: type[pa.DataFrameModel] | None,
    endpoint: str | None,
    organization_id: str | None,
    date_column: str,
    start: dt.date,
    end: dt.date,
) -> arrow.Table:
    """`_prepare` for an Arrow batch: the model's checks, the window, the organization."""
    if model is not None:
        return validate_table(
            model,
            batch,
            table,
            endpoint,
            start=start,
            end=end,
            date_column=date_column,
            organization_id=organization_id,
        )
    if date_column not in batch.column_names:
        raise ValueError(f"{table}: batch has no date column {date_column!r}")
    problems = [arrow_window_problem(batch, date_column, start, end)]
    if organization_id is not None:
        problems.append(organization_problem(batch, organization_id))
    found = [p for p in problems if p is not None]
    if found:
        raise WarehouseValidationError(table, found, endpoint)
    return batch


def replace_window_streaming(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    batches: Iterable[Batch],
    date_column: str,
    start: dt.date,
    end: dt.date,
    *,
    model: type[pa.DataFrameModel] | None = None,
    endpoint: str | None = None,
    organization_id: str | None = None,
    grain: Sequence[str] | None = None,
    on_deleted: OnDeleted | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Like `replace_window`, but inserting an iterator of page batches as they arrive.

    One transaction covers the delete and every batch, so a year-long backfill never
    holds all rows in memory yet stays all-or-nothing: an exception in the iterator (the
    API failing on page 9), in validation or in an insert rolls everything back. Each
    batch is validated and window-checked on its own, a frame by `validation.validate`,
    an Arrow table by `arrow_validation.validate_table` (the same model, the same
    messages); uniqueness of the grain (default: the model's) across batches is checked
    in DuckDB before COMMIT. `on_batch(index, rows)` is called after each insert
    (progress logging). A batch is not referenced once inserted, so memory holds the
    batch being written, not the range; Arrow allocates through the C library's
    allocator from here on, and freed blocks go back to the system (see allocators.py).
    """
    table = checked_table(table)
    _check_window(start, end)
    _check_column(conn, table, date_column)
    return_freed_memory()  # the batches are made as the loop pulls them (allocators.py)
    key = tuple(grain) if grain is not None else (model_grain(model) if model else ())
    org_sql, org_params = _org_filter(organization_id)
    total = 0
    with transaction(conn):
        _delete_window(conn, table, date_column, start, end, organization_id)
        if on_deleted is not None:
            on_deleted(conn)
        index = -1
        # Not `enumerate` (nor `zip`): the result tuple it reuses would keep the last batch
        # alive while the iterator fetches and decodes the next one.
        for batch in batches:
            index += 1
            if isinstance(batch, arrow.Table):
                checked = _prepare_arrow(
                    table,
                    batch,
                    model=model,
                    endpoint=endpoint,
                    organization_id=organization_id,
                    date_column=date_column,
                    start=start,
                    end=end,
                )
                rows = insert_arrow(conn, table, checked)
            else:
                prepared = _prepare(
                    conn,
                    table,
                    batch,
                    model=model,
                    endpoint=endpoint,
                    organization_id=organization_id,
                    date_column=date_column,
                    start=start,
                    end=end,
                )
                rows = insert_frame(conn, table, prepared)
            checked = prepared = batch = None  # not held while the iterator fetches the next
            release_arrow_memory()
            total += rows
            if on_batch is not None:
                on_batch(index, rows)
        if key:
            n_keys, examples = duplicate_grain(
                conn,
                table,
                key,
                f'"{date_column}" >= ? AND "{date_column}" < ?{org_sql}',
                [start, end, *org_params],
            )
            if n_keys:
                raise WarehouseValidationError(
                    table,
                    [
                        Problem(
                            "(" + ", ".join(key) + ")",
                            f"duplicate grain values across batches ({n_keys} keys)",
                            examples,
                        )
                    ],
                    endpoint,
                )
    return total
