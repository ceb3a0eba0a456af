"""Faults over real HTTP: every kind, counted and seeded-random modes, the request log."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx
import pytest

from kscope_openai_pipeline.sandbox.faults import Fault, parse_fault_spec
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox, ServedRequest
from kscope_openai_pipeline_tests.helpers.handmade_org import ADMIN_KEY, DAY0

from .clients import client

USAGE = "/organization/usage/completions"
Q = {"start_time": DAY0, "limit": 3}

pytestmark = pytest.mark.reliability


def server_error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "param": None, "code": None}}


def test_429_with_retry_after_hits_the_next_n_matching_requests(
    hsb: Sandbox, api: httpx.Client
) -> None:
    hsb.inject(Fault(kind="429", path="/organization/usage/*", times=2, retry_after="1"))
    assert api.get("/organization/projects").status_code == 200  # path does not match
    for _ in range(2):
        resp = api.get(USAGE, params=Q)
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "1"
        assert "retry-after-ms" not in resp.headers
        assert resp.json() == {
            "error": {
                "message": "Rate limit reached for requests to /v1/organization/usage/completions. "
                "Please try again in 1s.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
    assert api.get(USAGE, params=Q).status_code == 200
    assert [r.status for r in hsb.requests] == [200, 429, 429, 200]


def test_429_with_an_http_date_and_retry_after_ms(hsb: Sandbox, api: httpx.Client) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    hsb.inject(Fault(kind="429", retry_after=date, retry_after_ms=1500))
    resp = api.get(USAGE, params=Q)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == date and resp.headers["retry-after-ms"] == "1500"
    assert resp.json()["error"]["message"].endswith("Please try again later.")


def test_429_without_retry_after(hsb: Sandbox, api: httpx.Client) -> None:
    hsb.inject(Fault(kind="429_no_retry_after", path="/organization/costs"))
    resp = api.get("/organization/costs", params=Q)
    assert resp.status_code == 429 and "retry-after" not in resp.headers
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("500", "The server had an error while processing your request. Sorry about that!"),
        ("502", "Bad gateway."),
        ("503", "The server is overloaded or not ready yet."),
    ],
)
def test_server_errors(hsb: Sandbox, api: httpx.Client, kind: str, message: str) -> None:
    hsb.inject(Fault(kind=kind, path="/organization/users"))
    resp = api.get("/organization/users")
    assert resp.status_code == int(kind)
    assert resp.json() == server_error(message)
    assert api.get("/organization/users").status_code == 200


def test_slow_then_normal_response(hsb: Sandbox, api: httpx.Client) -> None:
    normal = api.get(USAGE, params=Q).content
    hsb.inject(Fault(kind="slow", path=USAGE, delay=0.3))
    began = time.perf_counter()
    resp = api.get(USAGE, params=Q)
    assert time.perf_counter() - began >= 0.3
    assert resp.status_code == 200 and resp.content == normal


def test_drop_closes_the_connection_without_a_response(hsb: Sandbox, api: httpx.Client) -> None:
    hsb.inject(Fault(kind="drop", path=USAGE))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(USAGE, params=Q)
    assert api.get(USAGE, params=Q).status_code == 200
    assert [r.status for r in hsb.requests] == [0, 200]


def test_truncated_is_a_200_with_half_the_json(hsb: Sandbox, api: httpx.Client) -> None:
    normal = api.get(USAGE, params=Q).content
    hsb.inject(Fault(kind="truncated", path=USAGE))
    resp = api.get(USAGE, params=Q)
    assert resp.status_code == 200
    assert resp.content == normal[: len(normal) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)


def test_after_faults_wait_for_a_200(hsb: Sandbox, api: httpx.Client) -> None:
    hsb.inject(Fault(kind="truncated", path=USAGE))
    assert api.get(USAGE).status_code == 400  # missing start_time: untouched, not consumed
    resp = api.get(USAGE, params=Q)
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        resp.json()


def test_wrong_type_on_usage_costs_and_lists(hsb: Sandbox, api: httpx.Client) -> None:
    hsb.inject(Fault(kind="wrong_type", path="*", times=4))
    usage = api.get(USAGE, params=Q).json()
    first = usage["data"][0]["results"][0]
    assert first["input_tokens"] == "abc" and first["output_tokens"] == 130
    costs = api.get("/organization/costs", params=Q).json()
    assert costs["data"][0]["results"][0]["amount"]["value"] == "abc"
    projects = api.get("/organization/projects").json()
    assert projects["data"][0]["created_at"] == "abc"
    empty = api.get(USAGE, params={"start_time": DAY0 - 10 * 86400, "limit": 2}).json()
    assert empty["data"] == {"object": "list"}  # no field to corrupt: data is an object
    assert api.get(USAGE, params=Q).json()["data"][0]["results"][0]["input_tokens"] == 1300


def test_seeded_random_faults_replay_identically(handmade_org: SyntheticOrg) -> None:
    def statuses() -> list[int]:
        fault = Fault(kind="503", path="/organization/usage/*", rate=0.3, seed=11)
        with (
            Sandbox.start(org=handmade_org, faults=[fault]) as sb,
            client(sb.base_url, ADMIN_KEY) as http,
        ):
            out = []
            for i in range(30):
                path = USAGE if i % 3 else "/organization/projects"
                out.append(http.get(path, params=Q).status_code)
            return out

    first, second = statuses(), statuses()
    assert first == second
    draws = random.Random(11)
    expected = [200 if i % 3 == 0 else (503 if draws.random() < 0.3 else 200) for i in range(30)]
    assert first == expected
    assert 0 < first.count(503) < 20


def test_random_mode_with_a_cap_and_clear_faults(hsb: Sandbox, api: httpx.Client) -> None:
    hsb.inject(Fault(kind="500", rate=1.0, times=2))
    assert [api.get("/organization/users").status_code for _ in range(3)] == [500, 500, 200]
    hsb.inject(Fault(kind="500", rate=1.0))
    assert api.get("/organization/users").status_code == 500
    hsb.clear_faults()
    assert api.get("/organization/users").status_code == 200


def test_faults_given_at_start_and_first_match_wins(handmade_org: SyntheticOrg) -> None:
    faults = [
        Fault(kind="502", path="/organization/users", times=1),
        Fault(kind="429", path="*", times=2),
    ]
    with (
        Sandbox.start(org=handmade_org, faults=faults) as sb,
        client(sb.base_url, ADMIN_KEY) as http,
    ):
        codes = [http.get("/organization/users").status_code for _ in range(4)]
    assert codes == [502, 429, 429, 200]


def test_request_log(hsb: Sandbox, api: httpx.Client) -> None:
    api.get(
        USAGE,
        params=[("start_time", str(DAY0)), ("group_by[]", "model"), ("group_by[]", "project_id")],
    )
    api.get("/organization/nope")
    assert hsb.requests == [
        ServedRequest(
            "GET",
            USAGE,
            [("start_time", str(DAY0)), ("group_by[]", "model"), ("group_by[]", "project_id")],
            200,
        ),
        ServedRequest("GET", "/organization/nope", [], 404),
    ]
    method, path, query, status = hsb.requests[0]
    assert (method, path, status) == ("GET", USAGE, 200)
    hsb.clear_requests()
    assert hsb.requests == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("429:/organization/usage/*:2", Fault(kind="429", path="/organization/usage/*", times=2)),
        ("drop:*", Fault(kind="drop", path="*")),
        (
            "503:/organization/costs:rate=0.2:seed=1",
            Fault(kind="503", path="/organization/costs", rate=0.2, seed=1),
        ),
        ("slow:*:3:delay=2.5", Fault(kind="slow", times=3, delay=2.5)),
        (
            "429:*:1:retry_after=5:retry_after_ms=1500",
            Fault(kind="429", times=1, retry_after="5", retry_after_ms=1500),
        ),
        ("truncated", Fault(kind="truncated")),
    ],
)
def test_parse_fault_spec(spec: str, expected: Fault) -> None:
    assert parse_fault_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("teapot:*", "unknown fault kind 'teapot'"),
        ("429:*:often", "is neither times nor key=value"),
        ("429:*:colour=red", "unknown option 'colour'"),
        ("500:*:rate=2", "fault rate must be within 0..1"),
    ],
)
def test_bad_fault_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault_spec(spec)


def test_concurrent_requests_are_served_and_logged(hsb: Sandbox, api: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    expected = api.get(USAGE, params=Q).content
    hsb.clear_requests()
    hsb.inject(Fault(kind="503", path=USAGE, times=4))

    def fetch(_: int) -> tuple[int, bytes]:
        with client(hsb.base_url, ADMIN_KEY) as http:
            resp = http.get(USAGE, params=Q)
            return resp.status_code, resp.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, range(24)))
    assert sorted(status for status, _ in results).count(503) == 4
    assert all(body == expected for status, body in results if status == 200)
    assert len(hsb.requests) == 24
