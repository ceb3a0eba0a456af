"""Reading the next page ahead: the same requests, earlier; errors where they were; no
thread left.

Over real loopback HTTP against a scripted server. Where a test needs to know that the
next request started while the caller still holds a page, the server signals it with an
Event that the test waits for (bounded), so nothing depends on timing.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiBadRequest,
    AdminApiResponseError,
    AdminClient,
    ColumnPage,
)

from .scripted_server import FakeTime, MaxJitter, Reply, ScriptedServer, Seen, bucket_page

KEY = "sk-admin-SENTINEL-READ-AHEAD-5d1c"
D0 = 1764979200  # 2025-12-06
DAY = 86400
THREAD = "openai-admin-read-ahead"


def _costs(day: int, *amounts: str) -> list[dict]:
    return [
        {
            "object": "organization.costs.result",
            "amount": {"value": a, "currency": "usd"},
            "line_item": f"item {i}",
            "project_id": "proj_a",
        }
        for i, a in enumerate(amounts)
    ]


#: Three pages of one costs query: cursor (None for the first) -> body.
PAGES = {
    None: bucket_page([(D0, _costs(0, "1.5", "2"))], True, "c2"),
    "c2": bucket_page([(D0 + DAY, _costs(1, "3"))], True, "c3"),
    "c3": bucket_page([(D0 + 2 * DAY, _costs(2, "4", "5"))], False, None),
}


class Script:
    """Answers PAGES by cursor; `replies` overrides answers per cursor (popped in order);
    `asked[cursor]` is set the moment that page is requested."""

    def __init__(self, replies: dict[str | None, list[Reply]] | None = None) -> None:
        self.replies = replies or {}
        self.asked = {cursor: threading.Event() for cursor in PAGES}

    def __call__(self, seen: Seen) -> Reply:
        cursor = dict(seen.query).get("page")
        self.asked[cursor].set()
        queue = self.replies.get(cursor)
        if queue:
            return queue.pop(0)
        return Reply(body=PAGES[cursor])


@contextmanager
def running(script: Script) -> Iterator[tuple[ScriptedServer, AdminClient, FakeTime]]:
    ft = FakeTime()
    with (
        ScriptedServer(script) as srv,
        AdminClient(
            KEY, base_url=srv.base_url, sleep=ft.sleep, clock=ft.clock, rng=MaxJitter(), timeout=5
        ) as client,
    ):
        yield srv, client, ft


def _pages(client: AdminClient, read_ahead: bool) -> Iterator:
    return client.iter_costs(date(2025, 12, 6), date(2025, 12, 9), read_ahead=read_ahead)


def _requests(srv: ScriptedServer) -> list[list[tuple[str, str]]]:
    return [seen.query for seen in srv.seen]


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(THREAD)]


def test_the_same_requests_in_the_same_order_and_the_same_pages() -> None:
    results = {}
    for read_ahead in (False, True):
        with running(Script()) as (srv, client, _):
            pages = [p.columns for p in _pages(client, read_ahead)]
            results[read_ahead] = (pages, _requests(srv), client.stats.as_dict())
    plain, ahead = results[False], results[True]
    assert ahead[0] == plain[0]
    amounts = [[Decimal("1.5"), Decimal("2")], [Decimal("3")], [Decimal("4"), Decimal("5")]]
    assert [c["amount_usd"] for c in ahead[0]] == amounts
    assert ahead[1] == plain[1]
    assert [dict(q).get("page") for q in ahead[1]] == [None, "c2", "c3"]
    assert ahead[2]["requests"] == plain[2]["requests"] == 3
    assert ahead[2]["pages"] == 3 and ahead[2]["records"] == 5
    assert _threads() == []


def test_pages_read_in_parts_and_the_page_before_let_go_while_the_next_decodes() -> None:
    """With `compact`, each page holds what it made of its parts (here: the part's amounts);
    and while a page decodes, the client holds no reference to the page before (which
    the caller has already written and dropped), so two pages are never alive at once."""
    before: list[weakref.ref] = []
    alive_while_decoding: list[bool] = []

    def compact(part: ColumnPage) -> list[Decimal]:
        alive_while_decoding.append(bool(before) and before[-1]() is not None)
        return part.columns["amount_usd"]

    amounts = []
    with running(Script()) as (_, client, _):
        pages = client.iter_costs(
            date(2025, 12, 6), date(2025, 12, 9), read_ahead=True, compact=compact
        )
        for page in pages:
            assert page.columns == {}
            amounts.append(page.parts)
            before.append(weakref.ref(page))
            del page
    assert amounts == [
        [[Decimal("1.5"), Decimal("2")]],
        [[Decimal("3")]],
        [[Decimal("4"), Decimal("5")]],
    ]
    assert alive_while_decoding == [False, False, False]


def test_the_next_page_is_requested_while_the_caller_holds_this_one() -> None:
    script = Script()
    with running(script) as (_, client, _):
        pages = _pages(client, read_ahead=True)
        first = next(pages)
        assert script.asked["c2"].wait(timeout=10)  # requested before the caller asked
        assert not script.asked["c3"].is_set()  # only one page ahead
        assert first.num_rows == 2
        assert next(pages).num_rows == 1
        assert script.asked["c3"].wait(timeout=10)
        assert next(pages).num_rows == 2
        with pytest.raises(StopIteration):
            next(pages)
    assert _threads() == []


def test_without_read_ahead_the_next_page_waits_for_the_caller() -> None:
    script = Script()
    with running(script) as (srv, client, _):
        pages = _pages(client, read_ahead=False)
        next(pages)
        assert len(srv.seen) == 1 and not script.asked["c2"].is_set()
        pages.close()


def test_a_failed_page_read_ahead_is_raised_when_it_is_asked_for() -> None:
    """Page 2 is refused (400, the message echoing the key): page 1 still arrives whole,
    the error comes with page 2, named as without read-ahead and without the key."""
    bad = Reply(400, {"error": {"message": f"bad cursor for {KEY}", "type": "x", "param": "page"}})
    script = Script({"c2": [bad]})
    with running(script) as (srv, client, _):
        pages = _pages(client, read_ahead=True)
        first = next(pages)
        assert script.asked["c2"].wait(timeout=10)
        assert first.num_rows == 2  # the failure ahead does not touch this page
        with pytest.raises(AdminApiBadRequest) as caught:
            next(pages)
        assert KEY not in str(caught.value) and KEY not in repr(caught.value.args)
        assert str(caught.value).startswith("/organization/costs: ")
        assert [dict(q).get("page") for q in _requests(srv)] == [None, "c2"]
        assert client.stats.as_dict()["errors"] == 1
    assert _threads() == []


def test_retries_of_a_page_read_ahead_are_unchanged() -> None:
    """503 then a malformed body on page 2: retried as always (same waits, same count)."""
    script = Script({"c2": [Reply(503, {"error": {"message": "busy"}}), Reply(body=b"<html>")]})
    with running(script) as (srv, client, ft):
        assert [p.num_rows for p in _pages(client, read_ahead=True)] == [2, 1, 2]
    assert [dict(q).get("page") for q in _requests(srv)] == [None, "c2", "c2", "c2", "c3"]
    assert ft.sleeps == [0.5, 1.0]
    assert (client.stats.requests, client.stats.retries) == (5, 2)


def test_a_page_that_keeps_failing_ahead_gives_the_plain_error() -> None:
    broken = [Reply(body=b"<html>")] * 5
    with running(Script({"c2": list(broken)})) as (srv, client, _):
        pages = _pages(client, read_ahead=True)
        next(pages)
        with pytest.raises(AdminApiResponseError, match=r"\[after 3 attempt\(s\), 3 malformed\]"):
            next(pages)
    assert [dict(q).get("page") for q in _requests(srv)] == [None, "c2", "c2", "c2"]
    assert _threads() == []


def _bad_rows(cursor: str | None) -> Reply:
    """The page of `cursor` with a valid envelope and cursor, but an amount that is not a
    number: the request ahead has gone out before its rows are found broken."""
    body = copy.deepcopy(PAGES[cursor])
    body["data"][0]["results"][0]["amount"]["value"] = "lots"
    return Reply(body=body)


def test_rows_that_break_the_contract_once_cost_no_extra_request() -> None:
    """Page 1's rows fail once: it is retried as always, and the request ahead made while
    it was read the first time is the page 2 the pagination asks for next."""
    script = Script({None: [_bad_rows(None)]})
    with running(script) as (srv, client, ft):
        assert [p.num_rows for p in _pages(client, read_ahead=True)] == [2, 1, 2]
    # page 2's request ahead and page 1's retry are sent by two threads: either may be first
    asked = [dict(q).get("page") for q in _requests(srv)]
    assert asked[0] is None and asked[-1] == "c3"
    assert sorted(map(str, asked[1:3])) == ["None", "c2"]
    assert ft.sleeps == [0.5]
    assert (client.stats.requests, client.stats.retries) == (4, 1)
    assert _threads() == []


def test_rows_that_keep_breaking_the_contract_cost_one_request_ahead() -> None:
    """The plain iteration asks page 1 three times; reading ahead also asked page 2 once."""
    script = Script({None: [_bad_rows(None)] * 3})
    gave_up = r"\[after 3 attempt\(s\), 3 malformed\]"
    with running(script) as (srv, client, _):
        with pytest.raises(AdminApiResponseError, match=gave_up) as caught:
            list(_pages(client, read_ahead=True))
        assert caught.value.field == "data[0].results[0].amount.value"
        assert caught.value.value == "lots"
    asked = [dict(q).get("page") for q in _requests(srv)]
    assert asked.count(None) == 3 and asked.count("c2") == 1 and len(asked) == 4
    assert asked[0] is None  # page 2 is only asked once page 1's cursor was read
    assert client.stats.as_dict()["requests"] == 4  # the request ahead was made: counted
    assert _threads() == []


def test_stopping_early_joins_the_worker_and_asks_nothing_more() -> None:
    script = Script()
    with running(script) as (srv, client, _):
        for page in _pages(client, read_ahead=True):
            assert page.num_rows == 2
            assert script.asked["c2"].wait(timeout=10)
            break
        # the loop's generator is closed by now: the page read ahead was dropped
        assert _threads() == []
        assert [dict(q).get("page") for q in _requests(srv)] == [None, "c2"]
        assert client.stats.requests == 2  # the page dropped was requested: counted


def test_a_failure_of_the_caller_joins_the_worker() -> None:
    class Stop(Exception):
        pass

    script = Script()
    with running(script) as (srv, client, _):
        pages = _pages(client, read_ahead=True)
        with pytest.raises(Stop):
            for _page in pages:
                assert script.asked["c2"].wait(timeout=10)
                raise Stop("the writer failed on page 1")
        pages.close()
        assert _threads() == []
        assert len(srv.seen) == 2
