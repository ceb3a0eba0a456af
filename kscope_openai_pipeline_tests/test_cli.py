"""The commands a user types: `dagster asset materialize` and `kscope-openai demo`.

Both run in a child process against a sandbox served by this test process (loopback),
with DAGSTER_HOME and the warehouse in tmp_path. Slow-marked: each child imports Dagster
and the definitions (~5 s) before doing anything.
"""

from __future__ import annotations

import re
import subprocess
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from kscope_openai_pipeline import warehouse
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox, load_org
from kscope_openai_pipeline_tests.helpers.pipeline import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    expected_api_key_costs,
    expected_costs,
    expected_usage,
    merged_requests,
    minimum_access_check_requests,
    minimum_audit_log_requests,
    minimum_daily_requests,
    minimum_inventory_requests,
    query,
    requests_per_path,
    stored_usage,
)
from kscope_openai_pipeline_tests.helpers.processes import BIN, CWD, child_environment

#: A child that imports Dagster and runs the pipeline takes ~20 s on an idle machine and
#: several minutes on a loaded one; the limit only catches a hang.
CHILD_TIMEOUT = 600


def runs_at(home: Path) -> list[dg.DagsterRun]:
    """The runs recorded in the instance at DAGSTER_HOME `home`."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.get_runs())


@pytest.mark.slow
@pytest.mark.timeout(CHILD_TIMEOUT + 60)
def test_dagster_asset_materialize_openai_range(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README command: inventory + a partition range of every openai/* asset, one run.

    The range starts 3 days before the org's first key with KSCOPE_FIRST_DAY earlier
    still: those days are written empty without a request.
    """
    org = sandbox.org
    earliest = gt.to_date(min(k.created_at for k in org.api_keys if not k.deleted))
    first, last = earliest - timedelta(days=3), earliest + timedelta(days=2)
    env = child_environment(
        tmp_path, monkeypatch, sandbox, KSCOPE_FIRST_DAY=(earliest - timedelta(days=30)).isoformat()
    )
    command = [
        str(BIN / "dagster"), "asset", "materialize",
        "-m", "kscope_openai_pipeline.definitions",
        "--select", "key:openai/*",
        "--partition-range", f"{first}...{last}",
    ]  # fmt: skip

    started = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=CWD, capture_output=True, text=True, timeout=CHILD_TIMEOUT
    )
    seconds = time.monotonic() - started

    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    assert sandbox.admin_key not in done.stdout + done.stderr
    db = Path(env["KSCOPE_DUCKDB_PATH"])
    assert stored_usage(db, first, last) == expected_usage(org, first, last)
    costs = query(db, "SELECT cost_date, project_id, line_item, amount_usd FROM openai.costs")
    assert {(d, p, li): a for d, p, li, a in costs} == expected_costs(org, first, last)
    key_costs = query(db, "SELECT cost_date, api_key_id, amount_usd FROM openai.api_key_costs")
    assert {(d, k): a for d, k, a in key_costs} == expected_api_key_costs(org, first, last)
    listed = sum(not k.deleted for k in org.api_keys)
    assert query(db, "SELECT COUNT(*) FROM openai.api_keys") == [(listed,)]
    # `key:openai/*` includes the access check: its seven probes come first, nothing else
    assert requests_per_path(sandbox.requests) == merged_requests(
        minimum_access_check_requests(org),
        minimum_inventory_requests(org),
        minimum_daily_requests(earliest, last),
        minimum_audit_log_requests(org, first, last),  # the audit log skips no day
    )
    (run,) = runs_at(Path(env["DAGSTER_HOME"]))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == (str(first), str(last))
    print(f"dagster asset materialize: {seconds:.1f} s, {len(sandbox.requests)} requests")


def _printed_spend(stdout: str) -> dict[date, tuple[Decimal, Decimal, Decimal]]:
    """day -> (all line items, seats, without seats) from the demo's spend table."""
    block = stdout.split("Billed spend per day")[1].split("\n\n")[0]
    money = r"\s+(\d[\d,]*\.\d\d)"
    return {
        date.fromisoformat(m[1]): tuple(Decimal(v.replace(",", "")) for v in m.groups()[1:])
        for m in re.finditer(rf"^\s+(\d{{4}}-\d\d-\d\d){money}{money}{money}$", block, re.M)
    }


