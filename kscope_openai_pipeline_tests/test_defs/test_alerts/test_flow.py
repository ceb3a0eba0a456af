"""The alerts end to end: real runs over the crawled sandbox, the notifier ticked as the
daemon would, and a real webhook receiver counting what arrived.

- the first run sends exactly the findings the ground truth implies, once each;
- a second run, a re-crawl of overlapping days, and a restart of the daemon (a sensor
  without its cursor) send nothing;
- the days crawled later send exactly what changed: new findings once, resolutions once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kscope_openai_pipeline_tests.test_defs.test_alerts import oracle
from kscope_openai_pipeline_tests.test_defs.test_alerts.conftest import EARLY_END, AlertsWorld

DAY = dt.timedelta(days=1)


#: Below the default $50, so that the tiny org's heaviest bypass keys cross it.
BYPASS_SPEND_USD = Decimal(30)
#: The tiny org's scenarios (`org.extra["scenarios"]`): a key registered halfway through
#: the range, and a key whose Dev Token is revoked on 2026-10-31.
LATE_KEY, REVOKED_KEY = "key_XN1DycgYWuFZd2dl", "key_K7Fgu6Z71uiu82wk"


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """stale_data depends on today's date, not on the sandbox: `test_stale_data.py`."""
    monkeypatch.setenv("KSCOPE_ALERTS_DISABLED", "stale_data")
    monkeypatch.setenv("KSCOPE_ALERT_BYPASS_SPEND_USD", str(BYPASS_SPEND_USD))


def sent(bodies: list[dict]) -> list[tuple[str, str, str]]:
    """(event, kind, subject) of each message body, in arrival order."""
    out = []
    for body in bodies:
        kind = body["blocks"][2]["elements"][0]["text"].split(" · ")[0]
        event = "resolved" if body["text"].startswith(":white_check_mark:") else "new"
        subject = body["blocks"][0]["text"]["text"].rsplit(": ", 1)[1]
        out.append((event, kind, subject))
    return out


def expected_first_seen(world: AlertsWorld, last: dt.date) -> dict[tuple[str, str], dt.date]:
    """(kind, subject) -> first_seen_date of every finding the ground truth implies."""
    org = world.org
    spend = oracle.bypass_spend(org, last, BYPASS_SPEND_USD)
    return {
        **{("new_bypass_key", k): d for k, d in oracle.new_bypass_keys(org, last).items()},
        **{("bypass_spend", k): oracle.first_spend_day(org, last, k) for k in spend},
        **{("reconciliation_gap", p): d for p, d in oracle.reconciliation_gaps(org, last).items()},
        **{("unattributed_member", m): d
           for m, d in oracle.unattributed_members(org, last).items()},
    }  # fmt: skip


def expected(world: AlertsWorld, last: dt.date) -> set[tuple[str, str]]:
    return set(expected_first_seen(world, last))


def test_the_first_run_sends_the_ground_truth_once_and_nothing_again(world: AlertsWorld) -> None:
    truth = expected_first_seen(world, EARLY_END)
    # what the tiny org holds on that day: three keys bypassing since the first day (one
    # of them the key registered late), the heaviest over the threshold, one project's gap
    assert sorted(truth) == [
        ("bypass_spend", LATE_KEY), ("new_bypass_key", "key_Esh4b1Yz9j0wyY4O"),
        ("new_bypass_key", LATE_KEY), ("new_bypass_key", "key_v42V3ebHebcxBIrE"),
        ("reconciliation_gap", "proj_yWsGyLQ721xzMewc5a0jZpFD"),
    ]  # fmt: skip
    world.sightlines()
    assert world.notify() == len(truth) == 5
    messages = sent(world.hook.accepted)
    assert sorted(messages) == sorted(("new", k, s) for k, s in truth)  # each exactly once
    assert {(k, s): first for k, s, first, *_ in world.alerts()} == truth
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
    assert len(world.hook.received) == 5


def test_the_days_crawled_later_send_exactly_what_changed(world: AlertsWorld) -> None:
    world.sightlines()
    world.notify()
    world.hook.clear()

    world.crawl_days(EARLY_END + DAY, world.last_day)
    world.sightlines()
    assert world.notify() == 6
    before, after = expected(world, EARLY_END), expected(world, world.last_day)
    changed = sorted(
        [("new", k, s) for k, s in after - before] + [("resolved", k, s) for k, s in before - after]
    )
    assert sorted(sent(world.hook.accepted)) == changed == [
        ("new", "bypass_spend", "key_v42V3ebHebcxBIrE"),
        # the sandbox's key whose Dev Token was revoked: a bypass key from the next day on
        ("new", "new_bypass_key", REVOKED_KEY),
        ("new", "reconciliation_gap", "proj_3k8cl6Ln9cnfA7tJa4l3DkMa"),
        # the member whose engineer departed (the sandbox's departing engineer)
        ("new", "unattributed_member", "user-GYjuyu8DNjhnJXGFWzxwXpPY"),
        # the key registered halfway through: both its findings resolved, once each
        ("resolved", "bypass_spend", LATE_KEY),
        ("resolved", "new_bypass_key", LATE_KEY),
    ]  # fmt: skip
    scenarios = world.org.extra["scenarios"]
    assert (scenarios["late_registered_key"], scenarios["revoked_keys"]) == (
        LATE_KEY, [REVOKED_KEY]
    )  # fmt: skip
    (revoked,) = [b for b in world.hook.accepted if REVOKED_KEY in b["text"]]
    assert revoked["text"].startswith(
        f":warning: [WARNING] Key {REVOKED_KEY} in Default project sends traffic without an "
        "active Kscope Dev Token since 2026-11-01:"
    )
    assert world.notify() == 0
