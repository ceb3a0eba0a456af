"""`GET /organization/usage/{family}` and `GET /organization/costs`: bucketed pages.

Why here: both endpoints share the page contract (`start_time` required, `limit` counts
buckets, `next_page` bound to the query, empty buckets kept, partial first bucket) and
differ only in their parameters and result shape. The rules are written down in
docs/admin-api.md (usage, costs and the known quirks).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import cursor
from .api_errors import ApiError, invalid_value, missing_param
from .bucket_index import Aggregate, BucketIndex
from .families import (
    BUCKET_WIDTHS,
    COSTS_API_KEY_FLOOR,
    COSTS_DIMS,
    COSTS_FILTERS,
    COSTS_LIMIT,
    FAMILIES,
    USAGE_LIMITS,
)
from .page_text import (
    decimal_number,
    decimal_string,
    format_rows,
    page_bytes,
    quantity_text,
)
from .query import Query
from .view import OrgView


@dataclass(frozen=True)
class BucketQuery:
    """A validated usage/costs query; `canonical` is what its cursors are bound to."""

    start: int
    end: int
    width: int
    limit: int
    group_by: tuple[str, ...]
    filters: dict[str, list[Any]]
    canonical: str


def _parse_common(
    q: Query,
    endpoint: str,
    *,
    widths: Sequence[str],
    limits: Mapping[str, tuple[int, int]],
    dims: Sequence[str],
    filters: Mapping[str, str],
    bool_filters: Mapping[str, str],
    default_end: int,
) -> BucketQuery:
    """Validate the parameters in the API's order of complaints and build the query.

    The canonical form that cursors are bound to is the query's meaning (defaults
    applied, array order ignored), so `group_by=a,b` and `group_by[]=b&group_by[]=a` may
    share a cursor while any changed value may not.
    """
    if q.get_str("start_time") is None:
        raise missing_param("start_time")
    start = q.get_int("start_time")
    end = q.get_int("end_time", default_end)
    assert start is not None and end is not None
    width_name = q.get_str("bucket_width") or "1d"
    if width_name not in widths:
        raise invalid_value("bucket_width", width_name, widths)
    default_limit, max_limit = limits[width_name]
    limit = q.get_limit(default_limit, max_limit)
    group_by = tuple(q.get_list("group_by") or ())
    for value in group_by:
        if value not in dims:
            raise invalid_value("group_by", value, dims)
    chosen: dict[str, list[Any]] = {}
    for param, dim in filters.items():
        values = q.get_list(param)
        if values is not None:
            chosen[dim] = values
    for param, dim in bool_filters.items():
        flag = q.get_bool(param)
        if flag is not None:
            chosen[dim] = [flag]
    canonical = json.dumps(
        [
            endpoint,
            start,
            end,
            width_name,
            limit,
            sorted(group_by),
            {d: sorted(map(str, v)) for d, v in sorted(chosen.items())},
        ],
        separators=(",", ":"),
    )
    return BucketQuery(start, end, BUCKET_WIDTHS[width_name], limit, group_by, chosen, canonical)


def _page_window(q: Query, bq: BucketQuery) -> tuple[list[tuple[int, int]], str | None]:
    """The buckets of this page (start, end) and the next_page cursor (None on the last)."""
    if bq.start >= bq.end:
        return [], None
    page = q.get_str("page")
    begin = bq.start if not page else cursor.decode(page, bq.canonical, bq.start, bq.end)
    buckets: list[tuple[int, int]] = []
    b = begin
    while b < bq.end and len(buckets) < bq.limit:
        nxt = min((b // bq.width + 1) * bq.width, bq.end)
        buckets.append((b, nxt))
        b = nxt
    next_page = cursor.encode(b, bq.canonical, bq.end) if b < bq.end else None
    return buckets, next_page


def usage_page(view: OrgView, q: Query, family: str) -> bytes:
    """One page of `/organization/usage/{family}`, as JSON bytes."""
    spec = FAMILIES[family]
    bq = _parse_common(
        q,
        f"usage/{family}",
        widths=("1m", "1h", "1d"),
        limits=USAGE_LIMITS,
        dims=spec.dims,
        filters=spec.filters,
        bool_filters=spec.bool_filters or {},
        default_end=view.org.end_day,
    )
    buckets, next_page = _page_window(q, bq)
    index, metrics = view.usage_index(family)
    if not buckets:
        return page_bytes([], np.zeros(0, dtype=np.int64), [], None)
    agg = index.aggregate(buckets[0][0], buckets[-1][1], bq.width, bq.group_by, bq.filters)
    fields = [f'"object":"{spec.result_object}"']
    columns: list[list[Any]] = []
    for metric in metrics:
        fields.append(f'"{metric}":%d')
        columns.append(agg.values[metric].tolist())
    for dim in spec.dims:
        if dim in agg.codes:
            fields.append(f'"{dim}":%s')
            columns.append(index.vocab_json(dim)[agg.codes[dim]].tolist())
        else:
            fields.append(f'"{dim}":null')
    template = "{" + ",".join(fields) + "}"
    return page_bytes(buckets, agg.bucket, format_rows(template, columns), next_page)


_STRING_MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F)


def _crc(value: Any) -> int:
    return zlib.crc32(str(value).encode("utf-8"))


def amount_as_string(bucket_start: int, project_id: Any, line_item: Any, api_key_id: Any) -> bool:
    """Whether this cost amount is sent as a JSON string, as the live API sometimes does.

    Deterministic: a hash of the bucket day and the result's dimension values (None for
    dimensions not grouped), true for about one result in five. `_string_mask` is the
    vectorized twin used when rendering.
    """
    a, b, c, d = _STRING_MIX
    mixed = (bucket_start // 86_400 * a + _crc(project_id) * b + _crc(line_item) * c
             + _crc(api_key_id) * d) % 2**64
    return (mixed >> 7) % 5 == 0


def _string_mask(index: BucketIndex, agg: Aggregate) -> np.ndarray:
    a, b, c, d = (np.uint64(m) for m in _STRING_MIX)
    mixed = (agg.bucket // 86_400).astype(np.uint64) * a
    for dim, mult in zip(COSTS_DIMS, (b, c, d), strict=True):
        crcs = np.array([_crc(v) for v in index.vocab(dim)], dtype=np.uint64)
        # not grouped: every row carries the null entry (the last one)
        codes = agg.codes.get(dim, np.full(len(agg), -1, dtype=np.int32))
        mixed = mixed + crcs[codes] * mult
    return (mixed >> np.uint64(7)) % np.uint64(5) == 0


def _costs_rules(bq: BucketQuery) -> None:
    if "api_key_id" not in bq.group_by:
        return
    if len(bq.group_by) > 1:
        raise ApiError(
            400,
            "Grouping by 'api_key_id' cannot be combined with other group_by dimensions; "
            "group by 'api_key_id' alone.",
            param="group_by",
            code="invalid_request_error",
        )
    if bq.start < COSTS_API_KEY_FLOOR:
        raise ApiError(
            400,
            "Grouping costs by 'api_key_id' is only available for start_time on or after "
            f"{COSTS_API_KEY_FLOOR} (2025-12-06T00:00:00Z).",
            param="start_time",
            code="invalid_request_error",
        )


_COSTS_TEMPLATE = (
    '{"object":"organization.costs.result","amount":{"value":%s,"currency":"usd"},'
    '"line_item":%s,"project_id":%s,"api_key_id":%s,"quantity":%s,"quantity_unit":%s}'
)


def costs_page(view: OrgView, q: Query, organization_id: str | None = None) -> bytes:
    """One page of `/organization/costs`, as JSON bytes (amounts exact from nano-dollars).

    With `organization_id`, every result also carries it, as live cost rows have been
    seen to (an extra field the spec does not name).
    """
    bq = _parse_common(
        q,
        "costs",
        widths=("1d",),
        limits={"1d": COSTS_LIMIT},
        dims=COSTS_DIMS,
        filters=COSTS_FILTERS,
        bool_filters={},
        default_end=view.org.end_day,
    )
    _costs_rules(bq)
    buckets, next_page = _page_window(q, bq)
    if not buckets:
        return page_bytes([], np.zeros(0, dtype=np.int64), [], None)
    index = view.costs_index()
    agg = index.aggregate(buckets[0][0], buckets[-1][1], bq.width, bq.group_by, bq.filters)
    n = len(agg)
    strings = _string_mask(index, agg).tolist()
    amounts = [
        decimal_string(v) if as_string else decimal_number(v)
        for v, as_string in zip(agg.values["amount_nanos"].tolist(), strings, strict=True)
    ]

    def dim_json(dim: str) -> list[str]:
        if dim in agg.codes:
            return index.vocab_json(dim)[agg.codes[dim]].tolist()
        return ["null"] * n

    if "line_item" in bq.group_by:
        quantities = [quantity_text(v) for v in agg.values["quantity"].tolist()]
        unit_json = np.array(
            [json.dumps(view.line_item_units.get(v)) for v in index.vocab("line_item")],
            dtype=object,
        )
        units = unit_json[agg.codes["line_item"]].tolist()
    else:
        quantities = units = ["null"] * n
    columns = [amounts, dim_json("line_item"), dim_json("project_id"), dim_json("api_key_id"),
               quantities, units]
    template = _COSTS_TEMPLATE
    if organization_id is not None:
        org_json = json.dumps(organization_id).replace("%", "%%")
        template = template[:-1] + f',"organization_id":{org_json}}}'
    return page_bytes(buckets, agg.bucket, format_rows(template, columns), next_page)
