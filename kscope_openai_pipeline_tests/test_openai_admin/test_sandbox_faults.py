"""Every fault the sandbox can inject: same records as a fault-free read, or the typed
error once retries run out; server-requested waits honoured exactly (fake clock) and,
once, in real time within tolerance."""

from __future__ import annotations

import time
from datetime import date

import pytest

from kscope_openai_pipeline.openai_admin import (
    AdminApiResponseError,
    AdminApiRetryExhausted,
)
from kscope_openai_pipeline.sandbox.faults import FAULT_KINDS
from kscope_openai_pipeline.sandbox.server import Fault
from kscope_openai_pipeline_tests.helpers.handmade_org import sort_key

START, END = date(2025, 1, 1), date(2025, 3, 4)  # 62 days: 2 usage pages
USAGE = "/organization/usage/completions"
MALFORMED = {"truncated", "wrong_type"}
# Backoff ceilings with jitter pinned to the maximum: 0.5 s, then 1 s, ...
EXPECTED_SLEEPS = {kind: [0.5, 1.0] for kind in FAULT_KINDS}
EXPECTED_SLEEPS["429"] = [1.0, 1.0]  # the sandbox's default Retry-After: 1


def read_usage(client) -> list[dict]:
    return sorted(
        (r for p in client.iter_usage("completions", START, END) for r in p.rows()),
        key=sort_key,
    )


#: The faulted clients' timeout: short enough that a "slow" reply (SLOW_DELAY) times out,
#: long enough that a normal reply never does on a loaded CI machine.
CLIENT_TIMEOUT = 0.75
SLOW_DELAY = 1.5


def fault(kind: str, path: str, times: int) -> Fault:
    return Fault(kind=kind, path=path, times=times, delay=SLOW_DELAY)


@pytest.fixture(scope="module")
def clean_usage(handmade_org):
    from kscope_openai_pipeline.openai_admin import AdminClient
    from kscope_openai_pipeline.sandbox.server import Sandbox

    with (
        Sandbox.start(org=handmade_org) as sb,
        AdminClient(sb.admin_key, base_url=sb.base_url) as c,
    ):
        return read_usage(c), c.list_users()


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_recovered_same_records(sandbox, make_client, fake_time, clean_usage, kind):
    usage, users = clean_usage
    c = make_client(sandbox, timeout=CLIENT_TIMEOUT)
    sandbox.inject(fault(kind, USAGE, times=2))
    assert read_usage(c) == usage
    assert fake_time.sleeps == EXPECTED_SLEEPS[kind]
    assert (c.stats.requests, c.stats.retries, c.stats.pages) == (4, 2, 2)
    assert served_eventually(sandbox, USAGE, 4)  # 2 faulted + 2 pages

    sandbox.inject(fault(kind, "/organization/users", times=2))
    assert c.list_users() == users  # 101 users: 2 pages
    assert served_eventually(sandbox, "/organization/users", 4)


def served_eventually(sandbox, path: str, n: int) -> bool:
    """The sandbox logs a 'slow' request only after its delay, when the client has long
    timed out; wait (at most 10 s past the delay, for a loaded machine; it returns as soon
    as the log has caught up) for the log to catch up, then compare."""
    deadline = time.monotonic() + SLOW_DELAY + 10.0
    while True:
        count = len([r for r in sandbox.requests if r.path == path])
        if count >= n or time.monotonic() > deadline:
            return count == n
        time.sleep(0.02)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_outlasting_retries_raises_typed_error(sandbox, make_client, fake_time, kind):
    c = make_client(sandbox, timeout=CLIENT_TIMEOUT, max_attempts=4)
    sandbox.inject(fault(kind, USAGE, times=50))
    if kind in MALFORMED:
        with pytest.raises(AdminApiResponseError) as exc:
            read_usage(c)
        assert "after 3 attempt(s), 3 malformed" in str(exc.value)
        assert exc.value.endpoint == USAGE
        assert exc.value.field == (
            "<body>" if kind == "truncated" else "data[0].results[0].input_tokens"
        )
        assert len(sandbox.requests) == 3
    else:
        with pytest.raises(AdminApiRetryExhausted) as exc:
            read_usage(c)
        expected_status = {"slow": "timeout", "drop": "RemoteProtocolError"}.get(kind)
        if expected_status is None:
            expected_status = int(kind[:3])
        assert (exc.value.endpoint, exc.value.attempts, exc.value.last_status) == (
            USAGE,
            4,
            expected_status,
        )
        assert str(exc.value).startswith(f"{USAGE}: gave up after 4 attempts")
        assert served_eventually(sandbox, USAGE, 4)
        assert len(fake_time.sleeps) == 3
    assert c.stats.as_dict()["endpoints"][USAGE]["errors"] == 1


