"""The alerts end to end: real runs over the crawled sandbox, the notifier ticked as the
daemon would, and a real webhook receiver counting what arrived.

- the first run sends exactly the findings the ground truth implies, once each;
- a second run, a re-crawl of overlapping days, and a restart of the daemon (a sensor
  without its cursor) send nothing;
- the days crawled later send exactly what changed: new findings once, resolutions once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline_tests.test_defs.test_alerts import oracle
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import EARLY_END, AlertsWorld

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """stale_data depends on today's date, not on the sandbox: `test_stale_data.py`."""
    monkeypatch.setenv(
        "KSCOPE_ALERTS_DISABLED", "stale_data,new_bypass_key,bypass_spend,unattributed_member"
    )


def sent(bodies: list[dict]) -> list[tuple[str, str, str]]:
    """(event, kind, subject) of each message body, in arrival order."""
    out = []
    for body in bodies:
        kind = body["blocks"][2]["elements"][0]["text"].split(" · ")[0]
        event = "resolved" if body["text"].startswith(":white_check_mark:") else "new"
        subject = body["blocks"][0]["text"]["text"].rsplit(": ", 1)[1]
        out.append((event, kind, subject))
    return out


def expected(world: AlertsWorld, last: dt.date) -> set[tuple[str, str]]:
    return {("reconciliation_gap", p) for p in oracle.reconciliation_gaps(world.org, last)}


def test_the_first_run_sends_the_ground_truth_once_and_nothing_again(world: AlertsWorld) -> None:
    world.sightlines()
    assert world.notify() == len(expected(world, EARLY_END))
    messages = sent(world.hook.accepted)
    assert {(k, s) for _, k, s in messages} == expected(world, EARLY_END)
    assert len(messages) == len(set(messages)) > 0 and {e for e, _, _ in messages} == {"new"}
    gaps = oracle.reconciliation_gaps(world.org, EARLY_END)
    assert {(k, s, first) for k, s, first, *_ in world.alerts()} == {
        ("reconciliation_gap", s, first) for s, first in gaps.items()
    }
    assert all(notified for *_, notified, _ in world.alerts())

    # the same data again: a run, a tick, a delivery run, nothing sent
    world.sightlines()
    assert world.notify() == 0
    # a re-crawl of days already stored (a backfill of an overlapping range), then the
    # sightlines: nothing new either
    world.crawl_days(EARLY_END - 5 * DAY, EARLY_END)
    world.sightlines()
    assert world.notify() == 0
    # the daemon restarted and lost nothing: the table remembers what went out
    world.cursor = None
    assert world.notify() == 0
    assert len(world.hook.received) == len(messages)


def test_the_days_crawled_later_send_exactly_what_changed(world: AlertsWorld) -> None:
    world.sightlines()
    world.notify()
    first = set(sent(world.hook.accepted))
    world.hook.clear()

    world.crawl_days(EARLY_END + DAY, world.last_day)
    world.sightlines()
    world.notify()
    before, after = expected(world, EARLY_END), expected(world, world.last_day)
    assert sorted(sent(world.hook.accepted)) == sorted(
        [("new", k, s) for k, s in after - before]
        + [("resolved", k, s) for k, s in before - after]
    )
    assert {(k, s) for _, k, s in first} == before
    assert world.notify() == 0
    assert gt.to_date(world.org.end_day) - DAY == world.last_day
