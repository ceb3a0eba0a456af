"""`/organization/costs` over real HTTP against the handmade org: exact Decimal amounts,
string amounts, grouping, the `api_key_id` floor, limits and every error body."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.page_text import decimal_number, decimal_string
from kscope_openai_pipeline.sandbox.routes_usage import amount_as_string
from kscope_openai_pipeline_tests.helpers.handmade_org import DAY, DAY0, END

COSTS = "/organization/costs"
FLOOR = 1_764_979_200  # 2025-12-06, DAY0 + 5 days


def err(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def exact(resp: httpx.Response) -> dict[str, Any]:
    """The body with every number as Decimal (never through float)."""
    return json.loads(resp.text, parse_float=Decimal, parse_int=Decimal)


def amount(result: dict[str, Any]) -> Decimal:
    value = result["amount"]["value"]
    return Decimal(value) if isinstance(value, str) else value


def test_daily_totals_are_exact(api: httpx.Client) -> None:
    body = exact(api.get(COSTS, params={"start_time": DAY0, "limit": 10}))
    totals = [[amount(r) for r in b["results"]] for b in body["data"]]
    assert totals == [
        [Decimal("12.501125")],
        [Decimal("0.00075")],
        [],
        [],
        [],
        [],
        [Decimal("12.50275")],
        [Decimal("0.000000001")],
        [],  # a zero-amount line without quantity is not a row
        [],
    ]
    first = body["data"][0]["results"][0]
    assert first["object"] == "organization.costs.result"
    assert first["amount"]["currency"] == "usd"
    assert [
        first[k] for k in ("line_item", "project_id", "api_key_id", "quantity", "quantity_unit")
    ] == [None] * 5


def test_amounts_are_written_digit_for_digit(api: httpx.Client) -> None:
    text = api.get(COSTS, params={"start_time": DAY0 + 7 * DAY, "limit": 1}).text
    as_string = amount_as_string(DAY0 + 7 * DAY, None, None, None)
    expected = '"0.000000001"' if as_string else "0.000000001"
    assert f'"amount":{{"value":{expected},"currency":"usd"}}' in text
    assert "e-" not in text.lower()


def test_group_by_project_and_line_item_carries_quantities(api: httpx.Client) -> None:
    body = exact(
        api.get(
            COSTS,
            params={
                "start_time": DAY0 + 6 * DAY,
                "limit": 1,
                "group_by": ["line_item", "project_id"],
            },
        )
    )
    rows = [
        (
            r["project_id"],
            r["line_item"],
            amount(r),
            r["quantity"],
            r["quantity_unit"],
            r["api_key_id"],
        )
        for r in body["data"][0]["results"]
    ]
    assert rows == [
        (None, "ChatGPT seats", Decimal("12.5"), Decimal(1), None, None),
        ("proj_beta", "gpt-4o, input", Decimal("0.00225"), Decimal(900), "tokens", None),
        ("proj_beta", "gpt-4o, output", Decimal("0.0005"), Decimal(50), "tokens", None),
    ]


def test_group_by_api_key_from_the_floor(api: httpx.Client) -> None:
    body = exact(api.get(COSTS, params={"start_time": FLOOR, "limit": 5, "group_by": "api_key_id"}))
    day6 = body["data"][1]
    assert day6["start_time"] == DAY0 + 6 * DAY
    assert [(r["api_key_id"], amount(r)) for r in day6["results"]] == [
        (None, Decimal("12.5")),
        ("key_bob_beta", Decimal("0.001")),
        ("key_cyd_beta", Decimal("0.00175")),
    ]


def test_filters(api: httpx.Client) -> None:
    body = exact(
        api.get(COSTS, params={"start_time": DAY0, "limit": 10, "project_ids": "proj_beta"})
    )
    assert [sum(map(amount, b["results"]), Decimal(0)) for b in body["data"]] == [
        0,
        0,
        0,
        0,
        0,
        0,
        Decimal("0.00275"),
        Decimal("0.000000001"),
        0,
        0,
    ]
    body = exact(
        api.get(COSTS, params={"start_time": DAY0, "limit": 3, "api_key_ids[]": "key_gone"})
    )
    assert [[amount(r) for r in b["results"]] for b in body["data"]] == [
        [],
        [Decimal("0.00075")],
        [],
    ]


def test_pages_of_costs_add_up_to_the_records(api: httpx.Client) -> None:
    params: dict[str, Any] = {"start_time": DAY0, "limit": 3, "group_by": "project_id"}
    total, pages, starts = Decimal(0), 0, []
    while True:
        body = exact(api.get(COSTS, params=params))
        pages += 1
        starts += [int(b["start_time"]) for b in body["data"]]
        total += sum((amount(r) for b in body["data"] for r in b["results"]), Decimal(0))
        if not body["has_more"]:
            break
        params["page"] = body["next_page"]
    assert pages == 4 and starts == [DAY0 + i * DAY for i in range(10)]
    assert total == Decimal("25.004625001")


def test_limit_180_is_allowed_and_366_is_rejected(api: httpx.Client) -> None:
    body = api.get(COSTS, params={"start_time": DAY0 - 170 * DAY, "limit": 180}).json()
    assert len(body["data"]) == 180 and body["data"][-1]["end_time"] == END
    assert body["has_more"] is False
    resp = api.get(COSTS, params={"start_time": DAY0, "limit": 366})
    assert resp.status_code == 400
    assert resp.json() == err(
        "Invalid limit provided: 366. Limit must be less than or equal to 180.",
        None,
        "invalid_request_error",
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, err("Missing required parameter: 'start_time'.", None, "invalid_request_error")),
        (
            {"start_time": "yesterday"},
            err("Invalid type for 'start_time'.", "start_time", "invalid_type"),
        ),
        (
            {"start_time": DAY0, "bucket_width": "1h"},
            err(
                "Invalid value for 'bucket_width': '1h'. Supported values are: '1d'.",
                "bucket_width",
                "invalid_value",
            ),
        ),
        (
            {"start_time": DAY0, "limit": 181},
            err(
                "Invalid limit provided: 181. Limit must be less than or equal to 180.",
                None,
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": DAY0, "group_by": "model"},
            err(
                "Invalid value for 'group_by': 'model'. Supported values are: 'project_id', "
                "'line_item', 'api_key_id'.",
                "group_by",
                "invalid_value",
            ),
        ),
        (
            {"start_time": FLOOR - 1, "group_by": "api_key_id"},
            err(
                "Grouping costs by 'api_key_id' is only available for start_time on or after "
                "1764979200 (2025-12-06T00:00:00Z).",
                "start_time",
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": FLOOR, "group_by": "api_key_id,project_id"},
            err(
                "Grouping by 'api_key_id' cannot be combined with other group_by dimensions; "
                "group by 'api_key_id' alone.",
                "group_by",
                "invalid_request_error",
            ),
        ),
        (
            {"start_time": FLOOR, "group_by[]": ["line_item", "api_key_id"]},
            err(
                "Grouping by 'api_key_id' cannot be combined with other group_by dimensions; "
                "group by 'api_key_id' alone.",
                "group_by",
                "invalid_request_error",
            ),
        ),
    ],
)
def test_errors(api: httpx.Client, params: dict[str, Any], expected: dict[str, Any]) -> None:
    resp = api.get(COSTS, params=params)
    assert resp.status_code == 400
    assert resp.json() == expected


def test_a_costs_cursor_is_bound_to_its_query(api: httpx.Client) -> None:
    params = {"start_time": DAY0, "limit": 2}
    cursor = api.get(COSTS, params=params).json()["next_page"]
    assert re.fullmatch(r"page_[A-Za-z0-9+/]{27}=", cursor)
    ok = api.get(COSTS, params={**params, "page": cursor})
    assert ok.status_code == 200 and ok.json()["data"][0]["start_time"] == DAY0 + 2 * DAY
    resp = api.get(COSTS, params={**params, "group_by": "line_item", "page": cursor})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "page"


def test_amount_text_helpers() -> None:
    assert [decimal_number(n) for n in (0, 1, 1_500_000_000, 12_500_000_000, -250_000_000)] == [
        "0",
        "0.000000001",
        "1.5",
        "12.5",
        "-0.25",
    ]
    assert [decimal_string(n) for n in (12_500_000_000, 1, 3_000_000_000, 123_456_789)] == [
        '"12.50"',
        '"0.000000001"',
        '"3.00"',
        '"0.123456789"',
    ]
