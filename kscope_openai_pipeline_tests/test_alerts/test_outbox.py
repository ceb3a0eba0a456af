"""Which messages are due, and the marks that send each one exactly once, with backoff.

`send` here is a plain function scripted with the deliveries a webhook would answer (the
HTTP itself is `test_webhook.py`'s and the Dagster tests' business): these tests are about
the bookkeeping between answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.alerts import outbox, store
from kscope_openai_pipeline.alerts.findings import Finding
from kscope_openai_pipeline.alerts.kinds import (
    BYPASS_SPEND,
    NEW_BYPASS_KEY,
    UNATTRIBUTED_MEMBER,
)
from kscope_openai_pipeline.alerts.webhook import Delivery

ORG = "org-test"
DAY = dt.date(2026, 11, 20)
T0 = dt.datetime(2026, 11, 21, 8, 0)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    store.ensure_alerts_table(connection)
    yield connection
    warehouse.disconnect(connection)


class Webhook:
    """Answers from a script (then ok), and remembers what it was asked to send."""

    def __init__(self, *answers: Delivery) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str]] = []

    def __call__(self, message: outbox.Message) -> Delivery:
        self.sent.append((message.event, message.subject))
        return self.answers.pop(0) if self.answers else Delivery(True, 200)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def findings() -> list[Finding]:
    return [
        Finding(ORG, BYPASS_SPEND.name, "key_a", DAY, '{"spend_usd": 61.5}'),
        Finding(ORG, NEW_BYPASS_KEY.name, "key_b", DAY - dt.timedelta(days=3), "{}"),
        Finding(ORG, BYPASS_SPEND.name, "key_c", DAY, '{"spend_usd": 80}'),
    ]


def deliver(conn, hook, clock, disabled=()) -> outbox.RoundResult:
    return outbox.deliver_due(conn, hook, clock, retry_base_seconds=60, disabled=disabled)


def test_backoff_doubles_from_the_base_up_to_an_hour() -> None:
    assert [outbox.backoff_seconds(n, 60) for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip
    assert outbox.backoff_seconds(1, 0) == 0


def test_each_message_goes_out_once_most_severe_first(conn: duckdb.DuckDBPyConnection) -> None:
    store.merge(conn, findings()[:2], [BYPASS_SPEND, NEW_BYPASS_KEY], DAY)
    hook, clock = Webhook(), Clock(T0)
    result = deliver(conn, hook, clock)
    assert hook.sent == [("new", "key_a"), ("new", "key_b")]  # high before warning
    assert (len(result.delivered), result.failed, result.pending) == (2, None, 0)
    assert result.next_attempt_at is None
    assert deliver(conn, hook, clock).delivered == []  # nothing twice
    # a re-run of the detection changes nothing about what was sent
    store.merge(conn, findings()[:2], [BYPASS_SPEND, NEW_BYPASS_KEY], DAY)
    assert deliver(conn, hook, clock).delivered == []
    assert len(hook.sent) == 2
    (marked,) = conn.execute(
        "SELECT COUNT(*) FROM sightlines.alerts WHERE notified_at = ?", [T0]
    ).fetchone()
    assert marked == 2


def test_a_failure_ends_the_round_and_everything_waits_for_the_backoff(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    store.merge(conn, findings(), [BYPASS_SPEND, NEW_BYPASS_KEY], DAY)
    hook, clock = Webhook(Delivery(False, 500, "HTTP 500")), Clock(T0)
    result = deliver(conn, hook, clock)
    assert hook.sent == [("new", "key_a")]  # the webhook is down: one try, not three
    assert (result.delivered, result.error, result.pending) == ([], "HTTP 500", 3)
    assert result.next_attempt_at == T0 + dt.timedelta(seconds=60)
    state = conn.execute(
        "SELECT subject, delivery_attempts, next_attempt_at, last_delivery_error "
        "FROM sightlines.alerts ORDER BY subject"
    ).fetchall()
    retry = T0 + dt.timedelta(seconds=60)
    assert state == [("key_a", 1, retry, "HTTP 500"), ("key_b", 0, retry, None),
                     ("key_c", 0, retry, None)]  # fmt: skip
    # before the backoff has passed nothing is tried
    clock.now = T0 + dt.timedelta(seconds=59)
    assert deliver(conn, hook, clock).delivered == [] and len(hook.sent) == 1
    # the second failure of key_a waits twice as long
    clock.now = retry
    hook.answers = [Delivery(False, None, "timeout")]
    result = deliver(conn, hook, clock)
    assert result.next_attempt_at == retry + dt.timedelta(seconds=120)
    # then the webhook is back: each message exactly once, the attempts cleared
    clock.now = retry + dt.timedelta(seconds=120)
    result = deliver(conn, hook, clock)
    assert [m.subject for m in result.delivered] == ["key_a", "key_c", "key_b"]
    assert hook.sent == [("new", "key_a")] * 3 + [("new", "key_c"), ("new", "key_b")]
    assert conn.execute(
        "SELECT SUM(delivery_attempts), COUNT(next_attempt_at), COUNT(last_delivery_error) "
        "FROM sightlines.alerts"
    ).fetchone() == (0, 0, 0)


def test_a_resolution_is_announced_once_and_only_after_the_finding(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    store.merge(conn, findings()[:1], [BYPASS_SPEND], DAY)
    hook, clock = Webhook(), Clock(T0)
    deliver(conn, hook, clock)
    store.merge(conn, [], [BYPASS_SPEND], DAY + dt.timedelta(days=1))
    result = deliver(conn, hook, clock)
    assert [(m.event, m.subject, m.resolved_date) for m in result.delivered] == [
        ("resolved", "key_a", DAY + dt.timedelta(days=1))
    ]
    assert deliver(conn, hook, clock).delivered == []
    # a finding that came and went before anything was announced gets no message at all
    store.merge(conn, findings()[2:], [BYPASS_SPEND], DAY + dt.timedelta(days=2))
    store.merge(conn, [], [BYPASS_SPEND], DAY + dt.timedelta(days=3))
    assert deliver(conn, hook, clock).delivered == []
    assert hook.sent == [("new", "key_a"), ("resolved", "key_a")]


def test_kinds_switched_off_are_not_sent(conn: duckdb.DuckDBPyConnection) -> None:
    member = Finding(ORG, UNATTRIBUTED_MEMBER.name, "user-x", DAY, "{}")
    store.merge(conn, [member], [UNATTRIBUTED_MEMBER], DAY)
    store.merge(conn, findings()[:1], [BYPASS_SPEND], DAY)
    hook = Webhook()
    result = deliver(conn, hook, Clock(T0), disabled=["unattributed_member"])
    assert hook.sent == [("new", "key_a")]
    assert result.pending == 0
    assert outbox.pending(conn) == (1, dt.datetime(1970, 1, 1))  # waits, if switched on again