@pytest.mark.parametrize(
    ("fault_kwargs", "expected"),
    [
        ({"retry_after": "3"}, [3.0]),
        ({"retry_after": "3", "retry_after_ms": 1500}, [1.5]),
        ({"retry_after": "Thu, 01 Jan 2026 00:00:05 GMT"}, [5.0]),
        ({"retry_after": None}, [0.5]),
    ],
)
def test_retry_after_forms_honoured(sandbox, make_client, fake_time, fault_kwargs, expected):
    c = make_client(sandbox, wall_clock=lambda: 1767225600.0)  # 2026-01-01T00:00:00Z
    sandbox.inject(Fault(kind="429", path="/organization/invites", times=1, **fault_kwargs))
    assert [i["invite_id"] for i in c.list_invites()] == ["invite-1", "invite-2", "invite-3"]
    assert fake_time.sleeps == expected


def test_retry_after_honoured_in_real_time(sandbox, make_client):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    c = make_client(sandbox, sleep=sleep, clock=time.monotonic)
    sandbox.inject(Fault(kind="429", path="/organization/users", times=1, retry_after="1"))
    began = time.monotonic()
    users = c.list_users()
    elapsed = time.monotonic() - began
    assert len(users) == 101 and c.stats.retries == 1
    # exactly the 1 s asked for (not a backoff), and really waited; no upper bound on the
    # elapsed time, which a loaded machine may stretch at will
    assert slept == [1.0]
    assert elapsed >= 1.0, elapsed


def test_per_project_listings_run_concurrently(sandbox, make_client):
    """4 project listings, each held 2 s by the server: with room for 8 all four are served
    at once, with room for 2 never more than two. The server counts the requests it is
    serving at the same moment, so a loaded machine cannot turn this into a timing guess
    (the 2 s hold only makes sure the requests meet)."""
    ids = ["proj_empty", "proj_99", "proj_100", "proj_old"]
    for bound, peak in ((8, 4), (2, 2), (1, 1)):
        c = make_client(sandbox, max_concurrency=bound, sleep=time.sleep, clock=time.monotonic)
        sandbox.inject(
            Fault(kind="slow", path="/organization/projects/*/api_keys", times=4, delay=2.0)
        )
        sandbox.clear_requests()
        keys = c.list_project_api_keys(ids)
        assert len(keys) == 0 + 99 + 100 + 1
        assert sandbox.peak_in_flight == peak, bound


def test_a_request_stops_counting_as_in_flight_once_its_answer_goes_out(
    sandbox, make_client, monkeypatch
):
    """A request answered in full is not in flight any more, however late the server's
    handler thread ends: otherwise a client that waits for each answer could be counted
    as concurrent with the request before (as once on a loaded machine)."""
    serve = type(sandbox)._serve_counted

    def slow_tail(self, h, leave):
        serve(self, h, leave)
        time.sleep(0.5)  # the handler thread ends well after the client has its answer

    monkeypatch.setattr(type(sandbox), "_serve_counted", slow_tail)
    first = make_client(sandbox, sleep=time.sleep, clock=time.monotonic)
    assert len(first.list_invites()) == 3
    sandbox.clear_requests()  # the invites' handler is still in its tail
    second = make_client(sandbox, sleep=time.sleep, clock=time.monotonic)
    assert len(second.list_users()) == 101  # two pages, one after the other
    assert len(sandbox.requests) == 2
    assert sandbox.peak_in_flight == 1