STEPS = [
    "openai/access_check", "openai/invites", "openai/projects", "openai/users", "openai/api_keys",
    "openai/project_users", "openai/service_accounts", "openai/organization",
    "openai/usage", "openai/costs", "openai/api_key_costs", "openai/audit_logs", "sightlines",
    "sightlines/alerts",
    "exports/focus_costs",
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(CHILD_TIMEOUT + 60)
def test_demo_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kscope-openai demo --size tiny --days 20`: real numbers, analyst copy, run history.

    The demo starts its own sandbox; the expected numbers come from the same org
    (seed 7, tiny) built here.
    """
    env = child_environment(tmp_path, monkeypatch)
    command = [str(BIN / "kscope-openai"), "demo", "--seed", "7", "--size", "tiny", "--days", "20"]

    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)  # fmt: skip
    seconds = time.monotonic() - started

    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    org = load_org(7, "tiny")
    last = gt.to_date(org.end_day) - timedelta(days=1)
    first = last - timedelta(days=19)
    assert f"Running daily_refresh_job for {first} .. {last} (20 days) as one Dagster run" in out
    assert out.splitlines()[2] == (
        "Recorded in Dagster: kscope/dev_tokens, kscope/gateway_costs, kscope/engineers "
        "materialized; valid_rows passed 3 of 3"
    )
    # one progress line per step; the per-page INFO lines are for --verbose
    progress = re.findall(r"^  (\S+)\s+done in\s+\d+\.\d s$", out, re.M)
    assert sorted(progress) == sorted(STEPS)
    assert "GET /organization" not in out + done.stderr
    assert " - INFO - " not in done.stderr
    headlines = out.split("Sightlines:\n")[1].split("\n\n")[0].splitlines()
    assert len(headlines) == 3 and all(h.startswith("  - ") for h in headlines)
    assert "bypasses the gateway" in headlines[0]
    truth = gt.cost_totals(org, first, last + timedelta(days=1)).per_day
    no_seats = gt.cost_totals(
        org, first, last + timedelta(days=1), include_subscriptions=False
    ).per_day
    cents = Decimal("0.01")

    def shown(amount: Decimal) -> Decimal:
        return amount.quantize(cents, ROUND_HALF_UP)

    assert "The chart and the reconciliation leave out seat line items:" in out
    assert _printed_spend(out) == {
        d: (
            shown(truth[d]),
            shown(truth[d] - no_seats.get(d, Decimal(0))),
            shown(no_seats.get(d, Decimal(0))),
        )
        for d in truth
        if d > last - timedelta(7)
    }
    assert org.admin_key not in out + done.stderr

    # the analyst copy exists, opens read-only, holds what was printed
    analyst = Path(env["KSCOPE_DUCKDB_PATH"]).with_name("kscope_analytics.duckdb")
    conn = warehouse.open_analyst(analyst)
    try:
        printed_rows = dict(
            (t, int(n.replace(",", "")))
            for t, n in re.findall(r"^  ([a-z_]+\.[a-z_]+)\s+([\d,]+)$", out, re.M)
        )
        assert printed_rows["openai.usage"] > 0
        for table, n in printed_rows.items():
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchall() == [(n,)], table
        total = conn.execute(
            "SELECT SUM(amount_usd) FROM openai.costs WHERE cost_date BETWEEN ? AND ?",
            [first, last],
        ).fetchall()[0][0]
        assert total == gt.cost_totals(org, first, last + timedelta(days=1)).total
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("DELETE FROM openai.usage")
    finally:
        conn.close()
        del conn

    # the run is in the instance's run storage under DAGSTER_HOME
    (run,) = runs_at(Path(env["DAGSTER_HOME"]))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.job_name == "daily_refresh_job"
    assert run.tags["kscope/origin"] == "demo"
    assert f"Run {run.run_id} succeeded" in out
    print(f"kscope-openai demo --size tiny --days 20: {seconds:.1f} s")
