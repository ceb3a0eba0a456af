"""Materializing the same range twice, or overlapping ranges in any order, gives the
same tables.

Every sequence starts from yesterday's (stale) warehouse. After each run, the daily
tables must hold exactly the fault-free rows for every day some run of the sequence
covered, and exactly the stale rows for every other day: a re-run never duplicates a
row, never leaves a restated one behind, and never touches a day outside its range.
The inventory tables, which no run here writes, stay exactly as they were.
"""

from __future__ import annotations

from datetime import date

import pytest

from .harness import (
    DAILY_KEYS,
    TABLES,
    WINDOW_FIRST,
    WINDOW_LAST,
    describe,
    environment,
    pipeline_resources,
    refreshed,
    run_assets,
    snapshot,
    window_days,
)

pytestmark = pytest.mark.reliability

FULL = (WINDOW_FIRST, WINDOW_LAST)
EARLY = (WINDOW_FIRST, date(2026, 11, 10))
LATE = (date(2026, 11, 5), WINDOW_LAST)
LAST_DAY = (WINDOW_LAST, WINDOW_LAST)

SEQUENCES = {
    "same-range-twice": [FULL, FULL],
    "early-then-late": [EARLY, LATE],
    "late-then-early": [LATE, EARLY],
    "day-late-full-early": [LAST_DAY, LATE, FULL, EARLY],
}


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_overlapping_ranges_in_any_order_give_identical_tables(
    world, sandbox, scenario_db, tally, sequence
):
    covered: set[date] = set()
    states = []
    with environment(world.env(scenario_db)):
        resources = pipeline_resources()
        for first, last in SEQUENCES[sequence]:
            outcome = run_assets(DAILY_KEYS, resources, first=first, last=last)
            assert outcome.success, outcome.failures
            covered.update(window_days(first, last))
            expected = refreshed(world.baseline, world.stale, covered.__contains__)
            state = snapshot(scenario_db)
            differences = sum(
                sum(((expected[t] - state[t]) + (state[t] - expected[t])).values())
                for t in TABLES
            )
            tally.add("idempotency", runs=1, tables_compared=len(TABLES),
                      differences=differences)
            assert state == expected, f"after {first}..{last}: " + describe(expected, state)
            states.append(state)
    assert covered == set(window_days())  # every sequence ends with the whole window
    assert states[-1] == refreshed(world.baseline, world.stale, lambda d: True)
    if sequence == "same-range-twice":
        assert states[0] == states[1]
    tally.add("idempotency", sequences=1)
