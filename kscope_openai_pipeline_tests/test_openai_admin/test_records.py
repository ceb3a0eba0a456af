"""Decoding, validation and normalization at the edge (pure functions, no HTTP needed)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from kscope_openai_pipeline.openai_admin import (
    COST_RECORD_KEYS,
    USAGE_FAMILIES,
    USAGE_RECORD_KEYS,
    AdminApiResponseError,
    ColumnPage,
    listing,
)
from kscope_openai_pipeline.openai_admin.buckets import parse_bucket_page
from kscope_openai_pipeline.openai_admin.decoding import utc_date, utc_datetime
from kscope_openai_pipeline.openai_admin.usage import COSTS_KIND, USAGE_KINDS
from kscope_openai_pipeline.openai_admin.window import Window, as_day, as_unix, utc_midnight

DAY = 86400
D0 = 1764979200  # 2025-12-06 00:00 UTC
WIN = Window(D0, D0 + 3 * DAY)


def page(results: list[dict], start: int = D0, **extra: object) -> dict:
    return {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": start,
                "end_time": start + DAY,
                "results": results,
                **extra,
            }
        ],
        "has_more": False,
        "next_page": None,
    }


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def usage_page(family: str, body: Any) -> ColumnPage:
    return parse_bucket_page(encode(body), "/u", WIN, USAGE_KINDS[family])


def usage(family: str, results: list[dict], start: int = D0) -> list[dict]:
    return list(usage_page(family, page(results, start)).rows())


def costs(results: list[dict]) -> list[dict]:
    return list(parse_bucket_page(encode(page(results)), "/c", WIN, COSTS_KIND).rows())


def list_page(body: Any, kind: listing.ListKind) -> listing.ListPage:
    return listing.parse_list_page(encode(body), "/k", kind)


def test_completions_record_has_every_key_and_defaults():
    [rec] = usage(
        "completions",
        [
            {
                "object": "organization.usage.completions.result",
                "input_tokens": 4200,
                "output_tokens": 900,
                "num_model_requests": 12,
                "input_cached_tokens": 1024,
                "project_id": "proj_a",
                "api_key_id": None,
                "model": "gpt-4o",
                "batch": True,
                "service_tier": "default",
                "user_id": "user-x",
                "input_text_tokens": 7,
                "brand_new_field": {"x": 1},
            }
        ],
    )
    assert tuple(rec) == USAGE_RECORD_KEYS
    assert rec == {
        "usage_type": "completions",
        "usage_date": date(2025, 12, 6),
        "project_id": "proj_a",
        "api_key_id": None,
        "model": "gpt-4o",
        "batch": True,
        "service_tier": "default",
        "image_size": None,
        "image_source": None,
        "vector_store_id": None,
        "context_level": None,
        "input_tokens": 4200,
        "output_tokens": 900,
        "input_cached_tokens": 1024,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": 12,
        "images": 0,
        "characters": 0,
        "seconds": 0,
        "usage_bytes": 0,
        "num_sessions": 0,
        "num_requests": 0,
    }


@pytest.mark.parametrize(
    ("family", "result", "expected"),
    [
        (
            "embeddings",
            {"input_tokens": 20, "num_model_requests": 2, "model": "e"},
            {"input_tokens": 20, "num_model_requests": 2, "model": "e"},
        ),
        (
            "moderations",
            {"input_tokens": 3, "num_model_requests": 1},
            {"input_tokens": 3, "num_model_requests": 1},
        ),
        (
            "images",
            {
                "images": 2,
                "num_model_requests": 2,
                "size": "1024x1024",
                "source": "image.generation",
            },
            {
                "images": 2,
                "num_model_requests": 2,
                "image_size": "1024x1024",
                "image_source": "image.generation",
            },
        ),
        (
            "audio_speeches",
            {"characters": 45, "num_model_requests": 1},
            {"characters": 45, "num_model_requests": 1},
        ),
        (
            "audio_transcriptions",
            {"seconds": 10, "num_model_requests": 1},
            {"seconds": 10, "num_model_requests": 1},
        ),
        (
            "vector_stores",
            {"usage_bytes": 1024, "project_id": "p", "model": "ignored"},
            {"usage_bytes": 1024, "project_id": "p"},
        ),
        ("code_interpreter_sessions", {"num_sessions": 3}, {"num_sessions": 3}),
        (
            "file_search_calls",
            {"num_requests": 2, "vector_store_id": "vs_1"},
            {"num_requests": 2, "vector_store_id": "vs_1"},
        ),
        (
            "web_search_calls",
            {"num_model_requests": 2, "num_requests": 5, "context_level": "high"},
            {"num_model_requests": 2, "num_requests": 5, "context_level": "high"},
        ),
    ],
)
def test_each_family_maps_its_fields(family, result, expected):
    [rec] = usage(family, [result])
    assert rec["usage_type"] == family
    non_default = {
        k: v for k, v in rec.items() if k not in ("usage_type", "usage_date") and v not in (0, None)
    }
    assert non_default == expected


def test_all_ten_families_are_known():
    assert len(USAGE_FAMILIES) == 10


@pytest.mark.parametrize(
    ("result", "field", "reason"),
    [
        ({"output_tokens": 1, "num_model_requests": 1}, "input_tokens", "required"),
        (
            {"input_tokens": "5", "output_tokens": 1, "num_model_requests": 1},
            "input_tokens",
            "must be an integer",
        ),
        (
            {"input_tokens": True, "output_tokens": 1, "num_model_requests": 1},
            "input_tokens",
            "must be an integer",
        ),
        (
            {"input_tokens": 5, "output_tokens": -1, "num_model_requests": 1},
            "output_tokens",
            "negative",
        ),
        (
            {"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "batch": "yes"},
            "batch",
            "boolean",
        ),
        (
            {"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "model": 4},
            "model",
            "string",
        ),
        (
            {
                "input_tokens": 5,
                "output_tokens": 1,
                "num_model_requests": 1,
                "input_cached_tokens": -3,
            },
            "input_cached_tokens",
            "negative",
        ),
    ],
)
def test_bad_results_name_field_and_value(result, field, reason):
    with pytest.raises(AdminApiResponseError) as err:
        usage("completions", [result])
    assert err.value.field == f"data[0].results[0].{field}"
    assert reason in str(err.value)
    assert str(err.value).startswith("/u: invalid response: field")


def test_bucket_outside_window_and_duplicates():
    with pytest.raises(AdminApiResponseError, match="outside the asked window") as err:
        usage("embeddings", [], start=D0 - DAY)
    assert err.value.value == D0 - DAY
    with pytest.raises(AdminApiResponseError, match="outside the asked window"):
        usage("embeddings", [], start=D0 + 3 * DAY)
    body = page([])
    body["data"].append(dict(body["data"][0]))
    with pytest.raises(AdminApiResponseError, match="duplicate bucket") as err:
        usage_page("embeddings", body)
    assert err.value.field == "data[1].start_time"
    row = {"input_tokens": 1, "num_model_requests": 1, "project_id": "p"}
    with pytest.raises(AdminApiResponseError, match="duplicate row") as err:
        usage("embeddings", [row, {**row, "api_key_id": ""}])  # "" is NULL, like absent
    assert err.value.field == "data[0].results[1].<dimensions>"
    assert err.value.value == {
        "project_id": "p",
        "api_key_id": None,
        "model": None,
        "batch": None,
        "service_tier": None,
        "image_size": None,
        "image_source": None,
        "vector_store_id": None,
        "context_level": None,
    }


def test_legacy_result_name_and_missing_results():
    body = page([])
    body["data"][0].pop("results")
    body["data"][0]["result"] = [{"num_sessions": 4}]
    recs = list(usage_page("code_interpreter_sessions", body).rows())
    assert [r["num_sessions"] for r in recs] == [4]
    body["data"][0]["result"] = [{"num_sessions": -1}]
    with pytest.raises(AdminApiResponseError, match="negative") as err:
        usage_page("code_interpreter_sessions", body)
    assert err.value.field == "data[0].result[0].num_sessions"
    body["data"][0]["results"] = []  # `results` wins: `result` is not even read
    assert usage_page("code_interpreter_sessions", body).num_rows == 0
    body["data"][0].pop("result")
    body["data"][0].pop("results")
    with pytest.raises(AdminApiResponseError, match="required") as err:
        usage_page("vector_stores", body)
    assert err.value.field == "data[0].results"


def test_cost_amounts_are_exact_decimals_from_number_or_string():
    raw = (
        b'{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket",'
        b'"start_time":1764979200,"end_time":1765065600,"results":['
        b'{"object":"organization.costs.result","amount":{"value":1.2345678901234567890,'
        b'"currency":"usd"},"line_item":"gpt-5, input","project_id":"proj_a",'
        b'"quantity":1000,"quantity_unit":"tokens","organization_id":"org-x"},'
        b'{"amount":{"value":"12.50","currency":"usd"},"line_item":"seats","project_id":null,'
        b'"quantity":"0.5"},'
        b'{"amount":{"value":-0.25,"currency":"usd"},"line_item":"credit","project_id":"proj_a"}'
        b"]}]}"
    )
    parsed = parse_bucket_page(raw, "/c", WIN, COSTS_KIND)
    assert parsed.column_names == COST_RECORD_KEYS and len(parsed) == parsed.num_rows == 3
    recs = list(parsed.rows())
    assert [tuple(r) for r in recs] == [COST_RECORD_KEYS] * 3
    assert recs[0]["amount_usd"] == Decimal("1.2345678901234567890")
    assert str(recs[0]["amount_usd"]) == "1.2345678901234567890"
    assert recs[0]["quantity"] == Decimal(1000) and recs[0]["quantity_unit"] == "tokens"
    assert recs[1]["amount_usd"] == Decimal("12.50") and recs[1]["quantity"] == Decimal("0.5")
    assert recs[1]["project_id"] is None and recs[1]["api_key_id"] is None
    assert recs[2]["amount_usd"] == Decimal("-0.25")
    assert sum(r["amount_usd"] for r in recs) == Decimal("13.4845678901234567890")


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        (None, "amount"),
        ({"currency": "usd"}, "amount.value"),
        ({"value": "12,5", "currency": "usd"}, "numeric string"),
        ({"value": True, "currency": "usd"}, "numeric string"),
        ({"value": "NaN", "currency": "usd"}, "finite"),
    ],
)
def test_bad_cost_amounts(amount, match):
    result = {"object": "organization.costs.result", "line_item": "x"}
    if amount is not None:
        result["amount"] = amount
    with pytest.raises(AdminApiResponseError, match=match):
        costs([result])


def test_not_json_and_non_finite_numbers():
    with pytest.raises(AdminApiResponseError, match="not valid JSON") as err:
        parse_bucket_page(b'{"data": [', "/c", WIN, COSTS_KIND)
    assert err.value.field == "<body>"
    assert err.value.value == "10 bytes starting '{\"data\": ['"
    with pytest.raises(AdminApiResponseError, match="not valid JSON"):
        parse_bucket_page(b'{"data": [], "has_more": NaN}', "/c", WIN, COSTS_KIND)


def test_list_page_cursor_and_key_owner_flattening():
    body = {
        "object": "list",
        "has_more": True,
        "first_id": "key_1",
        "last_id": "key_2",
        "data": [
            {
                "object": "organization.project.api_key",
                "id": "key_1",
                "name": "ci",
                "redacted_value": "sk-proj-****Zx9Q",
                "created_at": 1719000000,
                "last_used_at": None,
                "owner": {
                    "type": "service_account",
                    "service_account": {
                        "id": "svc_acct_Q1",
                        "name": "ci-bot",
                        "created_at": 1719000000,
                        "role": "member",
                    },
                },
            },
            {
                "id": "key_2",
                "name": "ann",
                "redacted_value": "sk-proj-****AAAA",
                "created_at": 1719000001,
                "last_used_at": 1719003600,
                "owner": {
                    "type": "user",
                    "user": {"id": "user-k2", "email": "a@x.io", "name": "Ann", "role": "owner"},
                },
            },
        ],
    }
    parsed = list_page(body, listing.project_api_keys("proj_a"))
    assert parsed.has_more is True and parsed.cursor == "key_2"
    assert parsed.records[0] == {
        "api_key_id": "key_1",
        "key_kind": "project",
        "project_id": "proj_a",
        "name": "ci",
        "redacted_value": "sk-proj-****Zx9Q",
        "created_at": datetime(2024, 6, 21, 20, 0),
        "last_used_at": None,
        "expires_at": None,
        "owner_type": "service_account",
        "owner_id": "svc_acct_Q1",
        "owner_email": None,
        "owner_name": "ci-bot",
    }
    assert parsed.records[1]["owner_email"] == "a@x.io"
    assert parsed.records[1]["last_used_at"] == datetime(2024, 6, 21, 21, 0)
    body["last_id"] = None
    assert list_page(body, listing.project_api_keys("p")).cursor == "key_2"
    body["data"][1]["created_at"] = "2024-06-21"
    with pytest.raises(AdminApiResponseError) as err:
        list_page(body, listing.project_api_keys("p"))
    assert err.value.field == "data[1].created_at" and err.value.value == "2024-06-21"
    assert str(err.value) == (
        "/k: invalid response: field 'data[1].created_at' must be an integer (got 2024-06-21)"
    )


def test_naive_utc_datetimes():
    assert utc_datetime(D0) == datetime(2025, 12, 6)
    assert utc_datetime(D0).tzinfo is None
    assert utc_datetime(0) == datetime(1970, 1, 1)
    assert utc_datetime(D0 + DAY - 1) == datetime(2025, 12, 6, 23, 59, 59)
    assert utc_datetime(4_102_444_799) == datetime(2099, 12, 31, 23, 59, 59)
    assert utc_date(D0 + DAY - 1) == date(2025, 12, 6)
    assert utc_date(D0 + DAY) == date(2025, 12, 7)
    # the same instants Python's own UTC conversion gives, every ~11.6 days to 2100
    for ts in range(0, 4_102_444_800, 1_000_003):
        aware = datetime.fromtimestamp(ts, tz=UTC)
        assert (utc_datetime(ts), utc_date(ts)) == (aware.replace(tzinfo=None), aware.date())


def _cursor_order(body: dict) -> list[str]:
    """What `parse_list_page` did, in order: the cursor it handed on, the items it read."""
    seen: list[str] = []

    def read(item: Any, endpoint: str, at: str) -> tuple[str, dict]:
        seen.append(f"read {item.id}")
        return item.id, {"user_id": item.id}

    kind = listing.ListKind(listing.USERS.decoder, read)
    listing.parse_list_page(encode(body), "/u", kind, lambda c: seen.append(f"cursor {c}"))
    return seen


def test_a_list_page_hands_on_its_cursor_before_its_items_are_read():
    """The next page is requested as soon as the envelope names it (read-ahead), so it is
    served while this page's items are decoded; without `last_id`, after them."""
    users = [{"object": "organization.user", "id": f"u{i}", "added_at": D0} for i in (1, 2)]
    body = {"object": "list", "data": users, "has_more": True, "last_id": "u2"}
    assert _cursor_order(body) == ["cursor u2", "read u1", "read u2"]
    del body["last_id"]
    assert _cursor_order(body) == ["read u1", "read u2", "cursor u2"]
    body["has_more"] = False
    assert _cursor_order({**body, "last_id": "u2"}) == ["read u1", "read u2"]


