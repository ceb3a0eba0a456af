"""JSON text of usage/costs pages, rendered straight from aggregate columns.

Why not build dicts and `json.dumps` them: a 31-day page with the full group_by on the
large org holds ~100k results (a 180-day costs page grouped by project and line item,
~250k); one dict per result plus a generic encoder took seconds. Here every dimension
value is JSON-encoded once per vocabulary entry, each result is one `%` format over
column lists, and money is written from integer nano-dollars, so digits are exact
by construction (no float anywhere).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_NANO = 10**9


def page_bytes(
    buckets: Sequence[tuple[int, int]], row_bucket: np.ndarray, rows: list[str],
    next_page: str | None,
) -> bytes:
    """`{"object":"page","data":[buckets...],"has_more":..,"next_page":..}` as UTF-8."""
    parts: list[str] = []
    for b_start, b_end in buckets:
        lo, hi = np.searchsorted(row_bucket, [b_start, b_end], side="left")
        parts.append(
            f'{{"object":"bucket","start_time":{int(b_start)},"end_time":{int(b_end)},'
            f'"results":[{",".join(rows[lo:hi])}]}}'
        )
    cursor = "null" if next_page is None else f'"{next_page}"'
    more = "true" if next_page is not None else "false"
    text = f'{{"object":"page","data":[{",".join(parts)}],"has_more":{more},"next_page":{cursor}}}'
    return text.encode("utf-8")


def format_rows(template: str, columns: Sequence[Sequence[object]]) -> list[str]:
    """`template % (col0[i], col1[i], ...)` for every row i."""
    if not columns:
        return []
    return [template % values for values in zip(*columns, strict=True)]


def decimal_number(nanos: int) -> str:
    """Exact JSON number text of nano-dollars: 1500000000 -> '1.5', 1 -> '0.000000001'."""
    sign = "-" if nanos < 0 else ""
    whole, frac = divmod(abs(nanos), _NANO)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}".rstrip("0")


def decimal_string(nanos: int) -> str:
    """The "12.50" style the live API sometimes sends: a JSON string, at least 2 decimals."""
    sign = "-" if nanos < 0 else ""
    whole, frac = divmod(abs(nanos), _NANO)
    digits = f"{frac:09d}".rstrip("0").ljust(2, "0")
    return f'"{sign}{whole}.{digits}"'


def quantity_text(value: float) -> str:
    """JSON for a summed quantity: null when absent, integral values without '.0'."""
    if value != value:  # NaN: no quantity
        return "null"
    return str(int(value)) if float(value).is_integer() else repr(float(value))
