"""Building blocks shared by every table's pandera model.

Each warehouse table is described twice: its DDL in `warehouse/sql/*.sql` (what DuckDB
stores, readable by analysts) and a pandera `DataFrameModel` here (what the pipeline checks
before it writes, and the column descriptions Dagster shows as the data dictionary). A test
keeps the two in agreement: same columns, same order, same SQL types, same nullability.

The field helpers below make each column declare its SQL type once, in Field metadata, so
`table_schema_columns` can hand Dagster (name, type, description) without guessing from
pandas dtypes (an object column may hold Decimals or lists).

How values travel in pandas (the canonical frame every write accepts):

| SQL type        | pandas                                                       |
|-----------------|--------------------------------------------------------------|
| VARCHAR         | object of str / None                                         |
| BIGINT          | int64 (metrics are never NULL: absent = 0)                   |
| BOOLEAN         | bool, or the nullable "boolean" dtype when NULL is allowed   |
| DATE            | object of datetime.date                                      |
| TIMESTAMP       | datetime64[ns], naive, UTC                                   |
| DECIMAL(18,9)   | object of decimal.Decimal with at most 9 places (never float) |
| DOUBLE          | float64                                                      |
| VARCHAR[]       | object of list[str]                                          |
| JSON            | object of str (one JSON document)                            |

Table-level facts live in each model's `Config`: `name` is the qualified table name and
`metadata = {"grain": [...], "partition": "<date column>" | None}`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandera.pandas as pa
from pandera import extensions

#: Largest magnitude a DECIMAL(18,9) can hold (9 integer digits).
MONEY_LIMIT = Decimal(10) ** 9
MONEY_SCALE = 9


def _is_money(value: Any) -> bool:
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.as_tuple().exponent >= -MONEY_SCALE  # type: ignore[operator]
        and abs(value) < MONEY_LIMIT
    )


@extensions.register_check_method(check_type="element_wise")
def decimal_money(value: Any) -> bool:
    """A Decimal that fits DECIMAL(18,9) exactly: finite, <= 9 places, |x| < 1e9.

    Floats are refused on purpose: a float has already lost digits, and money must
    reach DuckDB without ever being one.
    """
    return _is_money(value)


@extensions.register_check_method(check_type="element_wise")
def string_list(value: Any) -> bool:
    """A list of strings (the pandas form of VARCHAR[])."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _field(sql_type: str, description: str, nullable: bool, **kwargs: Any) -> Any:
    return pa.Field(
        description=description,
        nullable=nullable,
        metadata={"sql_type": sql_type},
        **kwargs,
    )


def text(description: str, *, nullable: bool = True, **kwargs: Any) -> Any:
    """VARCHAR column (object of str)."""
    return _field("VARCHAR", description, nullable, **kwargs)


def count(description: str, **kwargs: Any) -> Any:
    """BIGINT metric or count: never NULL (absent means 0), never negative."""
    return _field("BIGINT", description, False, ge=0, **kwargs)


def flag(description: str, *, nullable: bool = True, **kwargs: Any) -> Any:
    """BOOLEAN column ("boolean" dtype when nullable, bool otherwise)."""
    return _field("BOOLEAN", description, nullable, **kwargs)


def day(description: str, *, nullable: bool = False, **kwargs: Any) -> Any:
    """DATE column: a UTC calendar day (object of datetime.date)."""
    return _field("DATE", description, nullable, **kwargs)


def timestamp(description: str, *, nullable: bool = True, **kwargs: Any) -> Any:
    """TIMESTAMP column: naive UTC (datetime64[ns])."""
    return _field("TIMESTAMP", description, nullable, **kwargs)


def money(description: str, *, nullable: bool = False, **kwargs: Any) -> Any:
    """DECIMAL(18,9) USD column (object of Decimal, at most 9 places)."""
    return _field("DECIMAL(18,9)", description, nullable, decimal_money=(), **kwargs)


def number(description: str, *, nullable: bool = True, **kwargs: Any) -> Any:
    """DOUBLE column for measured quantities that are not money."""
    return _field("DOUBLE", description, nullable, **kwargs)


def json_document(description: str, *, nullable: bool = False, **kwargs: Any) -> Any:
    """JSON column (object of str holding one JSON document)."""
    return _field("JSON", description, nullable, **kwargs)


def text_list(description: str, **kwargs: Any) -> Any:
    """VARCHAR[] column (object of list[str]; empty list rather than NULL)."""
    return _field("VARCHAR[]", description, False, string_list=(), **kwargs)


def table_name(model: type[pa.DataFrameModel]) -> str:
    """The qualified warehouse table a model describes, e.g. 'openai.usage'."""
    name = model.__config__.name
    if not name or "." not in name:
        raise ValueError(f"{model.__name__}.Config.name must be 'schema.table', got {name!r}")
    return name


def _table_metadata(model: type[pa.DataFrameModel]) -> dict[str, Any]:
    return dict(model.__config__.metadata or {})


def grain(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """The columns whose values are unique per row (NULL compared as a value)."""
    return tuple(_table_metadata(model).get("grain", ()))


def partition_column(model: type[pa.DataFrameModel]) -> str | None:
    """The DATE column a daily-partitioned table is partitioned by (None if unpartitioned)."""
    return _table_metadata(model).get("partition")


def sql_type(model: type[pa.DataFrameModel], column: str) -> str:
    """The SQL type a model column declares through the field helpers."""
    col = model.to_schema().columns[column]
    declared = (col.metadata or {}).get("sql_type")
    if not declared:
        raise ValueError(
            f"{model.__name__}.{column} has no sql_type: declare it with a schemas.base helper"
        )
    return str(declared)


def column_names(model: type[pa.DataFrameModel]) -> list[str]:
    """Model columns in declaration order (the DDL's order)."""
    return list(model.to_schema().columns)


def table_schema_columns(model: type[pa.DataFrameModel]) -> list[tuple[str, str, str]]:
    """(name, SQL type, description) per column, in table order.

    This is what the Dagster assets turn into a `dg.TableSchema`, i.e. the data dictionary
    analysts read in the UI; kept Dagster-free so the warehouse layer stays importable alone.
    """
    schema = model.to_schema()
    return [
        (name, sql_type(model, name), col.description or "") for name, col in schema.columns.items()
    ]


class WarehouseModel(pa.DataFrameModel):
    """Base of every table model: exact columns in exact order, no coercion.

    Coercion is off because pandera's coercion is lossy (it turns 2.5 into 2 for an int
    column and parses any string as a date); `warehouse.validation.conform` does only the
    lossless conversions instead. Subclasses set `Config.name` and `Config.metadata`.
    """

    class Config:
        strict = True
        ordered = True
        coerce = False
