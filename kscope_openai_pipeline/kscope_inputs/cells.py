"""One cell of an input file -> the Python value its SQL type stores, or a ValueError
saying what was expected. Money is parsed exactly (never through float)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from kscope_openai_pipeline.kscope_inputs.files import LIST_SEPARATOR

_NANO = Decimal("0.000000001")


def is_null(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip()
    if value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _parse_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"expected text, got {value!r}")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    raise ValueError(f"expected a whole number, got {value!r}")


def _parse_money(value: Any) -> Decimal:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected an amount in dollars, got {value!r}")
    try:
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int | np.integer):
            amount = Decimal(int(value))
        elif isinstance(value, float):  # Parquet DOUBLE: its shortest repr is what was meant
            amount = Decimal(repr(value))
        elif isinstance(value, str):
            amount = Decimal(value.strip().replace("$", ""))
        else:
            raise ValueError
    except (InvalidOperation, ValueError) as err:
        raise ValueError(f"expected an amount in dollars, got {value!r}") from err
    if not amount.is_finite():
        raise ValueError(f"expected a finite amount in dollars, got {value!r}")
    if amount != amount.quantize(_NANO, rounding="ROUND_DOWN"):
        raise ValueError(f"more than 9 decimal places: {value!r}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -9:  # e.g. 1.50000000000: same value, 9 places
        amount = amount.quantize(_NANO)
    return amount


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime | pd.Timestamp):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise ValueError(f"expected a date (YYYY-MM-DD), got the timestamp {value!r}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        try:  # JSON exports write dates as UTC midnight timestamps ("2026-10-09T00:00:00.000")
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        offset = moment.utcoffset() if moment is not None else None
        if moment is not None and moment.time() == dt.time(0) and offset in (None, dt.timedelta(0)):
            return moment.date()
    raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}")


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, pd.Timestamp):
        return _naive_utc(value.to_pydatetime())
    if isinstance(value, dt.datetime):
        return _naive_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return dt.datetime.fromtimestamp(int(text), dt.UTC).replace(tzinfo=None)
        try:
            return _naive_utc(dt.datetime.fromisoformat(text))
        except ValueError:
            pass
    raise ValueError(
        f"expected a timestamp (ISO 8601 like 2026-11-25T13:45:00Z, or Unix seconds), "
        f"got {value!r}"
    )


def _parse_text_list(value: Any) -> list[str]:
    if is_null(value):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise ValueError(f"expected a list of addresses, got {value!r}")
    if isinstance(value, str):
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    raise ValueError(f"expected a list of addresses, got {value!r}")


PARSERS: dict[str, Callable[[Any], Any]] = {
    "VARCHAR": _parse_text,
    "BIGINT": _parse_int,
    "DECIMAL(18,9)": _parse_money,
    "DATE": _parse_date,
    "TIMESTAMP": _parse_timestamp,
    "VARCHAR[]": _parse_text_list,
}
