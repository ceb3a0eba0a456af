"""What each usage family (and costs) accepts and returns, from the official spec.

Why a table: group_by values, filters and result fields differ per family
(docs/admin-api.md, usage); keeping them as data means one
aggregation engine serves all ten families and the costs endpoint, and a test can walk
the table instead of hard-coding ten copies.
"""

from __future__ import annotations

from dataclasses import dataclass

_KEY_DIMS = ("project_id", "user_id", "api_key_id")


@dataclass(frozen=True)
class FamilySpec:
    """One usage family.

    `dims` are the family's dimension fields in result order (also its allowed
    group_by values); `filters` maps a query array parameter to the dimension it filters;
    `bool_filters` maps a boolean parameter (completions' `batch`) to its dimension;
    `metrics` are the metric fields in result order, `required` those the spec requires
    (always sent, 0 when the org has no such column).
    """

    name: str
    result_object: str
    dims: tuple[str, ...]
    filters: dict[str, str]
    metrics: tuple[str, ...]
    required: tuple[str, ...]
    bool_filters: dict[str, str] | None = None


def _filters(*pairs: tuple[str, str]) -> dict[str, str]:
    return dict(pairs)


_KEY_FILTERS = (("project_ids", "project_id"), ("user_ids", "user_id"),
                ("api_key_ids", "api_key_id"))
_MODEL = ("models", "model")

FAMILIES: dict[str, FamilySpec] = {
    spec.name: spec
    for spec in (
        FamilySpec(
            "completions",
            "organization.usage.completions.result",
            (*_KEY_DIMS, "model", "batch", "service_tier"),
            _filters(*_KEY_FILTERS, _MODEL),
            (
                "input_tokens",
                "output_tokens",
                "input_cached_tokens",
                "input_audio_tokens",
                "output_audio_tokens",
                "input_cache_write_tokens",
                "input_uncached_tokens",
                "input_text_tokens",
                "output_text_tokens",
                "input_cached_text_tokens",
                "input_cached_audio_tokens",
                "input_image_tokens",
                "input_cached_image_tokens",
                "output_image_tokens",
                "num_model_requests",
            ),
            ("input_tokens", "output_tokens", "num_model_requests"),
            bool_filters={"batch": "batch"},
        ),
        FamilySpec(
            "embeddings",
            "organization.usage.embeddings.result",
            (*_KEY_DIMS, "model"),
            _filters(*_KEY_FILTERS, _MODEL),
            ("input_tokens", "num_model_requests"),
            ("input_tokens", "num_model_requests"),
        ),
        FamilySpec(
            "moderations",
            "organization.usage.moderations.result",
            (*_KEY_DIMS, "model"),
            _filters(*_KEY_FILTERS, _MODEL),
            ("input_tokens", "num_model_requests"),
            ("input_tokens", "num_model_requests"),
        ),
        FamilySpec(
            "images",
            "organization.usage.images.result",
            (*_KEY_DIMS, "model", "size", "source"),
            _filters(*_KEY_FILTERS, _MODEL, ("sizes", "size"), ("sources", "source")),
            ("images", "num_model_requests"),
            ("images", "num_model_requests"),
        ),
        FamilySpec(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            (*_KEY_DIMS, "model"),
            _filters(*_KEY_FILTERS, _MODEL),
            ("characters", "num_model_requests"),
            ("characters", "num_model_requests"),
        ),
        FamilySpec(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            (*_KEY_DIMS, "model"),
            _filters(*_KEY_FILTERS, _MODEL),
            ("seconds", "num_model_requests"),
            ("seconds", "num_model_requests"),
        ),
        FamilySpec(
            "vector_stores",
            "organization.usage.vector_stores.result",
            ("project_id",),
            _filters(("project_ids", "project_id")),
            ("usage_bytes",),
            ("usage_bytes",),
        ),
        FamilySpec(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            ("project_id",),
            _filters(("project_ids", "project_id")),
            ("num_sessions",),
            ("num_sessions",),
        ),
        FamilySpec(
            "file_search_calls",
            "organization.usage.file_searches.result",
            (*_KEY_DIMS, "vector_store_id"),
            _filters(*_KEY_FILTERS, ("vector_store_ids", "vector_store_id")),
            ("num_requests",),
            ("num_requests",),
        ),
        FamilySpec(
            "web_search_calls",
            "organization.usage.web_searches.result",
            (*_KEY_DIMS, "model", "context_level"),
            _filters(*_KEY_FILTERS, _MODEL, ("context_levels", "context_level")),
            ("num_model_requests", "num_requests"),
            ("num_model_requests", "num_requests"),
        ),
    )
}

#: bucket widths in seconds and their (default, max) `limit` for usage endpoints
BUCKET_WIDTHS: dict[str, int] = {"1m": 60, "1h": 3600, "1d": 86400}
USAGE_LIMITS: dict[str, tuple[int, int]] = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}

COSTS_DIMS: tuple[str, ...] = ("project_id", "line_item", "api_key_id")
COSTS_FILTERS: dict[str, str] = {"project_ids": "project_id", "api_key_ids": "api_key_id"}
COSTS_LIMIT: tuple[int, int] = (7, 180)
#: first UTC midnight (2025-12-06) from which costs can be grouped by api_key_id
COSTS_API_KEY_FLOOR = 1764979200
