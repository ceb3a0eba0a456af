"""Delivery through real runs and a real receiver when the webhook misbehaves: a 500, a
timeout, a refused connection, no webhook at all. Each message arrives exactly once, the
runs never fail, and the retry waits for its backoff across sensor ticks.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from kscope_openai_pipeline_tests.helpers.pipeline import query
from kscope_openai_pipeline_tests.helpers.webhook_receiver import refused_url
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import EARLY_END, AlertsWorld
from kscope_openai_pipeline_tests.test_defs.test_alerts.test_flow import BYPASS_SPEND_USD, expected

#: Seconds before the first retry: long enough to see a tick skip, short for a test.
RETRY_SECONDS = 3


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSCOPE_ALERTS_DISABLED", "stale_data")
    monkeypatch.setenv("KSCOPE_ALERT_BYPASS_SPEND_USD", str(BYPASS_SPEND_USD))
    monkeypatch.setenv("KSCOPE_ALERT_RETRY_SECONDS", str(RETRY_SECONDS))
    monkeypatch.setenv("KSCOPE_ALERT_WEBHOOK_TIMEOUT_SECONDS", "1")


def expected_count(world: AlertsWorld) -> int:
    """The findings of the first run (five: see test_flow)."""
    return len(expected(world, EARLY_END))


def delivery_state(world: AlertsWorld) -> list[tuple]:
    return query(
        world.db_path,
        "SELECT delivery_attempts, last_delivery_error, next_attempt_at IS NOT NULL "
        "FROM sightlines.alerts WHERE notified_at IS NULL ORDER BY ALL",
    )


def wait_for_backoff(world: AlertsWorld) -> None:
    (latest,) = query(world.db_path, "SELECT MAX(next_attempt_at) FROM sightlines.alerts")[0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    time.sleep(max(0.0, (latest - now).total_seconds()) + 0.2)


def test_a_500_then_200_is_exactly_one_delivery_after_the_backoff(world: AlertsWorld) -> None:
    n = expected_count(world)
    assert n == 5
    world.sightlines()
    world.hook.answer(500)
    assert world.notify() == 0
    assert [r.status for r in world.hook.received] == [500]  # the round stopped there
    assert delivery_state(world)[-1] == (1, "HTTP 500", True)
    assert world.runs[-1].success  # a failing webhook never fails the run
    # before the backoff has passed, the notifier starts nothing
    tick = world.tick()
    assert not tick.run_requests and "nothing new" in tick.skip_message
    wait_for_backoff(world)
    assert world.notify() == n
    assert [r.status for r in world.hook.received] == [500] + [200] * n
    first, retried = world.hook.received[0].body, world.hook.received[1].body
    assert first == retried  # the same message, sent again, accepted once
    assert len({r["text"] for r in world.hook.accepted}) == n
    assert delivery_state(world) == []
    assert world.notify() == 0


def test_a_timeout_and_a_refused_connection_are_retried_and_sent_once(
    world: AlertsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = expected_count(world)
    world.sightlines()
    monkeypatch.setenv("KSCOPE_ALERT_WEBHOOK_URL", refused_url())
    assert world.notify() == 0 and world.runs[-1].success
    assert delivery_state(world)[-1] == (1, "connection refused", True)

    monkeypatch.setenv("KSCOPE_ALERT_WEBHOOK_URL", world.hook.url)
    world.hook.slow(3)  # hangs past the 1 s timeout, then gives up without processing
    wait_for_backoff(world)
    started = time.monotonic()
    assert world.notify() == 0 and world.runs[-1].success
    assert time.monotonic() - started < 15  # one timeout, not one per message
    assert delivery_state(world)[-1] == (2, "timeout", True)

    world.hook.slow(0)
    wait_for_backoff(world)
    assert world.notify() == n
    assert len(world.hook.accepted) == n
    assert world.notify() == 0


def test_without_a_webhook_findings_wait_in_the_table_until_one_is_set(
    world: AlertsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = expected_count(world)
    monkeypatch.delenv("KSCOPE_ALERT_WEBHOOK_URL")
    world.sightlines()
    tick = world.tick()
    assert not tick.run_requests  # nothing to deliver, no run
    assert query(world.db_path, "SELECT COUNT(*) FROM sightlines.alerts "
                 "WHERE notified_at IS NULL")[0][0] == n  # fmt: skip
    monkeypatch.setenv("KSCOPE_ALERT_WEBHOOK_URL", world.hook.url)
    assert world.notify() == n
    assert world.notify() == 0
