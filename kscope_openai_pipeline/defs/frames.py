"""Normalized client records -> DataFrames shaped like a warehouse table.

The client hands out dicts with snake_case keys that already match the table columns; this
module only adds `organization_id`, drops keys the table does not keep (e.g. a cost
record's `api_key_id` in openai.costs) and turns DOUBLE columns' Decimals into floats.
Everything else (dtypes, nullability) is checked by the table's pandera model on write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pandera.pandas as pa

from kscope_openai_pipeline.schemas.base import column_names, sql_type


def records_frame(
    records: Iterable[Mapping[str, Any]],
    model: type[pa.DataFrameModel],
    organization_id: str,
) -> pd.DataFrame:
    """A frame with exactly `model`'s columns, in order, one row per record."""
    columns = column_names(model)
    own = [c for c in columns if c != "organization_id"]
    frame = pd.DataFrame.from_records(
        [{c: record.get(c) for c in own} for record in records], columns=own
    )
    for column in own:
        if sql_type(model, column) == "DOUBLE":
            frame[column] = frame[column].map(_as_float).astype("float64")
    frame.insert(0, "organization_id", organization_id)
    return frame[columns]


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)
