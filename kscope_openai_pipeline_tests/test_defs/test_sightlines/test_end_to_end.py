"""The four sightlines built by the REAL pipeline equal the sandbox ground truth (issue 5).

Why: the other sightline tests fill the warehouse straight from the org's records
(`helpers/fill_from_org.py`); this one crawls the `small` sandbox over real HTTP on
loopback, loads the Kscope inputs through the loader (as `kscope-openai demo` does) and
runs `daily_refresh_job` over the org's whole range (120 days) as ONE Dagster run into a
DuckDB file in tmp_path, then compares every sightline with `sandbox/ground_truth.py` and
the oracles, reusing the comparison helpers (and whole table checks) of the direct-fill
tests. The sightlines asset runs with its default config: as_of = the last stored day,
30-day window, 1 % / $0.01 tolerance, '%seat%' subscriptions, the domain aliases from
KSCOPE_DOMAIN_ALIASES (set by `demo.sandbox_environment`). No mocks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from kscope_openai_pipeline import sightlines, warehouse
from kscope_openai_pipeline.definitions import defs
from kscope_openai_pipeline.defs.alerts.assets import ALERTS_KEY
from kscope_openai_pipeline.defs.resources.definitions import build_resources
from kscope_openai_pipeline.demo import last_sandbox_day, load_sandbox_inputs, sandbox_environment
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.sandbox.server import Sandbox
from kscope_openai_pipeline_tests.test_sightlines import test_billing_reconciliation as recon_tests
from kscope_openai_pipeline_tests.test_sightlines import test_gateway_bypass as bypass_tests
from kscope_openai_pipeline_tests.test_sightlines import test_seats as seat_tests
from kscope_openai_pipeline_tests.test_sightlines.conftest import AS_OF, SEED, SIZE
from kscope_openai_pipeline_tests.test_sightlines.oracles import seat_members, seat_split

ZERO = Decimal("0E-9")


def _run_pipeline(db_path: Path, tmp: Path) -> tuple[SyntheticOrg, dg.ExecuteInProcessResult]:
    """Sandbox up, env set, Kscope inputs loaded, daily_refresh_job over every org day."""
    with Sandbox.start(seed=SEED, size=SIZE, port=0) as sb, pytest.MonkeyPatch.context() as mp:
        for name, value in sandbox_environment(sb).items():
            mp.setenv(name, value)
        mp.setenv("KSCOPE_DUCKDB_PATH", str(db_path))
        mp.setenv("KSCOPE_ANALYST_COPY_PATH", str(tmp / "kscope_analytics.duckdb"))
        load_sandbox_inputs(sb, SEED, SIZE, db_path)
        first, last = gt.to_date(sb.org.start_day), last_sandbox_day(sb)
        assert (first, last, (last - first).days + 1) == (dt.date(2026, 7, 29), AS_OF, 120)
        # definitions built its resources at import; these read the environment set above
        result = defs.resolve_job_def("daily_refresh_job").execute_in_process(
            resources=build_resources(),
            instance=dg.DagsterInstance.ephemeral(),
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )
        return sb.org, result


@pytest.fixture(scope="module")
def e2e(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SyntheticOrg, Path, dg.ExecuteInProcessResult]:
    """(org, warehouse file, run result) of ONE pipeline run shared by the module's tests."""
    tmp = tmp_path_factory.mktemp("e2e")
    db_path = tmp / "kscope.duckdb"
    org, result = _run_pipeline(db_path, tmp)
    return org, db_path, result


