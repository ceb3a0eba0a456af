"""Normalized client records -> a frame or an Arrow table shaped like a warehouse table.

The client hands out dicts (inventory) or column pages (usage, costs) whose snake_case
names already match the table columns; this module only adds `organization_id`, drops
columns the table does not keep (e.g. a cost page's `api_key_id` in openai.costs) and
turns DOUBLE columns' Decimals into floats. Everything else (nullability, bounds, allowed
values) is checked by the table's pandera model on write.

Two shapes, for two sizes:
- `records_frame`: a pandas frame of Python objects (Decimal money, `date` days), what
  the inventory writes and what `validation.validate` checks.
- `page_table`: a column page as an Arrow table typed like the DDL (DECIMAL(18,9) as
  decimal128(18, 9), DATE as date32, VARCHAR as dictionary-encoded strings,
  `frames.TEXT_DICTIONARY`), built column by column in C with no Python object per row:
  a 180-day costs page has ~740k rows, and the frame route spends seconds and hundreds
  of MiB on it. Each column's value types are checked first, so nothing is
  coerced on the way (Arrow would turn 2.5 into the BIGINT 2, a datetime into its day,
  True into the DOUBLE 1.0); a page with a value that does not fit its column goes the
  frame route instead, so the error is the one `validate` gives.

One normalization rule for money: the Costs API sends dollars as JSON numbers that carry
binary-float noise (`0.06000000000000001`); an amount with more than the warehouse's 9
decimal places is rounded half-even to 9 (one nano-dollar) here, at the edge, instead of
failing the whole run. Amounts with at most 9 places pass unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow

from kscope_openai_pipeline.schemas.base import MONEY_SCALE, column_names, sql_type, table_name
from kscope_openai_pipeline.warehouse.frames import page_arrow_type
from kscope_openai_pipeline.warehouse.validation import Problem, WarehouseValidationError, validate

_NANO_DOLLAR = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY = f"DECIMAL(18,{MONEY_SCALE})"
_NONE = type(None)
#: The Python types a column page may hold for each SQL type (exact types: a bool is not
#: an int, a datetime is not a date).
_PAGE_TYPES: dict[str, frozenset[type]] = {
    "VARCHAR": frozenset({str, _NONE}),
    "BIGINT": frozenset({int, _NONE}),
    "BOOLEAN": frozenset({bool, _NONE}),
    "DATE": frozenset({dt.date, _NONE}),
    "TIMESTAMP": frozenset({dt.datetime, _NONE}),  # naive UTC (checked below)
    "DOUBLE": frozenset({float, int, Decimal, _NONE}),
    _MONEY: frozenset({Decimal, _NONE}),
}


@runtime_checkable
class Columns(Protocol):
    """A page of rows held column by column (the client's usage and costs pages).

    A protocol, not the client's class: the warehouse does not import the client, so the
    rooms that read the warehouse (the sightlines) never depend on it either.
    """

    columns: Mapping[str, Sequence[Any]]
    num_rows: int


@runtime_checkable
class Repeated(Protocol):
    """A column of `Columns` with `value` on every row, held once rather than as a list
    (the client's `Repeated`); `page_table` makes one constant Arrow array of it."""

    value: Any

    def __len__(self) -> int: ...


def records_frame(
    records: Iterable[Mapping[str, Any]] | Columns,
    model: type[pa.DataFrameModel],
    organization_id: str,
) -> pd.DataFrame:
    """A frame with exactly `model`'s columns, in order, one row per record."""
    columns = column_names(model)
    own = [c for c in columns if c != "organization_id"]
    if isinstance(records, Columns):
        n = records.num_rows
        data = {c: _as_list(records.columns.get(c), n) for c in own}
        frame = pd.DataFrame(data, columns=own) if n else pd.DataFrame(columns=own)
    elif rows := records if isinstance(records, list) else list(records):
        frame = pd.DataFrame({c: [record.get(c) for record in rows] for c in own}, columns=own)
    else:
        frame = pd.DataFrame.from_records([], columns=own)
    for column in own:
        kind = sql_type(model, column)
        if kind == "DOUBLE":
            frame[column] = frame[column].map(_as_float).astype("float64")
        elif kind == f"DECIMAL(18,{MONEY_SCALE})":
            frame[column] = frame[column].map(_to_nano_dollars)
    frame.insert(0, "organization_id", organization_id)
    return frame[columns]


def _as_list(values: Sequence[Any] | None, n: int) -> list[Any]:
    """A column of `Columns` as a list (pandas wants lists): an absent one is n NULLs."""
    if isinstance(values, list):
        return values
    return [None] * n if values is None else list(values)


def _to_nano_dollars(value: Any) -> Any:
    """Round an over-precise Decimal half-even to 9 places; anything else unchanged."""
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MONEY_SCALE:
            return value.quantize(_NANO_DOLLAR, rounding=ROUND_HALF_EVEN)
    return value


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)


class _Unfit(ValueError):
    """A column page value that its column's Arrow type cannot take as it is."""


def page_table(
    page: Columns,
    model: type[pa.DataFrameModel],
    organization_id: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> arrow.Table:
    """`page` as an Arrow table with exactly `model`'s columns, in order, typed like the DDL.

    Money with more than 9 places is rounded half-even to 9, as in `records_frame`. A value
    that does not fit its column (a float count, a datetime day, a float amount) raises the
    `WarehouseValidationError` that validating the page as a frame gives (with the window
    [start, end) checked too when given), so the error names every problem of the page.
    The page's lists are only read: the caller may drop them as soon as this returns.
    """
    n = page.num_rows
    arrays = []
    for column in column_names(model):
        kind = sql_type(model, column)
        if column == "organization_id":
            arrays.append(_constant_text(organization_id, n))
            continue
        values = page.columns.get(column)
        try:
            if values is None:
                arrays.append(arrow.nulls(n, page_arrow_type(kind)))
            elif isinstance(values, Repeated):
                arrays.append(_repeated_array(values.value, len(values), kind))
            else:
                arrays.append(_column_array(values, kind))
        except (_Unfit, arrow.ArrowException, OverflowError, TypeError, ValueError) as err:
            refused = _frame_error(page, model, organization_id, column, kind, err, start, end)
            raise refused from None
    return arrow.table(arrays, names=column_names(model))


def _column_array(values: list[Any], kind: str) -> arrow.Array:
    target = page_arrow_type(kind)
    allowed = _PAGE_TYPES.get(kind)
    if allowed is None or target is None:
        raise _Unfit(f"no Arrow route for {kind}")
    found = set(map(type, values))
    if not found <= allowed:
        raise _Unfit(f"values of type {sorted(t.__name__ for t in found - allowed)}")
    if kind == "TIMESTAMP" and any(v is not None and v.tzinfo is not None for v in values):
        raise _Unfit("timezone-aware datetimes (the warehouse keeps naive UTC)")
    if kind == "DOUBLE" and Decimal in found:
        values = [None if v is None else float(v) for v in values]
    if kind == "VARCHAR":
        return arrow.array(values, type=target)
    if kind != _MONEY:
        # One Python type per column (checked above), so Arrow's own inference gives the
        # target type (or null for an all-NULL column, or uint64 for a count past int64,
        # which the safe cast refuses); it is many times faster than converting to a
        # given type (a 700k-row DATE column: ~0.04 s against ~1 s).
        array = arrow.array(values)
        return array if array.type == target else array.cast(target)
    try:  # exact: Arrow refuses to drop a digit, and most amounts have <= 9 places
        return arrow.array(values, type=target)
    except arrow.ArrowInvalid:
        return arrow.array(list(map(_to_nano_dollars, values)), type=target)


def _repeated_array(value: Any, n: int, kind: str) -> arrow.Array:
    """`value` n times as the column's page type: checked and converted once, as a
    one-row column would be, then repeated in Arrow."""
    if value is None:
        return arrow.nulls(n, page_arrow_type(kind))
    if kind == "VARCHAR" and isinstance(value, str):
        return _constant_text(value, n)
    return arrow.repeat(_column_array([value], kind)[0], n)


def _constant_text(value: str, n: int) -> arrow.Array:
    """A text column holding `value` n times: one dictionary entry, n zero indices."""
    indices = arrow.array(np.zeros(n, dtype=np.int32))
    return arrow.DictionaryArray.from_arrays(indices, arrow.array([value], arrow.string()))


def _frame_error(
    page: Columns,
    model: type[pa.DataFrameModel],
    organization_id: str,
    column: str,
    kind: str,
    err: BaseException,
    start: dt.date | None,
    end: dt.date | None,
) -> WarehouseValidationError:
    """The error the frame route gives for this page (it names every problem at once)."""
    frame = records_frame(page, model, organization_id)
    try:
        validate(model, frame, start=start, end=end)
    except WarehouseValidationError as refused:
        return refused
    problem = Problem(column, f"values that do not fit {kind} ({err})")
    return WarehouseValidationError(table_name(model), [problem])
