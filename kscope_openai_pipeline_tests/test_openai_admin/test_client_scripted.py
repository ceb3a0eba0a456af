"""Client behaviour over real loopback HTTP against a scripted server.

Covers what a correct sandbox cannot be asked to serve: HTTP-date and millisecond
Retry-After, error bodies that echo the key, cursors that do not advance, bad buckets.
Sleep and clock are injected (FakeTime) so waits are asserted, not waited.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiAuthError,
    AdminApiBadRequest,
    AdminApiNotFound,
    AdminApiPermissionError,
    AdminApiResponseError,
    AdminApiRetryExhausted,
    AdminClient,
)
from kscope_openai_pipeline.openai_admin.pagination import even_limit, logs_page

from .scripted_server import FakeTime, MaxJitter, Reply, ScriptedServer, bucket_page, list_page

KEY = "sk-admin-SENTINEL-7f3a9c2e1b"
D0 = 1764979200  # 2025-12-06
DAY = 86400


def client(srv: ScriptedServer, ft: FakeTime, **kw) -> AdminClient:
    kw.setdefault("rng", MaxJitter())
    return AdminClient(
        KEY,
        base_url=srv.base_url,
        sleep=ft.sleep,
        clock=ft.clock,
        wall_clock=lambda: 1_767_225_600.0,
        timeout=5.0,
        **kw,
    )


@contextmanager
def running(script, **kw) -> Iterator[tuple[ScriptedServer, AdminClient, FakeTime]]:
    """A scripted server and a client on fake time pointed at it."""
    ft = FakeTime()
    with ScriptedServer(script) as srv, client(srv, ft, **kw) as c:
        yield srv, c, ft


def err(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def sequence(*replies: Reply):
    """Script that answers the given replies in order, then repeats the last one."""
    queue = list(replies)

    def script(_seen):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return script


OK_USERS = Reply(body=list_page(["user-1"], False, email="a@x.io", added_at=1700000000))


@pytest.mark.parametrize(
    ("headers", "expected_sleep"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "Thu, 01 Jan 2026 00:00:04 GMT"}, 4.0),
        ({}, 0.5),  # no header: backoff ceiling for the 1st retry (jitter pinned to max)
    ],
)
def test_429_waits_what_the_server_asked(headers, expected_sleep):
    with running(sequence(Reply(429, err(429, "slow down"), headers), OK_USERS)) as (_, c, ft):
        assert [u["user_id"] for u in c.list_users()] == ["user-1"]
        assert ft.sleeps == [expected_sleep]
        assert (c.stats.requests, c.stats.retries) == (2, 1)
        assert c.stats.as_dict()["endpoints"]["/organization/users"]["retries"] == 1


def test_retry_exhausted_names_endpoint_attempts_status():
    with (
        running(sequence(Reply(503, err(503, "overloaded"))), max_attempts=4) as (srv, c, ft),
        pytest.raises(AdminApiRetryExhausted) as exc,
    ):
        c.list_invites()
    e = exc.value
    assert (e.endpoint, e.attempts, e.last_status) == ("/organization/invites", 4, 503)
    assert str(e) == (
        "/organization/invites: gave up after 4 attempts (max_attempts=4); last status: 503"
    )
    assert ft.sleeps == [0.5, 1.0, 2.0]
    assert len(srv.seen) == 4


def test_deadline_stops_before_sleeping_past_it():
    script = sequence(Reply(429, err(429, "x"), {"Retry-After": "30"}))
    with (
        running(script, max_attempts=10, deadline_seconds=100) as (_, c, ft),
        pytest.raises(AdminApiRetryExhausted, match="100s deadline") as exc,
    ):
        c.list_users()
    assert ft.sleeps == [30.0, 30.0, 30.0]  # a 4th wait would end at 120 s > 100 s
    assert exc.value.attempts == 4


def test_dropped_connection_is_retried():
    with running(sequence(Reply(drop=True), Reply(drop=True), OK_USERS)) as (_, c, ft):
        assert len(c.list_users()) == 1
        assert ft.sleeps == [0.5, 1.0]
        assert c.stats.requests == 3


def test_malformed_body_retried_then_typed_error():
    truncated = Reply(body=b'{"object":"list","data":[{"id":"user-1","added_at":17')
    with running(sequence(truncated, OK_USERS)) as (_, c, ft):
        assert len(c.list_users()) == 1
        assert ft.sleeps == [0.5]
    with (
        running(sequence(truncated), malformed_attempts=3) as (srv, c, ft),
        pytest.raises(AdminApiResponseError, match=r"after 3 attempt\(s\), 3 malformed"),
    ):
        c.list_users()
    assert len(srv.seen) == 3


@pytest.mark.parametrize(
    ("status", "body", "cls", "fragments"),
    [
        (
            401,
            err(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key"),
            AdminApiAuthError,
            ["(401)", "check OPENAI_ADMIN_KEY", "<redacted admin key>"],
        ),
        (
            403,
            err(403, "You have insufficient permissions. Missing scopes: api.usage.read"),
            AdminApiPermissionError,
            ["(403)", "Admin role", "Missing scopes: api.usage.read"],
        ),
        (
            400,
            err(400, "Invalid limit provided: 366.", param="limit", code="invalid_value"),
            AdminApiBadRequest,
            ["parameter 'limit'", "Invalid limit provided: 366."],
        ),
        (404, err(404, "No such project"), AdminApiNotFound, ["(404)", "No such project"]),
    ],
)
def test_typed_errors_are_actionable_and_scrubbed(status, body, cls, fragments):
    with running(sequence(Reply(status, body))) as (srv, c, ft), pytest.raises(cls) as exc:
        c.list_users()
    text = str(exc.value)
    for fragment in fragments:
        assert fragment in text
    assert KEY not in text and KEY not in repr(exc.value)
    assert exc.value.status == status and exc.value.endpoint == "/organization/users"
    assert ft.sleeps == [] and len(srv.seen) == 1  # final, not retried


def test_key_is_sent_only_as_bearer_and_never_logged(caplog):
    echo = Reply(401, err(401, f"bad key {KEY}"), {"X-Echo": KEY})
    script = sequence(Reply(500, err(500, KEY)), OK_USERS, echo)
    with caplog.at_level(logging.DEBUG), running(script) as (srv, c, _):
        c.list_users()
        with pytest.raises(AdminApiAuthError) as exc:
            c.list_users()
    assert srv.seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert all(KEY not in s.path and all(KEY not in v for _, v in s.query) for s in srv.seen)
    http_logs = [r for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    assert any(r.levelno == logging.DEBUG for r in http_logs)  # DEBUG really was captured
    # httpcore logs response headers at DEBUG: the echoed header was logged, redacted.
    assert any("<redacted admin key>" in r.getMessage() for r in http_logs)
    assert all(KEY not in r.getMessage() for r in caplog.records)
    assert KEY not in caplog.text
    assert KEY not in str(exc.value) and KEY not in repr(c)


def test_list_cursor_must_advance():
    stuck = Reply(body=list_page(["user-1"], True, added_at=1700000000))
    users = list_page(["user-1"], True, added_at=1700000000)

    def script(seen):
        return Reply(body=users) if not dict(seen.query).get("after") else stuck

    with (
        running(script) as (_, c, _ft),
        pytest.raises(AdminApiResponseError, match="came back again"),
    ):
        c.list_users()


@pytest.mark.parametrize(
    ("days", "max_limit", "limit"),
    [
        (1, 180, 1),
        (180, 180, 180),
        (181, 180, 91),
        (355, 180, 178),
        (365, 180, 122),
        (365, 31, 31),
        (32, 31, 16),
        (63, 31, 21),
        (7, 7, 7),
        (8, 7, 4),
    ],
)
def test_even_limit_keeps_the_fewest_pages_and_spreads_the_days(days, max_limit, limit):
    assert even_limit(days, max_limit) == limit
    assert math.ceil(days / limit) == math.ceil(days / max_limit)  # no request more


@pytest.mark.parametrize(
    ("n", "last", "logged"),
    [
        (1, False, True),
        (10, False, True),
        (11, False, False),
        (99, False, False),
        (100, False, True),
        (101, False, False),
        (101, True, True),
        (772, True, True),
        (800, False, True),
    ],
)
def test_a_page_is_logged_when_among_the_first_ten_a_hundredth_or_the_last(n, last, logged):
    assert logs_page(n, last) is logged


def test_even_limit_refuses_an_empty_window():
    with pytest.raises(ValueError, match=r"days \(0\) and max_limit \(180\) must be >= 1"):
        even_limit(0, 180)


def test_page_cursor_replays_frozen_query_and_rejects_repeats():
    pages = {
        None: bucket_page([(D0, [])], True, "page_2"),
        "page_2": bucket_page([(D0 + DAY, [])], True, "page_3"),
        "page_3": bucket_page([(D0 + DAY, [])], False, None),
    }
    with running(lambda s: Reply(body=pages[dict(s.query).get("page")])) as (srv, c, _):
        it = c.iter_usage("vector_stores", date(2025, 12, 6), date(2025, 12, 9))
        assert next(it).num_rows == 0 and next(it).num_rows == 0
        with pytest.raises(AdminApiResponseError, match="duplicate bucket"):
            next(it)
    base = srv.seen[0].query
    assert base == [
        ("start_time", str(D0)),
        ("end_time", str(D0 + 3 * DAY)),
        ("bucket_width", "1d"),
        ("limit", "3"),  # a 3-day window: one page of 3 at most (pagination.even_limit)
        ("group_by", "project_id"),
    ]
    assert srv.seen[1].query == [*base, ("page", "page_2")]
    assert srv.seen[2].query == [*base, ("page", "page_3")]


def test_bucket_outside_window_is_an_error_after_retries():
    bad = Reply(body=bucket_page([(D0 - DAY, [])], False, None))
    with running(sequence(bad)) as (srv, c, _), pytest.raises(AdminApiResponseError) as exc:
        list(c.iter_costs(date(2025, 12, 6), date(2025, 12, 7)))
    assert len(srv.seen) == 3  # retried like a malformed body, then reported
    assert exc.value.field == "data[0].start_time" and exc.value.value == D0 - DAY
    assert "/organization/costs" in str(exc.value)


def test_archived_project_400_is_skipped_and_reported():

    def script(seen):
        if seen.path.endswith("/proj_old/users"):
            return Reply(400, err(400, "Project proj_old is archived."))
        return Reply(body=list_page(["user-1"], False, added_at=1700000000))

    refs = ["proj_a", "proj_old", {"project_id": "proj_z", "status": "archived"}]
    with running(script) as (srv, c, _):
        rows = c.list_project_users(refs)
        assert [(r["project_id"], r["user_id"]) for r in rows] == [("proj_a", "user-1")]
        skipped = c.stats.as_dict()["skipped"]
    assert sorted(s["project_id"] for s in skipped) == ["proj_old", "proj_z"]
    assert sorted(s.path for s in srv.seen) == [
        "/v1/organization/projects/proj_a/users",
        "/v1/organization/projects/proj_old/users",
    ]
