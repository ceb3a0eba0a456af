"""Every fault the sandbox injects, on every endpoint family, through real Dagster runs.

Two outcomes are acceptable, and each is proven exactly against the session's reference
warehouses (see harness.py):
- the faults are survived: starting from yesterday's (stale) tables, the run ends with
  tables identical, row for row and by checksum, to a fault-free run;
- the faults outlast the retries: the run fails with a message naming the endpoint and
  what went wrong, and every table is exactly as it was before the run (the usage
  failure strikes the last family, after nine families were already inserted inside the
  open transaction, so this also proves the rollback).

Client waits are real but tiny (OpenAIAdminResource.retry_base_delay), except a 429's
`Retry-After: 1`, which is honoured in real time and timed here.
"""

from __future__ import annotations

import re
import time

import pytest

from kscope_openai_pipeline.sandbox.faults import FAULT_KINDS
from kscope_openai_pipeline.sandbox.server import Fault

from .harness import (
    COSTS_KEYS,
    DAILY_KEYS,
    INVENTORY_KEYS,
    USAGE_KEY,
    checksum,
    environment,
    pipeline_resources,
    rows_extra,
    rows_lost,
    run_assets,
    snapshot,
)

pytestmark = pytest.mark.reliability

#: A "slow" answer takes SLOW_DELAY; runs with slow faults time out after SLOW_TIMEOUT
#: (other runs keep FAST_CLIENT's 30 s), so the slow request is abandoned and retried.
SLOW_DELAY, SLOW_TIMEOUT = 2.0, 1.0
MALFORMED = {"truncated", "wrong_type"}

#: Recoverable plan per family: (path pattern, hits). Two hits in a row on one page need
#: three attempts, within FAST_CLIENT's four (and the default three for malformed bodies).
SURVIVABLE: dict[str, tuple[tuple[str, int], ...]] = {
    "inventory": (
        ("/organization/projects", 1),
        ("/organization/projects/*", 1),  # a per-project listing, in the thread pool
    ),
    "usage": (("/organization/usage/web_search_calls", 2),),  # after 9 families inserted
    "costs": (("/organization/costs", 1),),
}

#: Unrecoverable plan per family: the assets run, the path that always fails.
FATAL: dict[str, tuple[list, str]] = {
    "inventory": (INVENTORY_KEYS, "*"),
    "usage": ([USAGE_KEY], "/organization/usage/web_search_calls"),
    "costs": (COSTS_KEYS, "/organization/costs"),
}
#: Which steps fail when every inventory request fails (the rest are skipped).
FAILING_STEPS = {
    "inventory": {
        "openai__projects": "/organization/projects",
        "openai__users": "/organization/users",
        "openai__invites": "/organization/invites",
    },
    "usage": {"openai__usage": "/organization/usage/web_search_calls"},
    "costs": {"openai__costs": "/organization/costs"},
}
LAST_STATUS = {
    "429": "429",
    "429_no_retry_after": "429",
    "500": "500",
    "502": "502",
    "503": "503",
    "slow": "timeout",
    "drop": "RemoteProtocolError",
}
WRONG_FIELD = {
    "/organization/projects": r"data\[0\]\.created_at' must be an integer",
    "/organization/users": r"data\[0\]\.added_at' must be an integer",
    "/organization/invites": r"data\[0\]\.created_at' must be an integer",
    "/organization/usage/web_search_calls":
        r"data\[\d+\]\.results\[0\]\.num_model_requests' must be an integer",
    "/organization/costs":
        r"data\[\d+\]\.results\[0\]\.amount\.value' must be a number or a numeric string",
}


def fault(kind: str, path: str, times: int) -> Fault:
    return Fault(kind=kind, path=path, times=times, delay=SLOW_DELAY, retry_after="1")


def client(kind: str) -> dict[str, float]:
    return {"timeout_seconds": SLOW_TIMEOUT} if kind == "slow" else {}


def expected_message(kind: str, endpoint: str) -> re.Pattern[str]:
    """What the failed step must say: the endpoint, then the cause in plain words."""
    e = re.escape(endpoint)
    if kind == "truncated":
        return re.compile(rf"{e}: invalid response: field '<body>' is not valid JSON")
    if kind == "wrong_type":
        return re.compile(rf"{e}: invalid response: field '{WRONG_FIELD[endpoint]} \(got abc\)")
    return re.compile(
        rf"{e}: gave up after 2 attempts \(max_attempts=2\); last status: {LAST_STATUS[kind]}$",
        re.MULTILINE,
    )


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults_on_every_family_are_survived_with_identical_tables(
    world, sandbox, scenario_db, tally, kind
):
    faults = [
        fault(kind, path, times) for plan in SURVIVABLE.values() for path, times in plan
    ]
    for f in faults:
        sandbox.inject(f)
    hits = sum(times for plan in SURVIVABLE.values() for _, times in plan)

    started = time.monotonic()
    with environment(world.env(scenario_db)):
        outcome = run_assets(INVENTORY_KEYS + DAILY_KEYS, pipeline_resources(**client(kind)))
    elapsed = time.monotonic() - started

    assert outcome.success, outcome.failures
    assert [f.remaining for f in faults] == [0] * len(faults)  # every fault did strike
    if kind == "slow":  # on a loaded machine another request may time out too
        assert outcome.total("retries") >= hits
    else:
        assert outcome.total("retries") == hits  # one retry per hit, no more
    after = snapshot(scenario_db)
    lost, extra = rows_lost(world.baseline, after), rows_extra(world.baseline, after)
    tally.add("faults", injected=hits, runs=1, rows_lost=lost, rows_extra=extra)
    assert (lost, extra) == (0, 0)
    assert checksum(after) == checksum(world.baseline)
    assert after == world.baseline
    if kind == "429":  # Retry-After: 1 honoured in real time, each hit one after another
        assert elapsed >= hits * 1.0
    tally.add("faults", survived=hits)


@pytest.mark.parametrize("family", list(FATAL))
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults_outlasting_retries_fail_clearly_and_change_nothing(
    world, sandbox, scenario_db, tally, kind, family
):
    keys, path = FATAL[family]
    endless = fault(kind, path, times=10_000)
    sandbox.inject(endless)

    with environment(world.env(scenario_db)):
        outcome = run_assets(keys, pipeline_resources(max_attempts=2, **client(kind)))

    assert not outcome.success
    assert set(outcome.failures) == set(FAILING_STEPS[family])
    for step, endpoint in FAILING_STEPS[family].items():
        assert expected_message(kind, endpoint).search(outcome.failures[step]), (
            outcome.failures[step]
        )
    if family == "usage":  # the transaction was open and had rows when the fault struck
        served = [r for r in sandbox.requests if r.status == 200 and r.path != path
                  and r.path.startswith("/organization/usage/")]
        assert len(served) == 18  # 9 families x 2 pages, then web_search_calls failed
    after = snapshot(scenario_db)
    lost, extra = rows_lost(world.stale, after), rows_extra(world.stale, after)
    tally.add("faults", injected=10_000 - (endless.remaining or 0), runs=1,
              rows_lost=lost, rows_extra=extra)
    assert (lost, extra) == (0, 0)
    assert after == world.stale
    tally.add("faults", failed_cleanly=1)
