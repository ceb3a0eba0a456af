"""The FOCUS export built by the REAL pipeline over a month boundary, judged by the FinOps
Foundation's own validator.

One `daily_refresh_job` run crawls the `tiny` sandbox over real HTTP on loopback (its
60 days, 2026-09-27..2026-11-25: three billing months), with the Kscope inputs loaded as
`kscope-openai demo` loads them, into a DuckDB file in tmp_path; the export follows the
sightlines in the same run. Then:
- per month, BilledCost sums to openai.costs.amount_usd and to the sandbox's ground truth
  to the nano-dollar, in the table and in the Parquet file, one row per cost row;
- x_GatewayMeteredCost and x_BypassCost sum to the reconciliation's figures exactly;
- focus-validator 2.2.1 passes every month's Parquet file and a CSV written by
  `kscope-openai export-focus` from the analyst copy (only the known InvoiceId bug fails);
- re-running a range across the month boundary gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from kscope_openai_pipeline import exports, warehouse
from kscope_openai_pipeline.cli import main as cli
from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.exports.assets import focus_costs
from kscope_openai_pipeline.defs.partitions import daily_partitions
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.demo import last_sandbox_day, load_sandbox_inputs, sandbox_environment
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.helpers import focus_validator
from kscope_openai_pipeline_tests.helpers.pipeline import RANGE_END_TAG, RANGE_START_TAG, query

SEED, SIZE = 7, "tiny"
MONTHS = [dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
KEY = dg.AssetKey(["exports", "focus_costs"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One pipeline run over the whole org; the paths and the org for the tests."""
    tmp = tmp_path_factory.mktemp("focus")
    db_path, copy = tmp / "kscope.duckdb", tmp / "kscope_analytics.duckdb"
    with Sandbox.start(seed=SEED, size=SIZE, port=0) as sb, pytest.MonkeyPatch.context() as mp:
        for name, value in sandbox_environment(sb).items():
            mp.setenv(name, value)
        mp.setenv("KSCOPE_DUCKDB_PATH", str(db_path))
        mp.setenv("KSCOPE_ANALYST_COPY_PATH", str(copy))
        load_sandbox_inputs(sb, SEED, SIZE, db_path)
        first, last = gt.to_date(sb.org.start_day), last_sandbox_day(sb)
        assert (first, last) == (dt.date(2026, 9, 27), dt.date(2026, 11, 25))
        result = defs.resolve_job_def("daily_refresh_job").execute_in_process(
            resources=build_resources(),
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
        )
        published = warehouse.publish(db_path, copy)
        return {
            "org": sb.org, "db": db_path, "copy": copy, "result": result, "tmp": tmp,
            "folder": tmp / "exports" / "focus", "published": published,
            "first": first, "last": last,
        }


def test_the_run_exports_every_day_and_its_checks_pass(run) -> None:
    result = run["result"]
    assert result.success
    days = {
        e.materialization.partition: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == KEY
    }
    assert len(days) == 60 and all(n > 0 for n in days.values())
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()
              if c.asset_key == KEY}
    assert checks == {"matches_openai_costs": True, "reconciliation_carried": True}
    assert sorted(p.name for p in run["folder"].iterdir()) == [
        f"focus_costs_{m:%Y-%m}.parquet" for m in MONTHS
    ]


