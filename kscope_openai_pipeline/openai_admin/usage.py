"""The usage families and the costs result: their Structs and their page columns.

Each usage family has its own result type, as in the API's spec: the `object` it must
carry (two differ from the path's name), its spec-required metrics (absent -> error),
its optional metrics (absent or null -> 0) and the dimensions it is grouped by. A
result of another family, or of an unknown one, is refused, as is a negative metric
or one beyond 64 bits. Every family's page has the same columns (`USAGE_RECORD_KEYS`,
one long table): a dimension or metric the family does not have is NULL or 0.

Costs results carry an exact Decimal `amount.value` sent as a JSON number or a numeric
string; it may be negative (credits and refunds are real).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

from .buckets import CONST, COUNT, DATE, MONEY, TEXT, VALUE, Column, ResultKind
from .decoding import Count

USAGE_FAMILIES: tuple[str, ...] = (
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
    "file_search_calls",
    "web_search_calls",
)

# group_by sent for each family: every dimension the API allows except user_id.
USAGE_GROUP_BY: dict[str, tuple[str, ...]] = {
    "completions": ("project_id", "api_key_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "api_key_id", "model"),
    "moderations": ("project_id", "api_key_id", "model"),
    "images": ("project_id", "api_key_id", "model", "size", "source"),
    "audio_speeches": ("project_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
    "file_search_calls": ("project_id", "api_key_id", "vector_store_id"),
    "web_search_calls": ("project_id", "api_key_id", "model", "context_level"),
}

# Spec-required metrics per family (absent -> error); other known metrics default to 0.
USAGE_REQUIRED_METRICS: dict[str, tuple[str, ...]] = {
    "completions": ("input_tokens", "output_tokens", "num_model_requests"),
    "embeddings": ("input_tokens", "num_model_requests"),
    "moderations": ("input_tokens", "num_model_requests"),
    "images": ("images", "num_model_requests"),
    "audio_speeches": ("characters", "num_model_requests"),
    "audio_transcriptions": ("seconds", "num_model_requests"),
    "vector_stores": ("usage_bytes",),
    "code_interpreter_sessions": ("num_sessions",),
    "file_search_calls": ("num_requests",),
    "web_search_calls": ("num_model_requests", "num_requests"),
}
USAGE_OPTIONAL_METRICS: dict[str, tuple[str, ...]] = {
    "completions": ("input_cached_tokens", "input_audio_tokens", "output_audio_tokens"),
}

USAGE_METRICS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "num_model_requests",
    "images",
    "characters",
    "seconds",
    "usage_bytes",
    "num_sessions",
    "num_requests",
)
# page column -> API result field
USAGE_DIMENSIONS: dict[str, str] = {
    "project_id": "project_id",
    "api_key_id": "api_key_id",
    "model": "model",
    "batch": "batch",
    "service_tier": "service_tier",
    "image_size": "size",
    "image_source": "source",
    "vector_store_id": "vector_store_id",
    "context_level": "context_level",
}
USAGE_RECORD_KEYS: tuple[str, ...] = ("usage_type", "usage_date", *USAGE_DIMENSIONS, *USAGE_METRICS)
USAGE_KEY_COLUMNS: tuple[str, ...] = tuple(USAGE_DIMENSIONS)
#: The `object` each usage family's results carry (two differ from the path's name).
USAGE_RESULT_OBJECTS: dict[str, str] = {
    **{f: f"organization.usage.{f}.result" for f in USAGE_FAMILIES},
    "file_search_calls": "organization.usage.file_searches.result",
    "web_search_calls": "organization.usage.web_searches.result",
}

COST_RECORD_KEYS: tuple[str, ...] = (
    "cost_date",
    "project_id",
    "line_item",
    "api_key_id",
    "amount_usd",
    "currency",
    "quantity",
    "quantity_unit",
)
COST_KEY_COLUMNS: tuple[str, ...] = ("project_id", "line_item", "api_key_id")
COSTS_RESULT_OBJECT = "organization.costs.result"


def _object_field(expected: str) -> tuple[str, Any, None]:
    """`object` is optional (older responses omit it) but, when sent, must be `expected`;
    "" counts as absent, as for any optional text."""
    return ("object", Literal[expected, ""] | None, None)  # type: ignore[valid-type]


def _usage_kind(family: str) -> ResultKind:
    required = USAGE_REQUIRED_METRICS[family]
    optional = USAGE_OPTIONAL_METRICS.get(family, ())
    grouped = USAGE_GROUP_BY[family]
    fields: list[Any] = [_object_field(USAGE_RESULT_OBJECTS[family])]
    fields += [(m, Count) for m in required]
    fields += [(m, Count | None, 0) for m in optional]
    fields += [(d, (bool if d == "batch" else str) | None, None) for d in grouped]
    name = "".join(part.title() for part in family.split("_")) + "Result"
    struct = msgspec.defstruct(name, fields, kw_only=True, gc=False, module=__name__)
    columns = [Column("usage_type", CONST, const=family), Column("usage_date", DATE)]
    for column, api_field in USAGE_DIMENSIONS.items():
        if api_field not in grouped:
            columns.append(Column(column, CONST))
        else:
            columns.append(Column(column, VALUE if api_field == "batch" else TEXT, api_field))
    for metric in USAGE_METRICS:
        if metric in required:
            columns.append(Column(metric, VALUE, metric))
        elif metric in optional:
            columns.append(Column(metric, COUNT, metric))
        else:
            columns.append(Column(metric, CONST, const=0))
    return ResultKind(struct, USAGE_RESULT_OBJECTS[family], tuple(columns), USAGE_KEY_COLUMNS)


#: Each family's result type and page columns.
USAGE_KINDS: dict[str, ResultKind] = {f: _usage_kind(f) for f in USAGE_FAMILIES}


class Amount(msgspec.Struct, gc=False):
    value: Decimal
    currency: str | None = None


class CostsResult(msgspec.Struct, gc=False, kw_only=True):
    object: Literal["organization.costs.result", ""] | None = None
    amount: Amount
    line_item: str | None = None
    project_id: str | None = None
    api_key_id: str | None = None
    quantity: Decimal | None = None
    quantity_unit: str | None = None


COSTS_KIND = ResultKind(
    CostsResult,
    COSTS_RESULT_OBJECT,
    (
        Column("cost_date", DATE),
        Column("project_id", TEXT, "project_id"),
        Column("line_item", TEXT, "line_item"),
        Column("api_key_id", TEXT, "api_key_id"),
        Column("amount_usd", MONEY, "amount.value"),
        Column("currency", TEXT, "amount.currency"),
        Column("quantity", MONEY, "quantity"),
        Column("quantity_unit", TEXT, "quantity_unit"),
    ),
    COST_KEY_COLUMNS,
)
