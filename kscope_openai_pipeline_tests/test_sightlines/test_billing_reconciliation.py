"""sightlines.billing_reconciliation against the sandbox ground truth (small org, seed 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pandas as pd

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox import ground_truth_daily as gd
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.warehouse import read_table, validate
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org

from .conftest import AS_OF

ZERO = Decimal("0E-9")


def _recon(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return read_table(conn, "sightlines.billing_reconciliation", ["recon_date", "project_id"])


def _project_rows(table: pd.DataFrame) -> dict[tuple, gt.ReconRow]:
    rows = table[table["scope"] == "project"]
    return {
        (r.recon_date, r.project_id): gt.ReconRow(r.billed_usd, r.metered_usd, r.gap_usd, r.status)
        for r in rows.itertuples()
    }


def test_every_day_and_project_equals_the_ground_truth(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _recon(computed)
    expected = gt.reconciliation(org, org.start_day, org.end_day)
    assert _project_rows(table) == expected
    assert len(expected) == 961
    assert Counter(r.status for r in expected.values()) == {
        "matched": 577,
        "spend_outside_gateway": 338,  # the key registered halfway is unmetered before
        "over_metered": 22,
        "gateway_data_missing": 24,
    }
    validate(models.BillingReconciliation, table)


def test_organization_rows_total_each_day_to_the_cent(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _recon(computed)
    org_rows = table[table["scope"] == "organization"].set_index("recon_date")
    billed = gt.cost_totals(org, org.start_day, org.end_day, include_subscriptions=False).per_day
    metered: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for (day, _), amount in gt.metered_totals(org, org.start_day, org.end_day).items():
        metered[day] += amount
    assert set(org_rows.index) == set(billed) | set(metered)
    assert len(org_rows) == 120
    missing = set(org.extra["gateway_missing_days"])
    for day, row in org_rows.iterrows():
        b, m = billed.get(day, ZERO), metered.get(day, ZERO)
        assert (row["billed_usd"], row["metered_usd"], row["gap_usd"]) == (b, m, b - m)
        assert row["project_id"] is None
        tolerance = max(Decimal("0.01") * b, Decimal("0.01"))
        if day in missing:
            status = "gateway_data_missing"
        elif abs(b - m) <= tolerance:
            status = "matched"
        else:
            status = "spend_outside_gateway" if b > m else "over_metered"
        assert row["status"] == status, day
        assert row["coverage_ratio"] == float(m) / float(b)
    assert sorted(org_rows.index[org_rows["status"] == "gateway_data_missing"]) == sorted(missing)


def test_bypass_explained_is_the_unregistered_keys_billed_spend(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    """Each day's spend of the keys that bypassed the gateway THAT day: a key registered
    halfway explains the gap before its registration only; a revoked one, after it."""
    expected = gd.bypass_explained(org, org.start_day, org.end_day)
    table = _recon(computed)
    projects = table[table["scope"] == "project"]
    got = {
        (r.recon_date, r.project_id): r.bypass_explained_usd
        for r in projects.itertuples()
        if r.bypass_explained_usd
    }
    assert got == expected
    assert sum(got.values()) == Decimal("608.336170811")
    org_rows = table[table["scope"] == "organization"]
    assert sum(org_rows["bypass_explained_usd"], ZERO) == sum(got.values())
    # today's snapshot would say otherwise: the key registered halfway explains nothing
    late = org.extra["scenarios"]["late_registered_key"]
    assert gt.bypass_keys(org, AS_OF, 30)[late] == "registered"


def test_other_tolerances_equal_the_ground_truth(
    conn: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    wide = dataclasses.replace(params, tolerance_pct=Decimal("0.05"), tolerance_usd=Decimal("1"))
    sightlines.compute_all(conn, wide, [sightlines.GATEWAY_BYPASS])
    sightlines.compute_all(conn, wide, [sightlines.BILLING_RECONCILIATION])
    expected = gt.reconciliation(
        org,
        org.start_day,
        org.end_day,
        tolerance_pct=Decimal("0.05"),
        tolerance_usd=Decimal("1"),
    )
    table = _recon(conn)
    assert _project_rows(table) == expected
    assert Counter(r.status for r in expected.values())["matched"] > 577
    tolerances = table.loc[table["scope"] == "project", ["billed_usd", "tolerance_usd"]]
    for billed, tolerance in tolerances.itertuples(index=False):
        exact = max(Decimal("0.05") * billed, Decimal("1"))
        assert tolerance == exact.quantize(ZERO, rounding=ROUND_HALF_UP)


def test_without_gateway_data_every_row_says_not_deployed(
    tmp_path, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    fill_from_org(conn, org, with_gateway=False)
    sightlines.compute_all(conn, params)
    no_gateway = dataclasses.replace(org, gateway_costs=org.gateway_costs.iloc[0:0])
    expected = gt.reconciliation(no_gateway, org.start_day, org.end_day)
    table = _recon(conn)
    assert _project_rows(table) == expected
    assert set(table["status"]) == {"gateway_not_deployed"}
    assert (table["metered_usd"] == 0).all()
    assert (table["gap_usd"] == table["billed_usd"]).all()
    conn.close()


def test_a_range_reconciles_only_its_days(
    conn: duckdb.DuckDBPyConnection, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 7)
    ranged = dataclasses.replace(params, recon_start=start, recon_end=end)
    sightlines.compute_all(conn, ranged, [sightlines.GATEWAY_BYPASS])
    result = sightlines.compute_all(conn, ranged, [sightlines.BILLING_RECONCILIATION])[
        sightlines.BILLING_RECONCILIATION
    ]
    table = _recon(conn)
    assert set(table["recon_date"]) == {start + dt.timedelta(days=i) for i in range(7)}
    expected = gt.reconciliation(org, start, end + dt.timedelta(days=1))
    assert _project_rows(table) == expected
    assert result.rows == len(expected) + 7