def test_billed_cost_is_exact_per_month_in_table_and_file(run) -> None:
    org = run["org"]
    truth: dict[dt.date, Decimal] = defaultdict(Decimal)
    truth_rows: dict[dt.date, int] = defaultdict(int)
    costs = gt.cost_totals(org, run["first"], run["last"] + dt.timedelta(days=1))
    for (day, _, _), amount in costs.per_day_project_line_item.items():
        truth[day.replace(day=1)] += amount
        truth_rows[day.replace(day=1)] += 1
    stored = dict(query(run["db"], "SELECT CAST(date_trunc('month', cost_date) AS DATE), "
                        "SUM(amount_usd) FROM openai.costs GROUP BY 1"))
    for month in MONTHS:
        path = exports.month_file(run["folder"], month)
        (rows, billed), = query(run["db"], "SELECT COUNT(*), SUM(BilledCost) FROM read_parquet(?)",
                                [str(path)])
        (t_rows, t_billed), = query(
            run["db"], "SELECT COUNT(*), SUM(BilledCost) FROM exports.focus_costs "
            "WHERE BillingPeriodStart = ?", [month])
        assert billed == t_billed == stored[month] == truth[month], month  # to the nano-dollar
        assert rows == t_rows == truth_rows[month], month
    # one FOCUS row per (day, project, line item) of openai.costs, with its exact amount
    (unmatched,) = query(run["db"], """
        SELECT COUNT(*) FROM exports.focus_costs AS f
        FULL OUTER JOIN openai.costs AS c
            ON c.cost_date = CAST(f.ChargePeriodStart AS DATE)
            AND c.project_id IS NOT DISTINCT FROM f.SubAccountId
            AND c.line_item IS NOT DISTINCT FROM f.x_LineItem
        WHERE f.BilledCost IS DISTINCT FROM c.amount_usd""")[0]
    assert unmatched == 0


def test_x_columns_sum_to_the_reconciliation(run) -> None:
    pairs = query(run["db"], """
        WITH carried AS (
            SELECT CAST(ChargePeriodStart AS DATE) AS day, SubAccountId AS project_id,
                   SUM(x_GatewayMeteredCost) AS metered, SUM(x_BypassCost) AS bypass
            FROM exports.focus_costs GROUP BY ALL
        )
        SELECT r.recon_date, r.project_id, r.metered_usd, r.bypass_explained_usd,
               c.metered, c.bypass
        FROM sightlines.billing_reconciliation AS r
        LEFT JOIN carried AS c
            ON c.day = r.recon_date AND c.project_id IS NOT DISTINCT FROM r.project_id
        WHERE r.scope = 'project'""")
    assert len(pairs) > 60
    assert all(m == cm and b == cb for _, _, m, b, cm, cb in pairs), [
        p for p in pairs if p[2] != p[4] or p[3] != p[5]
    ][:5]
    totals = query(run["db"], """
        SELECT (SELECT SUM(metered_usd) FROM sightlines.billing_reconciliation
                WHERE scope = 'organization'),
               (SELECT SUM(x_GatewayMeteredCost) FROM exports.focus_costs),
               (SELECT SUM(bypass_explained_usd) FROM sightlines.billing_reconciliation
                WHERE scope = 'organization'),
               (SELECT SUM(x_BypassCost) FROM exports.focus_costs)""")[0]
    assert totals[0] == totals[1] > 0 and totals[2] == totals[3] > 0


@pytest.mark.timeout(1200)
def test_focus_validator_passes_every_month(run, capsys) -> None:
    """focus-validator 2.2.1, STRICT criteria, on each month's Parquet file and on one
    month as CSV from `kscope-openai export-focus` (reading the analyst copy)."""
    csv_path = run["tmp"] / "hand-off" / "focus_2026-10.csv"
    out = CliRunner().invoke(
        cli, ["export-focus", "--month", "2026-10", "--out", str(csv_path),
              "--db", str(run["copy"])],
    )
    assert out.exit_code == 0, out.output
    files = [exports.month_file(run["folder"], m) for m in MONTHS] + [csv_path]
    reports, seconds = focus_validator.timed_validate(files)
    with capsys.disabled():
        print(f"\nfocus-validator 2.2.1 on {len(files)} files: {seconds:.0f} s")
        for path, report in reports.items():
            print(f"  {path.name}: {report.summary} {report.failed_rules} ({report.seconds:.0f} s)")
    problems = [p for report in reports.values() for p in report.problems()]
    assert not problems, "\n".join(problems)
    assert all(r.total == 578 and r.passed == 302 for r in reports.values())