@pytest.fixture
def built(e2e) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the warehouse the pipeline wrote (closed afterwards)."""
    conn = warehouse.connect(e2e[1], read_only=True)
    yield conn
    warehouse.disconnect(conn)


def test_one_run_over_the_whole_range_with_the_default_sightline_config(e2e) -> None:
    org, _, result = e2e
    assert result.success
    costs = {
        e.materialization.partition
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == dg.AssetKey(["openai", "costs"])
    }
    first = gt.to_date(org.start_day)
    assert costs == {(first + dt.timedelta(days=i)).isoformat() for i in range(120)}
    metadata = {
        e.materialization.asset_key.path[-1]: e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.path[0] == "sightlines"
        and e.materialization.asset_key != ALERTS_KEY  # the alerts' own tests cover them
    }
    assert set(metadata) == {
        "gateway_bypass",
        "gateway_bypass_daily",
        "billing_reconciliation",
        "seat_allocation",
        "seat_governance",
        "seat_governance_daily",
    }
    for values in metadata.values():
        assert (values["as_of"].value, values["window_days"].value) == (AS_OF.isoformat(), 30)
    # money is a number the UI can plot (dollars as a float), never text such as '0E-9'
    window_start, end = AS_OF - dt.timedelta(days=29), AS_OF + dt.timedelta(days=1)
    billed = gt.cost_totals(org, window_start, end, include_subscriptions=False).total
    metered = sum(gt.metered_totals(org, window_start, end).values(), ZERO)
    recon = metadata["billing_reconciliation"]
    assert recon["billed_usd"] == dg.MetadataValue.float(float(billed))
    assert recon["metered_usd"] == dg.MetadataValue.float(float(metered))
    assert recon["gap_usd"] == dg.MetadataValue.float(float(billed - metered))
    assert all(isinstance(d["gap_usd"], float) for d in recon["largest_gap_days"].value)
    bypass = metadata["gateway_bypass"]
    assert isinstance(bypass["bypass_cost_usd"], dg.FloatMetadataValue)
    assert all(isinstance(k["cost_usd"], float) for k in bypass["top_keys"].value)
    assert isinstance(metadata["seat_governance"]["unattributed_seat_usd"], dg.FloatMetadataValue)
    assert isinstance(metadata["seat_allocation"]["allocated_usd"], dg.FloatMetadataValue)
    chart = (e2e[1].parent / "reconciliation.html").resolve()
    assert recon["chart"] == dg.MetadataValue.url(chart.as_uri())  # rendered as a link
    assert recon["chart_path"] == dg.MetadataValue.path(str(chart))
    assert chart.exists()
    checks = result.get_asset_check_evaluations()
    # deleted keys keep usage, but the stored audit log says they were deleted: no warning
    failed = {
        (c.asset_key.to_user_string(), c.check_name, c.severity)
        for c in checks
        if not c.passed and c.asset_key != ALERTS_KEY  # open findings: the alerts' tests
    }
    assert failed == set()
    assert any(k.deleted for k in org.api_keys)
    sightline_checks = [c for c in checks if c.asset_key.path[0] == "sightlines"]
    assert {c.check_name for c in sightline_checks if c.asset_key != ALERTS_KEY} == {
        "one_row_per_key",
        "gap_exact",
        "allocation_sums_exact",
        "one_row_per_member",
        "one_row_per_key_day",
        "one_row_per_member_day",
    }


def test_gateway_bypass_keys_statuses_and_costs(built: duckdb.DuckDBPyConnection, e2e) -> None:
    org = e2e[0]
    table = bypass_tests._bypass(built)
    assert dict(zip(table["api_key_id"], table["status"], strict=True)) == gt.bypass_keys(
        org, AS_OF, 30
    )
    expected = gt.key_window_totals(org, AS_OF, 30)
    assert {
        r.api_key_id: gt.KeyWindowTotals(r.requests, r.input_tokens, r.output_tokens, r.cost_usd)
        for r in table.itertuples()
    } == expected  # costs to the nano-dollar (Decimal(18, 9) both sides)
    bypassing = table[table["status"].isin(["bypass_active", "bypass_dormant"])]
    assert sorted(bypassing["api_key_id"]) == sorted(
        k for k, s in gt.bypass_keys(org, AS_OF, 30).items() if s.startswith("bypass")
    )
    assert set(table["cost_basis"]) == {"billed_per_key"}


def test_billing_reconciliation_each_day_and_project(built: duckdb.DuckDBPyConnection, e2e) -> None:
    org = e2e[0]
    table = recon_tests._recon(built)
    assert recon_tests._project_rows(table) == gt.reconciliation(org, org.start_day, org.end_day)
    org_rows = table[table["scope"] == "organization"]
    got = {
        r.recon_date: gt.ReconRow(r.billed_usd, r.metered_usd, r.gap_usd, r.status)
        for r in org_rows.itertuples()
    }
    expected = gt.reconciliation_org_totals(org, org.start_day, org.end_day)
    assert got == expected and len(got) == 120  # exact, so equal to the cent too
    assert all(r.gap == r.billed - r.metered for r in got.values())


def test_seat_governance_unattributed_members_and_reasons(
    built: duckdb.DuckDBPyConnection, e2e
) -> None:
    org = e2e[0]
    rules = gt.default_rules(org)
    assert rules.domain_aliases  # the org's aliases reached the asset through the env
    table = seat_tests._governance(built)
    got = {r.member_id: r.reason for r in table.itertuples() if not r.attributed}
    assert got == gt.unattributed_members(org, rules)
    assert got != gt.unattributed_members(org, gt.MatchRules(True, ()))


def test_seat_allocation_sums_exactly_and_splits_like_the_oracle(
    built: duckdb.DuckDBPyConnection, e2e
) -> None:
    org = e2e[0]
    table = seat_tests._allocation(built)
    sums: dict[tuple[dt.date, str], Decimal] = defaultdict(lambda: ZERO)
    for r in table.itertuples():
        sums[(r.cost_date, r.line_item)] += r.allocated_usd
    expected = gt.subscription_totals(org, org.start_day, org.end_day)
    assert dict(sums) == expected and len(expected) == 120
    for (day, line), amount in expected.items():
        rows = table[(table["cost_date"] == day) & (table["line_item"] == line)]
        split = seat_split(amount, seat_members(org, day))
        assert dict(zip(rows["user_id"], rows["allocated_usd"], strict=True)) == split, day


@pytest.mark.parametrize(
    "check",
    [
        bypass_tests.test_every_listed_project_key_once_with_the_ground_truth_status,
        bypass_tests.test_window_totals_and_billed_cost_equal_the_ground_truth,
        bypass_tests.test_tokens_are_matched_by_key_id_then_by_redacted_value,
        bypass_tests.test_inventory_columns_come_from_the_listed_keys,
        recon_tests.test_every_day_and_project_equals_the_ground_truth,
        recon_tests.test_organization_rows_total_each_day_to_the_cent,
        recon_tests.test_bypass_explained_is_the_unregistered_keys_billed_spend,
        seat_tests.test_allocation_sums_to_every_seat_line_item_exactly,
        seat_tests.test_each_day_splits_evenly_across_that_days_members,
        seat_tests.test_unattributed_members_and_reasons_equal_the_ground_truth,
        seat_tests.test_every_member_once_with_the_ground_truth_engineer_and_rule,
        seat_tests.test_keys_and_seat_cost_per_member,
    ],
    ids=lambda f: f.__name__,
)
def test_direct_fill_table_checks_hold_on_the_pipeline_warehouse(
    check, built: duckdb.DuckDBPyConnection, e2e
) -> None:
    """Every whole-table check of the direct-fill tests, on what the pipeline wrote."""
    org = e2e[0]
    rules = gt.default_rules(org)
    available = {
        "org": org,
        "rules": rules,
        "params": sightlines.SightlineParams(as_of=AS_OF, domain_aliases=rules.domain_aliases),
    }
    wanted = check.__code__.co_varnames[1 : check.__code__.co_argcount]
    check(built, **{name: available[name] for name in wanted})
