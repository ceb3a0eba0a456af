"""A corpus of malformed or surprising Admin API responses, each with its expected fate.

Every case is served over real HTTP by a scripted loopback server and is either
*normalized* (the exact records the client must hand out are given) or *rejected* (the
error class, the field path it must name, and words of its reason are given). The
normalization rules (documented in openai_admin/buckets.py, listing.py, usage.py and
defs/frames.py):

- unknown extra fields are ignored (newer API fields, `organization_id`, `user_email`);
- a missing optional metric is 0, a missing or null dimension is NULL, an empty-string
  dimension is NULL;
- the pre-2025 `result` key is read as `results`; empty buckets give no rows;
- cost amounts are exact Decimals from numbers or numeric strings, negative allowed
  (credits); the warehouse rounds an over-precise amount half-even to 9 places;
- a list page without `last_id` continues from its last item's id; a UTF-8 BOM is fine.

Everything else named in the issue is rejected with the endpoint and the field path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from kscope_openai_pipeline.openai_admin import (
    AdminApiBadRequest,
    AdminApiNotFound,
    AdminApiResponseError,
    AdminApiRetryExhausted,
)
from kscope_openai_pipeline_tests.test_openai_admin.scripted_server import Reply

DAY0, DAY1 = date(2026, 11, 1), date(2026, 11, 2)  # the asked window: [DAY0, DAY0 + 2 days)
D0 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
D1, END = D0 + 86400, D0 + 2 * 86400
DROP = object()  # a field to leave out

USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"
USERS_PATH = "/v1/organization/users"
USAGE_EP, COSTS_EP, USERS_EP = (p.removeprefix("/v1") for p in (USAGE_PATH, COSTS_PATH,
                                                                   USERS_PATH))


def _fill(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **over}
    return {k: v for k, v in out.items() if v is not DROP}


def completion(**over: Any) -> dict[str, Any]:
    return _fill(
        {
            "object": "organization.usage.completions.result",
            "input_tokens": 100,
            "output_tokens": 20,
            "input_cached_tokens": 10,
            "input_audio_tokens": 0,
            "output_audio_tokens": 0,
            "num_model_requests": 3,
            "project_id": "proj_a",
            "user_id": None,
            "api_key_id": "key_a",
            "model": "gpt-4o-mini-2024-07-18",
            "batch": False,
            "service_tier": "default",
        },
        over,
    )


def cost(**over: Any) -> dict[str, Any]:
    return _fill(
        {
            "object": "organization.costs.result",
            "amount": {"value": 1.5, "currency": "usd"},
            "line_item": "gpt-4o-mini, input",
            "project_id": "proj_a",
            "api_key_id": None,
            "quantity": None,
            "quantity_unit": None,
        },
        over,
    )


def user(uid: str = "user-1", **over: Any) -> dict[str, Any]:
    return _fill(
        {
            "object": "organization.user",
            "id": uid,
            "name": "Ann",
            "email": "ann@example.com",
            "role": "owner",
            "added_at": 1_760_000_000,
        },
        over,
    )


def bucket(start: int, results: list[Any], end: int | None = None, key: str = "results"):
    return {"object": "bucket", "start_time": start, "end_time": end or start + 86400,
            key: results}


def page(*buckets: Any, has_more: bool = False, next_page: str | None = None, **extra: Any):
    return {"object": "page", "data": list(buckets), "has_more": has_more,
            "next_page": next_page, **extra}


def users_page(*items: Any, has_more: bool = False, last_id: Any = "auto", **extra: Any):
    ids = [i.get("id") for i in items if isinstance(i, dict)]
    last = (ids[-1] if ids else None) if last_id == "auto" else last_id
    return {"object": "list", "data": list(items), "first_id": ids[0] if ids else None,
            "last_id": last, "has_more": has_more, **extra}


def usage_record(day: date = DAY0, **over: Any) -> dict[str, Any]:
    """The record the client hands out for `completion(**over)` (before over-rides)."""
    record = {
        "usage_type": "completions", "usage_date": day, "project_id": "proj_a",
        "api_key_id": "key_a", "model": "gpt-4o-mini-2024-07-18", "batch": False,
        "service_tier": "default", "image_size": None, "image_source": None,
        "vector_store_id": None, "context_level": None, "input_tokens": 100,
        "output_tokens": 20, "input_cached_tokens": 10, "input_audio_tokens": 0,
        "output_audio_tokens": 0, "num_model_requests": 3, "images": 0, "characters": 0,
        "seconds": 0, "usage_bytes": 0, "num_sessions": 0, "num_requests": 0,
    }
    record.update(over)
    return record


def cost_record(day: date = DAY0, **over: Any) -> dict[str, Any]:
    record = {"cost_date": day, "project_id": "proj_a", "line_item": "gpt-4o-mini, input",
              "api_key_id": None, "amount_usd": Decimal("1.5"), "currency": "usd",
              "quantity": None, "quantity_unit": None}
    record.update(over)
    return record


def user_record(uid: str = "user-1", **over: Any) -> dict[str, Any]:
    record = {"user_id": uid, "email": "ann@example.com", "name": "Ann", "role": "owner",
              "added_at": datetime(2025, 10, 9, 8, 53, 20)}
    record.update(over)
    return record


@dataclass(frozen=True)
class Rejected:
    """The client must raise `error`; its message names the endpoint; for a malformed
    body, `field` is the exact field path and `reason` words of the explanation."""

    error: type[Exception]
    field: str | None
    reason: str


@dataclass(frozen=True)
class Case:
    """One response script: `replies` by cursor (None = the first request; for bucket
    endpoints the `page` parameter, for lists the `after` parameter)."""

    name: str
    target: str  # "usage" | "costs" | "users"
    replies: dict[str | None, Reply]
    expect: Rejected | list[dict[str, Any]]
    asset: tuple[str, list[tuple[Any, ...]]] | None = None  # (SQL, stored rows) if run
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def path(self) -> str:
        return {"usage": USAGE_PATH, "costs": COSTS_PATH, "users": USERS_PATH}[self.target]

    @property
    def endpoint(self) -> str:
        return self.path.removeprefix("/v1")


def ok(body: Any) -> Reply:
    return Reply(200, body)


def raw(content: bytes, status: int = 200, **headers: str) -> Reply:
    return Reply(status, content, dict(headers))


def rejected(field_path: str | None, reason: str, error: type[Exception] = AdminApiResponseError):
    return Rejected(error, field_path, reason)


R0 = "data[0].results[0]"
USAGE_IN_WINDOW = (
    "SELECT usage_date, model, api_key_id, input_tokens, output_tokens, num_model_requests "
    "FROM openai.usage WHERE usage_date BETWEEN DATE '2026-11-01' AND DATE '2026-11-02' "
    "ORDER BY ALL"
)
COSTS_IN_WINDOW = (
    "SELECT cost_date, project_id, line_item, amount_usd, currency FROM openai.costs "
    "WHERE cost_date BETWEEN DATE '2026-11-01' AND DATE '2026-11-02' ORDER BY ALL"
)
USERS_ALL = "SELECT user_id, email, name, role, added_at FROM openai.users ORDER BY ALL"
ASSET_REJECT: list[tuple[Any, ...]] = []  # marker: a rejection also driven through the asset

CASES: list[Case] = [
    # ------------------------------------------------------------------ usage, rejected
    Case("usage_missing_required_metric", "usage",
         {None: ok(page(bucket(D0, [completion(input_tokens=DROP)])))},
         rejected(f"{R0}.input_tokens", "is required but missing")),
    Case("usage_required_metric_null", "usage",
         {None: ok(page(bucket(D0, [completion(input_tokens=None)])))},
         rejected(f"{R0}.input_tokens", "must be an integer, not null")),
    Case("usage_metric_as_string", "usage",
         {None: ok(page(bucket(D0, [completion(input_tokens="100")])))},
         rejected(f"{R0}.input_tokens", "must be an integer")),
    Case("usage_metric_as_float", "usage",
         {None: ok(page(bucket(D0, [completion(output_tokens=20.5)])))},
         rejected(f"{R0}.output_tokens", "must be an integer")),
    Case("usage_metric_as_bool", "usage",
         {None: ok(page(bucket(D0, [completion(num_model_requests=True)])))},
         rejected(f"{R0}.num_model_requests", "must be an integer")),
    Case("usage_negative_tokens", "usage",
         {None: ok(page(bucket(D0, [completion(output_tokens=-5)])))},
         rejected(f"{R0}.output_tokens", "must not be negative"), asset=("", ASSET_REJECT)),
    Case("usage_metric_beyond_int64", "usage",
         {None: ok(page(bucket(D0, [completion(input_tokens=2**64)])))},
         rejected(f"{R0}.input_tokens", "does not fit a 64-bit integer"),
         asset=("", ASSET_REJECT)),
    Case("usage_duplicate_bucket_in_page", "usage",
         {None: ok(page(bucket(D0, [completion()]), bucket(D0, [completion()])))},
         rejected("data[1].start_time", "is a duplicate bucket")),
    Case("usage_duplicate_bucket_across_pages", "usage",
         {None: ok(page(bucket(D0, [completion()]), has_more=True, next_page="p1")),
          "p1": ok(page(bucket(D0, [completion()])))},
         rejected("data[].start_time", "already returned on an earlier page"),
         asset=("", ASSET_REJECT)),
    Case("usage_bucket_before_window", "usage",
         {None: ok(page(bucket(D0 - 86400, [completion()])))},
         rejected("data[0].start_time", "is outside the asked window"),
         asset=("", ASSET_REJECT)),
    Case("usage_bucket_after_window", "usage",
         {None: ok(page(bucket(END, [completion()])))},
         rejected("data[0].start_time", "is outside the asked window")),
    Case("usage_bucket_ends_past_window", "usage",
         {None: ok(page(bucket(D1, [completion()], end=END + 86400)))},
         rejected("data[0].end_time", f"must be after start_time {D1} and <= {END}")),
    Case("usage_unknown_usage_family", "usage",
         {None: ok(page(bucket(D0, [completion(object="organization.usage.realtime.result")])))},
         rejected(f"{R0}.object", "must be 'organization.usage.completions.result'"),
         asset=("", ASSET_REJECT)),
    Case("usage_result_of_another_family", "usage",
         {None: ok(page(bucket(D0, [completion(object="organization.usage.embeddings.result")])))},
         rejected(f"{R0}.object", "on this endpoint")),
    Case("usage_duplicate_dimensions_in_bucket", "usage",
         {None: ok(page(bucket(D0, [completion(), completion(input_tokens=1)])))},
         rejected("data[0].results[1].<dimensions>", "duplicate row for the same dimensions")),
    Case("usage_has_more_without_cursor", "usage",
         {None: ok(page(bucket(D0, [completion()]), has_more=True, next_page=None))},
         rejected("next_page", "must name a new cursor while has_more is true")),
    Case("usage_cursor_repeats", "usage",
         {None: ok(page(bucket(D0, []), has_more=True, next_page="p1")),
          "p1": ok(page(bucket(D1, []), has_more=True, next_page="p1"))},
         rejected("next_page", "must name a new cursor while has_more is true")),
    Case("usage_has_more_missing", "usage",
         {None: ok({"object": "page", "data": [], "next_page": None})},
         rejected("has_more", "is required but missing")),
    Case("usage_data_not_an_array", "usage",
         {None: ok({"object": "page", "data": {"buckets": []}, "has_more": False,
                    "next_page": None})},
         rejected("data", "must be an array")),
    Case("usage_results_null", "usage",
         {None: ok(page({"object": "bucket", "start_time": D0, "end_time": D1,
                         "results": None}))},
         rejected("data[0].results", "must be an array")),
    Case("usage_batch_as_string", "usage",
         {None: ok(page(bucket(D0, [completion(batch="false")])))},
         rejected(f"{R0}.batch", "must be a boolean")),
    Case("usage_model_as_number", "usage",
         {None: ok(page(bucket(D0, [completion(model=4)])))},
         rejected(f"{R0}.model", "must be a string")),
    # ---------------------------------------------------------------- usage, normalized
    Case("usage_extra_fields_ignored", "usage",
         {None: ok(page(bucket(D0, [completion(input_reasoning_tokens=50,
                                               input_text_tokens=90, extra={"x": [1]})]),
                        usage_note="newer API"))},
         [usage_record()],
         asset=(USAGE_IN_WINDOW,
                [(DAY0, "gpt-4o-mini-2024-07-18", "key_a", 100, 20, 3)])),
    Case("usage_optional_metrics_missing", "usage",
         {None: ok(page(bucket(D0, [completion(input_cached_tokens=DROP,
                                               input_audio_tokens=DROP,
                                               output_audio_tokens=DROP)])))},
         [usage_record(input_cached_tokens=0)]),
    Case("usage_dimensions_omitted", "usage",
         {None: ok(page(bucket(D0, [completion(user_id=DROP, batch=DROP,
                                               service_tier=DROP)])))},
         [usage_record(batch=None, service_tier=None)]),
    Case("usage_null_dimensions_while_grouped", "usage",
         {None: ok(page(bucket(D1, [completion(project_id=None, api_key_id=None,
                                               model=None)])))},
         [usage_record(DAY1, project_id=None, api_key_id=None, model=None)],
         asset=(USAGE_IN_WINDOW, [(DAY1, None, None, 100, 20, 3)])),
    Case("usage_empty_string_dimension", "usage",
         {None: ok(page(bucket(D0, [completion(api_key_id="")])))},
         [usage_record(api_key_id=None)]),
    Case("usage_legacy_result_key", "usage",
         {None: ok(page(bucket(D0, [completion()], key="result")))},
         [usage_record()]),
    Case("usage_empty_buckets", "usage",
         {None: ok(page(bucket(D0, []), bucket(D1, [])))},
         []),
    Case("usage_buckets_out_of_order", "usage",
         {None: ok(page(bucket(D1, [completion(model="b")]), bucket(D0, [completion()])))},
         [usage_record(DAY1, model="b"), usage_record()]),
    Case("usage_two_pages", "usage",
         {None: ok(page(bucket(D0, [completion()]), has_more=True, next_page="p1")),
          "p1": ok(page(bucket(D1, [completion(input_tokens=5)])))},
         [usage_record(), usage_record(DAY1, input_tokens=5)]),
    Case("usage_unicode_model_name", "usage",
         {None: ok(page(bucket(D0, [completion(model="gpt-4o-ünï-🚀-نموذج")])))},
         [usage_record(model="gpt-4o-ünï-🚀-نموذج")]),
    Case("usage_utf8_bom", "usage",
         {None: raw(b"\xef\xbb\xbf" + json.dumps(page(bucket(D0, [completion()]))).encode())},
         [usage_record()]),
    # ------------------------------------------------------------------ costs
    Case("costs_amount_as_string", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": "12.50", "currency": "usd"})])))},
         [cost_record(amount_usd=Decimal("12.50"))],
         asset=(COSTS_IN_WINDOW,
                [(DAY0, "proj_a", "gpt-4o-mini, input", Decimal("12.500000000"), "usd")])),
    Case("costs_negative_amount_is_a_credit", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": -0.25, "currency": "usd"})])))},
         [cost_record(amount_usd=Decimal("-0.25"))]),
    Case("costs_amount_with_float_noise", "costs",
         {None: raw(json.dumps(page(bucket(D0, [cost(amount={"value": 0.06000000000000001,
                                                             "currency": "usd"})]))).encode())},
         [cost_record(amount_usd=Decimal("0.06000000000000001"))],
         asset=(COSTS_IN_WINDOW,
                [(DAY0, "proj_a", "gpt-4o-mini, input", Decimal("0.060000000"), "usd")])),
    Case("costs_amount_not_a_number", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": "abc", "currency": "usd"})])))},
         rejected(f"{R0}.amount.value", "must be a number or a numeric string"),
         asset=("", ASSET_REJECT)),
    Case("costs_amount_nan_string", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": "NaN", "currency": "usd"})])))},
         rejected(f"{R0}.amount.value", "must be finite")),
    Case("costs_amount_missing", "costs",
         {None: ok(page(bucket(D0, [cost(amount=DROP)])))},
         rejected(f"{R0}.amount", "is required but missing")),
    Case("costs_amount_value_null", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": None, "currency": "usd"})])))},
         rejected(f"{R0}.amount.value", "must be a number, not null")),
    Case("costs_amount_bare_number", "costs",
         {None: ok(page(bucket(D0, [cost(amount=12.5)])))},
         rejected(f"{R0}.amount", "is not an object")),
    Case("costs_json_nan_literal", "costs",
         {None: raw(b'{"object":"page","data":[{"object":"bucket","start_time":%d,'
                    b'"end_time":%d,"results":[{"amount":{"value":NaN,"currency":"usd"}}]}],'
                    b'"has_more":false,"next_page":null}' % (D0, D1))},
         rejected("<body>", "is not valid JSON")),
    Case("costs_quantity_as_string", "costs",
         {None: ok(page(bucket(D0, [cost(quantity="1000", quantity_unit="tokens")])))},
         [cost_record(quantity=Decimal("1000"), quantity_unit="tokens")]),
    Case("costs_extra_fields_ignored", "costs",
         {None: ok(page(bucket(D0, [cost(organization_id="org-x", user_id="user-1",
                                         user_email="a@x.io")])))},
         [cost_record()]),
    Case("costs_currency_uppercase", "costs",
         {None: ok(page(bucket(D0, [cost(amount={"value": 2, "currency": "USD"})])))},
         [cost_record(amount_usd=Decimal(2), currency="USD")],  # the client passes it on;
         asset=("", ASSET_REJECT), tags=("warehouse_rejects",)),  # the warehouse refuses it
    # ------------------------------------------------------------------ lists (users)
    Case("users_missing_id", "users",
         {None: ok(users_page(user(uid=DROP)))},
         rejected("data[0].id", "is required but missing")),
    Case("users_duplicate_id_in_page", "users",
         {None: ok(users_page(user(), user()))},
         rejected("data[1].id", "is duplicated within the page")),
    Case("users_timestamp_iso_string", "users",
         {None: ok(users_page(user(added_at="2025-10-09T08:53:20Z")))},
         rejected("data[0].added_at", "must be an integer")),
    Case("users_timestamp_in_milliseconds", "users",
         {None: ok(users_page(user(added_at=1_760_000_000_000)))},
         rejected("data[0].added_at", "is not Unix seconds before 2100 (milliseconds?)"),
         asset=("", ASSET_REJECT)),
    Case("users_timestamp_negative", "users",
         {None: ok(users_page(user(added_at=-1)))},
         rejected("data[0].added_at", "must not be negative")),
    Case("users_item_not_an_object", "users",
         {None: ok(users_page("user-1"))},
         rejected("data[0]", "is not an object")),
    Case("users_has_more_without_cursor", "users",
         {None: ok(users_page(has_more=True, last_id=None))},
         rejected("last_id", "must name a new cursor while has_more is true")),
    Case("users_email_null", "users",
         {None: ok(users_page(user(email=None)))},
         [user_record(email=None)],
         asset=(USERS_ALL, [("user-1", None, "Ann", "owner", datetime(2025, 10, 9, 8, 53, 20))])),
    Case("users_last_id_missing_continues_from_last_item", "users",
         {None: ok(users_page(user(), has_more=True, last_id=None)),
          "user-1": ok(users_page(user("user-2", email="bo@example.com")))},
         [user_record(), user_record("user-2", email="bo@example.com")]),
    # --------------------------------------------------------- bodies that are not JSON
    Case("html_error_page_with_200", "users",
         {None: raw(b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>",
                    **{"Content-Type": "text/html"})},
         rejected("<body>", "is not valid JSON"), asset=("", ASSET_REJECT)),
    Case("html_502_from_a_proxy", "users",
         {None: raw(b"<html><head><title>502 Bad Gateway</title></head></html>", 502)},
         rejected(None, "last status: 502", AdminApiRetryExhausted)),
    Case("html_404_wrong_base_url", "users",
         {None: raw(b"<html>Not Found</html>", 404)},
         rejected(None, "not found (404)", AdminApiNotFound)),
    Case("empty_body_with_200", "usage",
         {None: raw(b"")},
         rejected("<body>", "is not valid JSON")),
    Case("non_utf8_body", "users",
         {None: raw(b'{"object":"list","data":[{"id":"user-1","added_at":1760000000,'
                    b'"email":"ann\xe9@example.com"}],"has_more":false}')},
         rejected("<body>", "UnicodeDecodeError"), asset=("", ASSET_REJECT)),
    Case("json_null_body", "users",
         {None: raw(b"null")},
         rejected("<body>", "is not an object")),
    Case("json_array_body", "costs",
         {None: raw(b"[]")},
         rejected("<body>", "is not an object")),
    Case("truncated_json", "costs",
         {None: raw(json.dumps(page(bucket(D0, [cost()]))).encode()[:40])},
         rejected("<body>", "is not valid JSON")),
    Case("error_envelope_with_200", "usage",
         {None: ok({"error": {"message": "internal", "type": "server_error", "param": None,
                              "code": None}})},
         rejected("data", "is required but missing")),
    Case("bad_request_400_naming_a_parameter", "costs",
         {None: Reply(400, {"error": {"message": "Invalid limit provided: 180.",
                                      "type": "invalid_request_error", "param": "limit",
                                      "code": "invalid_request_error"}})},
         rejected(None, "the API rejected parameter 'limit'", AdminApiBadRequest)),
]
