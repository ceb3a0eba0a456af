"""The table's pandera model, run over an Arrow table typed like the DDL.

Why not the frame route (`validation.validate`) for usage and costs pages: it needs one
Python object per value (Decimal amounts, `date` days, str ids) and pandera's pandas
checks then walk those objects; on a 180-day costs page (~740k rows) that is seconds
and hundreds of MiB. Here the same pandas backend of pandera runs over Arrow-backed
columns (`pd.ArrowDtype`, a zero-copy view of the table), so every check is vectorized
in Arrow's C++ kernels.

The schema is derived from the model (`arrow_schema`): the same columns in the same
order, the same nullability and the same checks (non-negative metrics, allowed values),
with each column's dtype the Arrow type of its DDL type (text as plain or, for a page
table, dictionary-encoded strings: `frames.TEXT_DICTIONARY`). An element-wise check that the
Arrow type already guarantees is left out: `decimal_money` (a decimal128(18, 9) holds
at most 9 places and less than 1e9 by construction). Failures become the same
`Problem`s, so the message names table, column and values exactly as the frame route
does, e.g. `openai.usage: column input_tokens has values < 0: [-5]`. Dates inside the
window and the organization are checked with Arrow compute.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc

from kscope_openai_pipeline.schemas.base import partition_column, sql_type, table_name
from kscope_openai_pipeline.warehouse.frames import TEXT_DICTIONARY, arrow_type, page_arrow_type
from kscope_openai_pipeline.warehouse.validation import (
    MAX_VALUES,
    Problem,
    WarehouseValidationError,
    _distinct,
    pandera_problems,
)

#: Element-wise checks that a column's Arrow type already enforces.
_HELD_BY_TYPE = frozenset({"decimal_money"})


@cache
def arrow_schema(
    model: type[pa.DataFrameModel], dictionary_text: bool = False
) -> pa.DataFrameSchema:
    """`model` as a pandera schema over Arrow-backed columns (see the module docstring);
    with `dictionary_text`, its VARCHAR columns are dictionary-encoded strings."""
    schema = model.to_schema()
    columns = {}
    for name, column in schema.columns.items():
        kind = sql_type(model, name)
        target = page_arrow_type(kind) if dictionary_text else arrow_type(kind)
        if target is None:
            raise ValueError(f"{table_name(model)}.{name}: no Arrow type for its SQL type")
        columns[name] = pa.Column(
            pd.ArrowDtype(target),
            checks=[c for c in column.checks if c.name not in _HELD_BY_TYPE],
            nullable=column.nullable,
            name=name,
        )
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name=schema.name)


def validate_table(
    model: type[pa.DataFrameModel],
    table: arrow.Table,
    name: str | None = None,
    endpoint: str | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    date_column: str | None = None,
    organization_id: str | None = None,
) -> arrow.Table:
    """Return `table` unchanged when every row passes `model`, else raise one
    `WarehouseValidationError` naming every problem.

    Checks: column set, order and types, non-null keys, bounds and allowed values (the
    model's); dates of `date_column` (default: the model's partition column) inside
    [start, end) when both are given; with `organization_id`, no row of another one.
    Uniqueness of the grain is left to the writer, which checks it in DuckDB over the
    whole window before COMMIT (a page from the client is unique per bucket already).
    """
    name = name or table_name(model)
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)  # views of the Arrow buffers
    dictionary_text = TEXT_DICTIONARY in table.schema.types  # a page table's text
    problems = pandera_problems(arrow_schema(model, dictionary_text), frame)
    del frame
    if start is not None and end is not None:
        column = date_column or partition_column(model)
        if column is None:
            raise ValueError(f"{name} has no partition column: pass date_column")
        problem = window_problem(table, column, start, end)
        if problem:
            problems.append(problem)
    if organization_id is not None:
        problem = organization_problem(table, organization_id)
        if problem:
            problems.append(problem)
    if problems:
        raise WarehouseValidationError(name, problems, endpoint)
    return table


def _rows_where(table: arrow.Table, column: str, mask: arrow.ChunkedArray) -> Problem | None:
    rows = pc.indices_nonzero(pc.fill_null(mask, False).combine_chunks())
    if not len(rows):
        return None
    values = pc.take(table.column(column), rows).to_pylist()
    return Problem(column, "", _distinct(values), rows.to_pylist()[:MAX_VALUES], len(rows))


def window_problem(table: arrow.Table, column: str, start: dt.date, end: dt.date) -> Problem | None:
    """A Problem when some `column` day is not in [start, end) (NULLs are pandera's)."""
    if column not in table.column_names or not table.num_rows:
        return None
    days = table.column(column)
    if not arrow.types.is_date32(days.type):
        return None  # the wrong type: pandera reports it
    lowest, highest = pc.min_max(days).values()
    if lowest.as_py() is None or (start <= lowest.as_py() and highest.as_py() < end):
        return None
    outside = pc.or_(pc.less(days, arrow.scalar(start)), pc.greater_equal(days, arrow.scalar(end)))
    found = _rows_where(table, column, outside)
    if found is None:
        return None
    return Problem(
        column, f"dates outside the window [{start}, {end})", found.values, found.rows, found.count
    )


def organization_problem(table: arrow.Table, organization_id: str) -> Problem | None:
    """A Problem when some row's `organization_id` is another organization (or NULL)."""
    if "organization_id" not in table.column_names or not table.num_rows:
        return None
    other = pc.invert(pc.equal(table.column("organization_id"), organization_id))
    found = _rows_where(table, "organization_id", pc.fill_null(other, True))
    if found is None:
        return None
    return Problem(
        "organization_id",
        f"rows of another organization than {organization_id!r}",
        found.values,
        found.rows,
        found.count,
    )
