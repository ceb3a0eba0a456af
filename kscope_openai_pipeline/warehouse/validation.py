"""Gate every write with its table's pandera model; fail with one readable error.

`validate` first *conforms* the frame (only lossless conversions: column order, int32 to
int64, naive datetimes to nanoseconds, tz-aware datetimes to naive UTC, midnight datetimes
to dates, all-NULL object columns to the column's NULL type), then runs pandera lazily and
adds the checks pandera cannot know about (dates inside the written window, unique grain).
Every failure is collected into one `WarehouseValidationError` whose message names the
table, each column and up to five offending values, e.g.

    openai.usage: column input_tokens has values < 0: [-5]
        (endpoint /organization/usage/completions)

The error also carries the structured `problems` (column, issue, values, row labels) so a
loader can point at a file's row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from kscope_openai_pipeline.schemas.base import grain as model_grain
from kscope_openai_pipeline.schemas.base import partition_column, sql_type, table_name

#: How many distinct offending values a message shows per problem.
MAX_VALUES = 5


@dataclass(frozen=True)
class Problem:
    """One failed check: which column, what is wrong, some offending values and rows."""

    column: str | None
    issue: str
    values: list[Any] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    count: int = 0

    def describe(self) -> str:
        if self.column is None:
            where = "table"
        elif self.column.startswith("("):
            where = f"columns {self.column}"
        else:
            where = f"column {self.column}"
        verb = "have" if where.startswith("columns") else "has"
        text = f"{where} {verb} {self.issue}"
        if self.values:
            text += ": [" + ", ".join(_show(v) for v in self.values) + "]"
        if self.count > 1:
            text += f" ({self.count} rows)"
        return text


class WarehouseValidationError(ValueError):
    """Rows that must not be written: names the table, columns, values and endpoint."""

    def __init__(self, table: str, problems: Sequence[Problem], endpoint: str | None = None):
        self.table = table
        self.problems = list(problems)
        self.endpoint = endpoint
        message = f"{table}: " + "; ".join(p.describe() for p in self.problems)
        if endpoint:
            message += f" (endpoint {endpoint})"
        super().__init__(message)


def _show(value: Any) -> str:
    if _is_null(value):
        return "NULL"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


# --- conform: lossless conversions only ---------------------------------------------------


def _is_object(dtype: object) -> bool:
    return pd.api.types.is_object_dtype(dtype)


def _all_null(series: pd.Series) -> bool:
    return bool(series.isna().all())


_EMPTY_DTYPES = {
    "BIGINT": "int64",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "datetime64[ns]",
    "DOUBLE": "float64",
}


def _is_all_null(series: pd.Series) -> bool:
    """Every value missing (NaN, None, NaT): null in any SQL type, a lossless conversion."""
    return bool(series.isna().all())


def _conform_column(series: pd.Series, sql: str, nullable: bool) -> pd.Series:
    dtype = series.dtype
    if not len(series):  # an empty column converts losslessly to anything
        target = _EMPTY_DTYPES.get(sql, "object")
        if sql == "BOOLEAN" and not nullable:
            target = "bool"
        return series.astype(target)
    if sql == "BIGINT":
        if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
            return series.astype("int64")
        if (
            _is_object(dtype)
            and len(series)
            and all(
                isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
                for v in series
            )
        ):
            return series.astype("int64")
        return series
    if sql == "BOOLEAN":
        values_ok = pd.api.types.is_bool_dtype(dtype) or (
            _is_object(dtype) and all(isinstance(v, bool | np.bool_) or _is_null(v) for v in series)
        )
        if not values_ok:
            return series
        converted = series.astype("boolean")
        if not nullable and not converted.isna().any():
            return converted.astype(bool)
        return converted
    if sql == "TIMESTAMP":
        if isinstance(dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
        if pd.api.types.is_datetime64_dtype(dtype):
            return series.astype("datetime64[ns]")
        if _is_object(dtype) and all(isinstance(v, dt.datetime) or _is_null(v) for v in series):
            aware = [v.tzinfo is not None for v in series if isinstance(v, dt.datetime)]
            if aware and all(aware):
                return (
                    pd.to_datetime(series, utc=True).dt.tz_localize(None).astype("datetime64[ns]")
                )
            if not any(aware):
                return pd.to_datetime(series).astype("datetime64[ns]")
        return series
    if sql == "DATE":
        if nullable and _is_all_null(series):  # e.g. an optional column no record has
            return pd.Series([None] * len(series), index=series.index, dtype=object)
        if pd.api.types.is_datetime64_any_dtype(dtype) and not isinstance(
            dtype, pd.DatetimeTZDtype
        ):
            present = series.dropna()
            if (present == present.dt.normalize()).all():
                return pd.Series(
                    [None if _is_null(v) else v.date() for v in series],
                    index=series.index,
                    dtype=object,
                )
        return series
    if sql == "DOUBLE":
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            return series.astype("float64")
        if _is_object(dtype) and all(
            isinstance(v, int | float | Decimal | np.number)
            and not isinstance(v, bool)
            or _is_null(v)
            for v in series
        ):
            return pd.Series(
                [np.nan if _is_null(v) else float(v) for v in series],
                index=series.index,
                dtype="float64",
            )
        return series
    if sql == "VARCHAR":
        if isinstance(dtype, pd.StringDtype) or (not _is_object(dtype) and _all_null(series)):
            return pd.Series(
                [None if _is_null(v) else v for v in series], index=series.index, dtype=object
            )
        return series
    if sql == "VARCHAR[]":
        if _is_object(dtype):
            return pd.Series(
                [list(v) if isinstance(v, tuple | np.ndarray) else v for v in series],
                index=series.index,
                dtype=object,
            )
        return series
    return series


def conform(model: type[pa.DataFrameModel], df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` in the model's canonical dtypes and column order, losslessly.

    Anything that would need a lossy or guessing conversion (floats to ints, strings to
    dates, floats to money) is left alone so that validation reports it.
    """
    columns = list(model.to_schema().columns)
    nullable = {name: col.nullable for name, col in model.to_schema().columns.items()}
    out = df.copy(deep=False)  # column assignment below never writes into df's arrays
    for name in columns:
        if name in out.columns:
            series = out[name]
            conformed = _conform_column(series, sql_type(model, name), nullable[name])
            if conformed is not series:
                out[name] = conformed
    ordered = [c for c in columns if c in out.columns]
    extra = [c for c in out.columns if c not in columns]
    if list(out.columns) != ordered + extra:
        out = out[ordered + extra]
    return out


