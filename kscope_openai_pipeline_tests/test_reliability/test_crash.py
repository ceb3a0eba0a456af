"""SIGKILL in the middle of writing a partition range loses nothing.

A subprocess runs the real `openai_daily_job` (definitions loaded from the environment,
as `dagster` would) over the reference window, starting from yesterday's (stale) tables.
A sandbox "slow" fault holds one request open, so the process is killed at a known
point with its DuckDB transaction open:

- `usage`: on the web_search_calls page, after the window was deleted and nine usage
  families were inserted inside the transaction;
- `costs`: on the first costs page, after openai.usage was committed and the costs
  transaction had deleted the window.

Afterwards the file opens, every table holds exactly the rows it held before the run
(or, for a table whose own transaction committed before the kill, exactly the fault-free
rows), and the next run completes with the fault-free result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from kscope_openai_pipeline.sandbox.server import Fault

from .harness import (
    DAILY_KEYS,
    DAILY_TABLES,
    INVENTORY_TABLES,
    WINDOW_FIRST,
    WINDOW_LAST,
    environment,
    merge,
    pipeline_resources,
    range_tags,
    release_files,
    rows_lost,
    run_assets,
    snapshot,
)

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

RUN_DAILY_JOB = """
import json, sys
from kscope_openai_pipeline.definitions import defs
defs.resolve_job_def("openai_daily_job").execute_in_process(tags=json.loads(sys.argv[1]))
"""

#: kill point -> (fault path, tables whose transaction committed before the kill)
KILL_POINTS = {
    "usage": ("/organization/usage/web_search_calls", ()),
    "costs": ("/organization/costs", ("openai.usage",)),
}


def locked(path) -> bool:
    """True while another process holds the warehouse's write lock."""
    probe = duckdb.connect(":memory:")
    try:
        probe.execute(f"ATTACH '{path}' AS probe (READ_ONLY)")
    except duckdb.IOException as err:
        return "lock" in str(err).lower()
    finally:
        probe.close()
    return False


@pytest.mark.parametrize("kill_at", list(KILL_POINTS))
def test_sigkill_mid_write_keeps_previous_rows_and_next_run_recovers(
    world, sandbox, scenario_db, tally, tmp_path, kill_at
):
    path, committed = KILL_POINTS[kill_at]
    # held far longer than the kill takes even on a loaded machine (seconds), not so long
    # that the held request, logged when its hold ends, reaches much later tests
    hold = Fault(kind="slow", path=path, times=1, delay=30.0)
    sandbox.inject(hold)
    release_files()
    env = {**os.environ, **world.env(scenario_db), "DAGSTER_HOME": str(tmp_path)}
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_DAILY_JOB, json.dumps(range_tags(WINDOW_FIRST, WINDOW_LAST))],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300  # the child imports Dagster first: minutes if loaded
        while hold.remaining and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hold.remaining == 0, (tmp_path / "run.log").read_text()[-3000:]
        time.sleep(0.3)
        assert proc.poll() is None and locked(scenario_db)  # mid-transaction, lock held
        if kill_at == "usage":  # the transaction already holds 9 families' rows
            others = {r.path for r in sandbox.requests if r.status == 200}
            assert len([p for p in others if p.startswith("/organization/usage/")]) == 9
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()

    expected_after_kill = merge(
        {t: world.stale[t] for t in INVENTORY_TABLES},
        {t: (world.baseline if t in committed else world.stale)[t] for t in DAILY_TABLES},
    )
    after_kill = snapshot(scenario_db)
    lost_kill = rows_lost(expected_after_kill, after_kill)
    assert after_kill == expected_after_kill

    sandbox.clear_faults()
    with environment(world.env(scenario_db)):
        outcome = run_assets(DAILY_KEYS, pipeline_resources())
    assert outcome.success, outcome.failures
    expected_final = merge(
        {t: world.stale[t] for t in INVENTORY_TABLES},
        {t: world.baseline[t] for t in DAILY_TABLES},
    )
    final = snapshot(scenario_db)
    lost_final = rows_lost(expected_final, final)
    tally.add("crash", kills=1, rows_lost_after_kill=lost_kill,
              rows_lost_after_recovery=lost_final)
    assert final == expected_final
    tally.add("crash", recovered=1)