def test_day_and_time_bounds():
    assert utc_midnight(date(2025, 12, 6)) == D0
    assert as_day(datetime(2025, 12, 6), "start") == date(2025, 12, 6)
    aware = datetime(2025, 12, 6, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert as_day(aware, "start") == date(2025, 12, 6)  # 00:00 UTC
    with pytest.raises(ValueError, match="UTC day boundary"):
        as_day(datetime(2025, 12, 6, 12), "start")
    with pytest.raises(TypeError):
        as_day("2025-12-06", "start")
    assert as_unix(date(2025, 12, 6), "s") == D0 == as_unix(datetime(2025, 12, 6), "s")
    assert as_unix(D0 + 5, "s") == D0 + 5
    with pytest.raises(TypeError):
        as_unix(True, "s")


def test_empty_optional_text_becomes_null():
    """The API sends "" for the e-mail and name of a key owner who left the organization;
    stored as NULL so that no join mistakes "" for an address."""
    body = {
        "object": "list",
        "has_more": False,
        "first_id": "key_3",
        "last_id": "key_3",
        "data": [
            {
                "id": "key_3",
                "name": "",
                "redacted_value": "sk-proj-****BBBB",
                "created_at": 1719000000,
                "last_used_at": None,
                "owner": {
                    "type": "user",
                    "user": {"id": "user-gone", "email": "", "name": "", "role": "member"},
                },
            }
        ],
    }
    record = list_page(body, listing.project_api_keys("proj_a")).records[0]
    assert (record["name"], record["owner_email"], record["owner_name"]) == (None, None, None)
    assert record["owner_id"] == "user-gone"