# --- pandera failures to problems ----------------------------------------------------------

_CHECK_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^greater_than_or_equal_to\((.*)\)$"), "values < {0}"),
    (re.compile(r"^greater_than\((.*)\)$"), "values <= {0}"),
    (re.compile(r"^less_than_or_equal_to\((.*)\)$"), "values > {0}"),
    (re.compile(r"^less_than\((.*)\)$"), "values >= {0}"),
    (re.compile(r"^isin\((.*)\)$", re.S), "values not in {0}"),
    (re.compile(r"^not_nullable$"), "null values"),
    (
        re.compile(r"^decimal_money$"),
        "values that are not exact dollars "
        "(a Decimal with at most 9 decimal places, below 1e9; floats are refused)",
    ),
    (re.compile(r"^string_list$"), "values that are not lists of strings"),
]


def _issue_for(check: str) -> str:
    for pattern, phrase in _CHECK_PHRASES:
        m = pattern.match(check)
        if m:
            return phrase.format(*m.groups())
    m = re.match(r"^dtype\('(.*)'\)$", check)
    if m:
        return f"the wrong type (expected {m.group(1)})"
    return f"values failing {check}"


def pandera_problems(
    schema: type[pa.DataFrameModel] | pa.DataFrameSchema, frame: pd.DataFrame
) -> list[Problem]:
    """The problems pandera finds in `frame` (lazily: all of them), none if it passes.

    pandera leaves an accessor on the frames it validates that points back at the frame;
    that cycle is broken here, so a frame (and the Arrow buffers it views) is freed as soon
    as it is let go, not at the next full garbage collection. In a year-long backfill the
    page before otherwise stayed in memory beside the page being decoded.
    """
    try:
        validated = schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return _problems_from_pandera(err)
    finally:
        vars(frame).pop("pandera", None)
    vars(validated).pop("pandera", None)
    return []


