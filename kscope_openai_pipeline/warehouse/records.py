"""Normalized client records -> DataFrames shaped like a warehouse table.

The client hands out dicts (inventory) or column pages (usage, costs) whose snake_case
names already match the table columns; this module only adds `organization_id`, drops
columns the table does not keep (e.g. a cost page's `api_key_id` in openai.costs) and
turns DOUBLE columns' Decimals into floats.
Everything else (dtypes, nullability) is checked by the table's pandera model on write.

One normalization rule for money: the Costs API sends dollars as JSON numbers that carry
binary-float noise (`0.06000000000000001`); an amount with more than the warehouse's 9
decimal places is rounded half-even to 9 (one nano-dollar) here, at the edge, instead of
failing the whole run. Amounts with at most 9 places pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol, runtime_checkable

import pandas as pd
import pandera.pandas as pa

from kscope_openai_pipeline.schemas.base import MONEY_SCALE, column_names, sql_type

_NANO_DOLLAR = Decimal(1).scaleb(-MONEY_SCALE)


@runtime_checkable
class Columns(Protocol):
    """A page of rows held column by column (the client's usage and costs pages).

    A protocol, not the client's class: the warehouse does not import the client, so the
    rooms that read the warehouse (the sightlines) never depend on it either.
    """

    columns: Mapping[str, list[Any]]
    num_rows: int


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
        data = {c: records.columns.get(c) or [None] * n for c in own}
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


def _to_nano_dollars(value: Any) -> Any:
    """Round an over-precise Decimal half-even to 9 places; anything else unchanged."""
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MONEY_SCALE:
            return value.quantize(_NANO_DOLLAR, rounding=ROUND_HALF_EVEN)
    return value


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)
