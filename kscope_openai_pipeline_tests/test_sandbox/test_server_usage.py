"""Usage endpoints over real HTTP against the handmade org: buckets, grouping, filters,
limits, cursors and every error body, with exact numbers (see the hand-placed
days of helpers/handmade_org.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.families import FAMILIES
from kscope_openai_pipeline_tests.helpers.handmade_org import DAY, DAY0, END, HOUR

COMPLETIONS = "/organization/usage/completions"


def err(
    message: str, param: str | None, code: str | None, type_: str = "invalid_request_error"
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def day_totals(body: dict[str, Any], metric: str = "input_tokens") -> list[tuple[int, list[int]]]:
    """(bucket start, [metric of each result]) for every bucket of a page."""
    return [(b["start_time"], [r[metric] for r in b["results"]]) for b in body["data"]]


def get(api: httpx.Client, path: str, **params: Any) -> httpx.Response:
    return api.get(path, params=params)


def test_daily_buckets_without_group_by(api: httpx.Client) -> None:
    body = get(api, COMPLETIONS, start_time=DAY0, limit=10).json()
    assert body["object"] == "page" and body["has_more"] is False and body["next_page"] is None
    assert [(b["start_time"], b["end_time"]) for b in body["data"]] == [
        (DAY0 + i * DAY, DAY0 + (i + 1) * DAY) for i in range(10)
    ]
    assert day_totals(body) == [
        (DAY0, [1300]),
        (DAY0 + DAY, [350]),
        (DAY0 + 2 * DAY, []),
        # day 3 holds only an all-zero event: no zero rows inside a bucket
        (DAY0 + 3 * DAY, []),
        (DAY0 + 4 * DAY, []),
        (DAY0 + 5 * DAY, []),
        (DAY0 + 6 * DAY, [900]),
        (DAY0 + 7 * DAY, []),
        (DAY0 + 8 * DAY, []),
        (DAY0 + 9 * DAY, [7]),
    ]
    first = body["data"][0]["results"][0]
    assert first == {
        "object": "organization.usage.completions.result",
        "input_tokens": 1300,
        "output_tokens": 130,
        "input_cached_tokens": 5,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": 6,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": None,
        "batch": None,
        "service_tier": None,
    }


def test_group_by_fills_only_grouped_dimensions_and_keeps_null_groups(
    api: httpx.Client,
) -> None:
    body = get(api, COMPLETIONS, start_time=DAY0 + DAY, limit=1, group_by="project_id").json()
    rows = body["data"][0]["results"]
    assert [(r["project_id"], r["input_tokens"], r["model"]) for r in rows] == [
        (None, 50, None),  # org-level traffic without a project
        ("proj_alpha", 300, None),
    ]
    body = get(api, COMPLETIONS, start_time=DAY0, limit=1, group_by="user_id").json()
    assert [(r["user_id"], r["input_tokens"]) for r in body["data"][0]["results"]] == [
        (None, 1000),
        ("user-ann", 300),
    ]


def test_full_group_by_on_day_zero(api: httpx.Client) -> None:
    dims = FAMILIES["completions"].dims
    body = get(api, COMPLETIONS, start_time=DAY0, limit=1, group_by=",".join(dims)).json()
    rows = [
        tuple(r[d] for d in dims) + (r["input_tokens"], r["num_model_requests"])
        for r in body["data"][0]["results"]
    ]
    assert rows == [
        ("proj_alpha", None, "key_ci", "gpt-4o-mini", True, "default", 1000, 3),
        ("proj_alpha", "user-ann", "key_ann_alpha", "gpt-4o", False, "default", 300, 3),
    ]


def test_every_array_form_is_accepted_and_equivalent(api: httpx.Client) -> None:
    base = f"{COMPLETIONS}?start_time={DAY0}&limit=7"
    forms = [
        "group_by=project_id&group_by=model",
        "group_by[]=project_id&group_by[]=model",
        "group_by=project_id,model",
        "group_by=model,project_id",
        "group_by[0]=project_id&group_by[1]=model",
    ]
    bodies = {api.get(f"{base}&{form}").content for form in forms}
    assert len(bodies) == 1
    body = api.get(f"{base}&{forms[0]}").json()
    assert [
        (r["project_id"], r["model"], r["input_tokens"]) for r in body["data"][6]["results"]
    ] == [("proj_beta", "gpt-4o", 900)]


def test_partial_first_bucket_runs_to_the_next_boundary(api: httpx.Client) -> None:
    body = get(api, COMPLETIONS, start_time=DAY0 + 12 * HOUR, limit=2).json()
    assert [(b["start_time"], b["end_time"]) for b in body["data"]] == [
        (DAY0 + 12 * HOUR, DAY0 + DAY),
        (DAY0 + DAY, DAY0 + 2 * DAY),
    ]
    # 12:30 (200) and 13:00 (1000) are in; 01:00 (100) is before start_time
    assert day_totals(body) == [(DAY0 + 12 * HOUR, [1200]), (DAY0 + DAY, [350])]
    assert body["has_more"] is True


def test_end_time_is_exclusive_and_cuts_the_last_bucket(api: httpx.Client) -> None:
    body = get(api, COMPLETIONS, start_time=DAY0, end_time=DAY0 + 13 * HOUR).json()
    assert [(b["start_time"], b["end_time"]) for b in body["data"]] == [(DAY0, DAY0 + 13 * HOUR)]
    assert day_totals(body) == [(DAY0, [300])]  # the 13:00 event is excluded
    assert body["has_more"] is False and body["next_page"] is None


def test_hourly_and_minute_buckets(api: httpx.Client) -> None:
    body = get(api, COMPLETIONS, start_time=DAY0, bucket_width="1h").json()
    assert len(body["data"]) == 24 and body["has_more"] is True
    nonempty = [
        (b["start_time"], b["results"][0]["input_tokens"]) for b in body["data"] if b["results"]
    ]
    assert nonempty == [(DAY0 + HOUR, 100), (DAY0 + 12 * HOUR, 200), (DAY0 + 13 * HOUR, 1000)]
    body = get(api, COMPLETIONS, start_time=DAY0 + 12 * HOUR, bucket_width="1m").json()
    assert len(body["data"]) == 60
    assert [
        (b["start_time"], b["results"][0]["input_tokens"]) for b in body["data"] if b["results"]
    ] == [(DAY0 + 12 * HOUR + 30 * 60, 200)]
    # a partial first minute bucket
    start = DAY0 + 12 * HOUR + 29 * 60 + 30
    body = get(api, COMPLETIONS, start_time=start, bucket_width="1m", limit=2).json()
    assert [(b["start_time"], b["end_time"], len(b["results"])) for b in body["data"]] == [
        (start, start + 30, 0),
        (start + 30, start + 90, 1),
    ]


def test_end_time_defaults_to_the_orgs_last_day(api: httpx.Client) -> None:
    body = get(api, COMPLETIONS, start_time=END - 2 * DAY).json()
    assert [(b["start_time"], b["end_time"]) for b in body["data"]] == [
        (END - 2 * DAY, END - DAY),
        (END - DAY, END),
    ]


def test_empty_ranges_return_an_empty_page(api: httpx.Client) -> None:
    for params in (
        {"start_time": END},
        {"start_time": DAY0, "end_time": DAY0},
        {"start_time": DAY0 + DAY, "end_time": DAY0},
    ):
        body = api.get(COMPLETIONS, params=params).json()
        assert body == {"object": "page", "data": [], "has_more": False, "next_page": None}
    body = get(api, COMPLETIONS, start_time=DAY0 - 5 * DAY, end_time=DAY0).json()
    assert len(body["data"]) == 5 and all(b["results"] == [] for b in body["data"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"project_ids": "proj_beta"}, [0, 0, 0, 0, 0, 0, 900, 0, 0, 0]),
        ({"api_key_ids[]": "key_gone"}, [0, 300, 0, 0, 0, 0, 0, 0, 0, 0]),
        ({"user_ids": ["user-bob", "user-nobody"]}, [0, 50, 0, 0, 0, 0, 400, 0, 0, 0]),
        ({"models": "gpt-4o-mini"}, [1000, 50, 0, 0, 0, 0, 0, 0, 0, 7]),
        ({"batch": "true"}, [1000, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ({"batch": "false"}, [300, 350, 0, 0, 0, 0, 900, 0, 0, 7]),
        (
            {"project_ids": "proj_alpha,proj_old", "models": "gpt-4o-mini"},
            [1000, 0, 0, 0, 0, 0, 0, 0, 0, 7],
        ),
        ({"project_ids": "proj_nope"}, [0] * 10),
    ],
)
def test_filters(api: httpx.Client, params: dict[str, Any], expected: list[int]) -> None:
    body = api.get(COMPLETIONS, params={"start_time": DAY0, "limit": 10, **params}).json()
    assert [sum(r["input_tokens"] for r in b["results"]) for b in body["data"]] == expected


@pytest.mark.parametrize(
    ("family", "params", "metric", "expected"),
    [
        ("images", {"sizes": "1024x1792"}, "images", 1),
        ("images", {"sources[]": "image.generation"}, "images", 4),
        ("images", {}, "images", 5),
        ("file_search_calls", {"vector_store_ids": "vs_1"}, "num_requests", 6),
        ("file_search_calls", {"vector_store_ids": "vs_2"}, "num_requests", 0),
        ("web_search_calls", {"context_levels": "medium"}, "num_requests", 3),
        ("web_search_calls", {"context_levels": "high"}, "num_requests", 0),
        ("embeddings", {"models": "text-embedding-3-small"}, "input_tokens", 800),
        ("moderations", {"user_ids": "user-bob"}, "input_tokens", 60),
        ("audio_speeches", {"api_key_ids": "key_ci"}, "characters", 1234),
        ("audio_transcriptions", {}, "seconds", 95),
        ("vector_stores", {"project_ids": "proj_alpha"}, "usage_bytes", 8192),
        ("code_interpreter_sessions", {}, "num_sessions", 3),
    ],
)
def test_family_filters(
    api: httpx.Client, family: str, params: dict[str, Any], metric: str, expected: int
) -> None:
    body = api.get(
        f"/organization/usage/{family}", params={"start_time": DAY0, "limit": 10, **params}
    ).json()
    assert sum(r[metric] for b in body["data"] for r in b["results"]) == expected


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_result_has_the_spec_fields(api: httpx.Client, family: str) -> None:
    spec = FAMILIES[family]
    body = api.get(
        f"/organization/usage/{family}",
        params={"start_time": DAY0, "limit": 2, "group_by": ",".join(spec.dims)},
    ).json()
    rows = [r for b in body["data"] for r in b["results"]]
    assert rows, family
    for row in rows:
        assert row["object"] == spec.result_object
        metrics = [k for k in row if k not in spec.dims and k != "object"]
        assert set(spec.required) <= set(metrics) <= set(spec.metrics)
        assert list(row)[-len(spec.dims) :] == list(spec.dims)
    assert any(row["project_id"] is not None for row in rows)


def test_images_group_by_size_and_source(api: httpx.Client) -> None:
    body = get(
        api, "/organization/usage/images", start_time=DAY0, limit=1, group_by=["size", "source"]
    ).json()
    assert [
        (r["size"], r["source"], r["images"], r["model"]) for r in body["data"][0]["results"]
    ] == [("1024x1024", "image.generation", 4, None), ("1024x1792", "image.edit", 1, None)]


# -- pagination ---------------------------------------------------------------------------


def test_next_page_walks_every_bucket_once(api: httpx.Client) -> None:
    params = {"start_time": DAY0, "group_by": "project_id"}
    first = api.get(COMPLETIONS, params=params).json()
    assert len(first["data"]) == 7 and first["has_more"] is True
    assert first["next_page"].startswith("page_")
    second = api.get(COMPLETIONS, params={**params, "page": first["next_page"]}).json()
    assert [b["start_time"] for b in second["data"]] == [DAY0 + i * DAY for i in (7, 8, 9)]
    assert second["has_more"] is False and second["next_page"] is None
    assert day_totals(second) == [(DAY0 + 7 * DAY, []), (DAY0 + 8 * DAY, []), (DAY0 + 9 * DAY, [7])]


MISMATCH = err(
    "The 'page' cursor does not match this query: every other parameter (start_time, "
    "end_time, bucket_width, limit, group_by and filters) must stay identical while "
    "paginating.",
    "page",
    "invalid_request_error",
)


@pytest.mark.parametrize(
    "changed",
    [
        {"limit": 3},
        {"group_by": "model"},
        {"end_time": END + DAY},
        {"start_time": DAY0 + DAY},
        {"project_ids": "proj_alpha"},
        {"bucket_width": "1h"},
    ],
)
def test_a_cursor_replayed_with_another_parameter_is_a_400(
    api: httpx.Client, changed: dict[str, Any]
) -> None:
    params = {"start_time": DAY0, "limit": 2}
    cursor = api.get(COMPLETIONS, params=params).json()["next_page"]
    resp = api.get(COMPLETIONS, params={**params, **changed, "page": cursor})
    assert resp.status_code == 400
    assert resp.json() == MISMATCH


def test_a_cursor_is_bound_to_its_endpoint_and_must_be_well_formed(
    api: httpx.Client,
) -> None:
    params = {"start_time": DAY0, "limit": 2}
    cursor = api.get(COMPLETIONS, params=params).json()["next_page"]
    resp = api.get("/organization/usage/embeddings", params={**params, "page": cursor})
    assert resp.status_code == 400 and resp.json() == MISMATCH
    resp = api.get(COMPLETIONS, params={**params, "page": "page_garbage"})
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid 'page' cursor: 'page_garbage'. Pass the 'next_page' value of the previous "
        "response unchanged.",
        "page",
        "invalid_value",
    )


# -- parameter errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, err("Missing required parameter: 'start_time'.", None, "invalid_request_error")),
        (
            {"start_time": "abc"},
            err("Invalid type for 'start_time'.", "start_time", "invalid_type"),
        ),
        (
            {"start_time": "1.5"},
            err("Invalid type for 'start_time'.", "start_time", "invalid_type"),
        ),
        (
            {"start_time": DAY0, "end_time": "soon"},
            err("Invalid type for 'end_time'.", "end_time", "invalid_type"),
        ),
        (
            {"start_time": DAY0, "limit": "ten"},
            err("Invalid type for 'limit'.", "limit", "invalid_type"),
        ),
        (
            {"start_time": DAY0, "limit": 32},
            err(
                "Invalid limit provided: 32. Limit must be less than or equal to 31.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": DAY0, "limit": 0},
            err(
                "Invalid limit provided: 0. Limit must be greater than or equal to 1.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": DAY0, "bucket_width": "1h", "limit": 169},
            err(
                "Invalid limit provided: 169. Limit must be less than or equal to 168.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": DAY0, "bucket_width": "1m", "limit": 1441},
            err(
                "Invalid limit provided: 1441. Limit must be less than or equal to 1440.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": DAY0, "bucket_width": "1w"},
            err(
                "Invalid value for 'bucket_width': '1w'. Supported values are: '1m', '1h', '1d'.",
                "bucket_width",
                "invalid_value",
            ),
        ),
        (
            {"start_time": DAY0, "group_by": "size"},
            err(
                "Invalid value for 'group_by': 'size'. Supported values are: 'project_id', "
                "'user_id', 'api_key_id', 'model', 'batch', 'service_tier'.",
                "group_by",
                "invalid_value",
            ),
        ),
        (
            {"start_time": DAY0, "batch": "maybe"},
            err("Invalid type for 'batch'.", "batch", "invalid_type"),
        ),
    ],
)
def test_parameter_errors(
    api: httpx.Client, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    resp = api.get(COMPLETIONS, params=params)
    assert resp.status_code == 400
    assert resp.json() == expected


def test_limits_at_the_maximum_are_accepted(api: httpx.Client) -> None:
    for width, limit in (("1d", 31), ("1h", 168), ("1m", 1440)):
        body = get(api, COMPLETIONS, start_time=DAY0, bucket_width=width, limit=limit).json()
        assert len(body["data"]) == min(limit, 10) if width == "1d" else limit


def test_family_table_matches_the_record_contract() -> None:
    """The server's per-family table and model.py's column contract name the same things."""
    from kscope_openai_pipeline.sandbox.model import FAMILY_DIMENSIONS, FAMILY_METRICS

    assert set(FAMILIES) == set(FAMILY_DIMENSIONS) == set(FAMILY_METRICS)
    for name, spec in FAMILIES.items():
        assert spec.dims == FAMILY_DIMENSIONS[name], name
        assert set(spec.required) <= set(FAMILY_METRICS[name]) <= set(spec.metrics), name