def _problems_from_pandera(err: SchemaErrors) -> list[Problem]:
    cases = err.failure_cases
    problems: list[Problem] = []
    for (column, check), group in cases.groupby(
        [cases["column"].fillna(""), cases["check"].astype(str)], sort=False
    ):
        column = column or None
        if check == "column_in_dataframe":
            missing = [str(v) for v in group["failure_case"]]
            problems.extend(Problem(c, "no such column in the frame (missing)") for c in missing)
            continue
        if check == "column_in_schema":
            extra = [str(v) for v in group["failure_case"]]
            problems.extend(Problem(c, "no place in the table (unexpected column)") for c in extra)
            continue
        rows = [r for r in group["index"].tolist() if not _is_null(r)]
        issue = _issue_for(check)
        if check.startswith("dtype("):
            if rows:  # element-wise dtype failures of an object column
                values = _distinct(group["failure_case"].tolist())
                problems.append(Problem(column, issue, values, rows[:MAX_VALUES], len(rows)))
            else:
                got = str(group["failure_case"].iloc[0])
                problems.append(Problem(column, f"{issue[:-1]}, got {got})"))
            continue
        if check == "not_nullable":
            problems.append(
                Problem(
                    column,
                    f"null values in rows {rows[:MAX_VALUES]}",
                    [],
                    rows[:MAX_VALUES],
                    len(rows),
                )
            )
            continue
        values = _distinct(group["failure_case"].tolist())
        problems.append(Problem(column, issue, values, rows[:MAX_VALUES], len(group)))
    return problems


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if all(v is not s and (type(v) is not type(s) or v != s) for s in seen):
            seen.append(v)
        if len(seen) == MAX_VALUES:
            break
    return seen


# --- checks pandera cannot express ---------------------------------------------------------


def window_problem(
    df: pd.DataFrame, date_column: str, start: dt.date, end: dt.date
) -> Problem | None:
    """A Problem when some `date_column` value is not a date in [start, end)."""
    if date_column not in df.columns or not len(df):
        return None
    values = df[date_column]

    def in_window(v: Any) -> bool:
        return isinstance(v, dt.date) and not isinstance(v, dt.datetime) and start <= v < end

    def wrong(v: Any) -> bool:
        return not _is_null(v) and not in_window(v)

    # days repeat, so judge each distinct value once, then find the rows of the bad ones
    try:
        bad = [v for v in pd.unique(values.to_numpy(dtype=object)) if wrong(v)]
        mask = values.isin(bad)
    except TypeError:  # unhashable values (lists...): judge every row
        mask = values.map(wrong).astype(bool)
    if not mask.any():
        return None
    bad_rows = values.index[mask].tolist()
    bad_values = values[mask].tolist()
    return Problem(
        date_column,
        f"dates outside the window [{start}, {end})",
        _distinct(bad_values),
        bad_rows[:MAX_VALUES],
        len(bad_rows),
    )


def grain_problem(df: pd.DataFrame, grain: Sequence[str]) -> Problem | None:
    """A Problem when two rows share the grain (NULLs compare equal, as one group)."""
    cols = [c for c in grain if c in df.columns]
    if len(cols) != len(grain) or not len(df):
        return None
    try:
        dupes = df.duplicated(subset=cols, keep=False)
    except TypeError:  # unhashable values: their type problem is reported already
        return None
    if not dupes.any():
        return None
    dup = df.loc[dupes, cols]
    keys = _distinct([tuple(row) for row in dup.itertuples(index=False, name=None)])
    return Problem(
        "(" + ", ".join(cols) + ")",
        "duplicate grain values",
        keys,
        dup.index.tolist()[:MAX_VALUES],
        int(dupes.sum()),
    )


def validate(
    model: type[pa.DataFrameModel],
    df: pd.DataFrame,
    table: str | None = None,
    endpoint: str | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    date_column: str | None = None,
    grain: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return `df` conformed to `model`, or raise one `WarehouseValidationError`.

    Checks: column set and order, types, non-null keys, non-negative metrics, allowed
    values (all declared on the model); dates of `date_column` (default: the model's
    partition column) inside [start, end) when both are given; unique grain (default: the
    model's grain). `table` defaults to the model's table and `endpoint` is only quoted in
    the message (the API endpoint the rows came from).
    """
    table = table or table_name(model)
    conformed = conform(model, df)
    problems: list[Problem] = []
    problems.extend(pandera_problems(model, conformed))
    if start is not None and end is not None:
        column = date_column or partition_column(model)
        if column is None:
            raise ValueError(f"{table} has no partition column: pass date_column")
        problem = window_problem(conformed, column, start, end)
        if problem:
            problems.append(problem)
    problem = grain_problem(conformed, model_grain(model) if grain is None else grain)
    if problem:
        problems.append(problem)
    if problems:
        raise WarehouseValidationError(table, problems, endpoint)
    return conformed
