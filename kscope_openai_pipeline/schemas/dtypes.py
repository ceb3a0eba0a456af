"""Faster pandera dtypes for the two column kinds every table is full of.

pandera checks `str` and `date` columns element by element in Python (two seconds per
million rows for the ten text columns of openai.usage). These subclasses answer the
common all-good case vectorized and fall back to pandera's own element-wise check (which
reports the offending rows) only when something is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from pandera import dtypes
from pandera.engines import pandas_engine


def _is_null(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


@pandas_engine.Engine.register_dtype
@dtypes.immutable
class Varchar(pandas_engine.NpString):
    """A VARCHAR column: object of str, NULL as None/NaN (reported as 'str')."""

    def check(self, pandera_dtype: Any, data_container: Any = None) -> bool | Iterable[bool]:
        if data_container is not None and pd.api.types.infer_dtype(data_container, skipna=True) in (
            "string",
            "empty",
        ):
            return True
        return super().check(pandera_dtype, data_container)


@pandas_engine.Engine.register_dtype
@dtypes.immutable
class Day(pandas_engine.Date):
    """A DATE column: object of datetime.date, never datetime (reported as 'date')."""

    def check(self, pandera_dtype: Any, data_container: Any = None) -> bool | Iterable[bool]:
        if data_container is not None and pd.api.types.is_object_dtype(data_container.dtype):
            # dates repeat (one per day), so type-check the distinct values only
            try:
                distinct = pd.unique(data_container.to_numpy())
            except TypeError:  # unhashable values (lists): let pandera report them
                distinct = None
            if distinct is not None and all(type(v) is dt.date or _is_null(v) for v in distinct):
                return True
        return super().check(pandera_dtype, data_container)