def test_rerunning_a_range_gives_identical_files(run, monkeypatch) -> None:
    for name, value in {"KSCOPE_DUCKDB_PATH": str(run["db"]),
                        "KSCOPE_ANALYST_COPY_PATH": str(run["copy"])}.items():
        monkeypatch.setenv(name, value)
    before = {p.name: _sha(p) for p in run["folder"].iterdir()}
    (rows_before,) = query(run["db"], "SELECT COUNT(*), BIT_XOR(HASH(f)) "
                           "FROM exports.focus_costs AS f")
    result = dg.materialize(
        [focus_costs],
        resources={"duckdb": build_resources()["duckdb"]},
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: "2026-10-30", RANGE_END_TAG: "2026-11-02"},
    )
    assert result.success
    files = {e.materialization.metadata["files"].value
             for e in result.get_asset_materialization_events()}
    assert len(files) == 1 and "focus_costs_2026-10.parquet" in files.pop()
    assert {p.name: _sha(p) for p in run["folder"].iterdir()} == before
    assert query(run["db"], "SELECT COUNT(*), BIT_XOR(HASH(f)) FROM exports.focus_costs AS f") == [
        rows_before
    ]


def test_days_never_exported_leave_the_month_incomplete_not_the_run_failed(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill by `openai_daily_job` stores costs without exporting them; the next
    export of two days must pass its checks and name the month it could not complete."""
    db, folder = tmp_path / "kscope.duckdb", tmp_path / "exports" / "focus"
    shutil.copyfile(run["db"], db)
    shutil.copytree(run["folder"], folder)
    monkeypatch.setenv("KSCOPE_DUCKDB_PATH", str(db))
    monkeypatch.setenv("KSCOPE_ANALYST_COPY_PATH", str(tmp_path / "copy.duckdb"))
    conn = warehouse.connect(db)
    try:
        conn.execute("DELETE FROM exports.focus_costs WHERE ChargePeriodStart >= '2026-11-01' "
                     "AND ChargePeriodStart < '2026-11-21'")
    finally:
        warehouse.disconnect(conn)

    result = dg.materialize(
        [focus_costs],
        resources={"duckdb": build_resources()["duckdb"]},
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: "2026-11-24", RANGE_END_TAG: "2026-11-25"},
    )

    assert result.success
    (check,) = [c for c in result.get_asset_check_evaluations()
                if c.check_name == "matches_openai_costs"]
    assert check.passed
    assert check.metadata["incomplete_months"].value.startswith("2026-11: openai.costs has")
    [(rows, billed)] = query(db, "SELECT COUNT(*), SUM(BilledCost) FROM exports.focus_costs "
                                 "WHERE ChargePeriodStart >= '2026-11-01'")
    in_file = query(db, "SELECT COUNT(*), SUM(BilledCost) FROM read_parquet(?)",
                    [str(folder / "focus_costs_2026-11.parquet")])
    assert in_file == [(rows, billed)]
    assert check.metadata["billed_usd_2026_11"].value == float(billed)


def test_the_analyst_copy_holds_the_export(run) -> None:
    assert run["published"].rows["exports.focus_costs"] > 0
    conn = warehouse.open_analyst(run["copy"])
    try:
        (n, billed) = conn.execute(
            "SELECT COUNT(*), SUM(BilledCost) FROM exports.focus_costs").fetchone()
    finally:
        conn.close()
    assert (n, billed) == query(run["db"], "SELECT COUNT(*), SUM(BilledCost) "
                                "FROM exports.focus_costs")[0]


def test_the_asset_is_daily_single_run_and_pooled() -> None:
    node = defs.resolve_asset_graph().get(KEY)
    assert node.partitions_def == daily_partitions
    assert node.backfill_policy == dg.BackfillPolicy.single_run()
    assert node.pools == {"duckdb_writer"}
    assert set(node.parent_keys) >= {
        dg.AssetKey(["openai", "costs"]), dg.AssetKey(["sightlines", "billing_reconciliation"])
    }
