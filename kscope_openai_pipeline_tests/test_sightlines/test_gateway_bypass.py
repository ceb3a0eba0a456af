"""sightlines.gateway_bypass against the sandbox ground truth (small org, seed 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sandbox import ground_truth as gt
from kscope_openai_pipeline.sandbox.model import SyntheticOrg
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.sightlines import runner
from kscope_openai_pipeline.warehouse import read_table, validate
from kscope_openai_pipeline.warehouse.sql_text import bind_parameters
from kscope_openai_pipeline_tests.helpers.fill_from_org import fill_from_org

from .conftest import AS_OF
from .oracles import allocated_key_costs


def _bypass(conn: duckdb.DuckDBPyConnection):
    return read_table(conn, "sightlines.gateway_bypass", ["api_key_id"])


def test_every_listed_project_key_once_with_the_ground_truth_status(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _bypass(computed)
    expected = gt.bypass_keys(org, AS_OF, 30)
    assert dict(zip(table["api_key_id"], table["status"], strict=True)) == expected
    assert len(table) == len(expected) == 58
    # the small org has every status, and the exact counts of its plan
    assert Counter(expected.values()) == {
        "registered": 48,
        "bypass_dormant": 4,
        "registered_revoked": 3,
        "bypass_active": 3,
    }
    validate(models.GatewayBypass, table)


def test_window_totals_and_billed_cost_equal_the_ground_truth(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _bypass(computed)
    expected = gt.key_window_totals(org, AS_OF, 30)
    got = {
        r.api_key_id: gt.KeyWindowTotals(r.requests, r.input_tokens, r.output_tokens, r.cost_usd)
        for r in table.itertuples()
    }
    assert got == expected
    assert set(table["cost_basis"]) == {"billed_per_key"}
    bypassing = table[table["status"].isin(["bypass_active", "bypass_dormant"])]
    assert sum(bypassing["cost_usd"], Decimal(0)) == sum(
        (expected[k].cost for k in bypassing["api_key_id"]), Decimal(0)
    )
    assert (table.loc[table["status"] == "bypass_dormant", "requests"] == 0).all()
    assert (table["window_start"] == dt.date(2026, 10, 27)).all()


def test_tokens_are_matched_by_key_id_then_by_redacted_value(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _bypass(computed).set_index("api_key_id")
    matches = gt.key_token_matches(org)
    tokens = org.dev_tokens.set_index("dev_token_id")
    for key_id, token_ids in matches.items():
        row = table.loc[key_id]
        if not token_ids:
            assert row["dev_token_id"] is None and row["token_match_rule"] is None
            assert not row["registered"]
            continue
        assert row["dev_token_id"] in token_ids
        by_id = isinstance(tokens.loc[row["dev_token_id"], "provider_key_id"], str)
        assert row["token_match_rule"] == ("provider_key_id" if by_id else "provider_key_redacted")
        assert row["registered"] == (row["status"] == "registered")
        if row["status"] == "registered":
            assert row["dev_token_status"] == "active"
    rules = Counter(table["token_match_rule"].dropna())
    assert rules == {"provider_key_id": 49, "provider_key_redacted": 2}


def test_inventory_columns_come_from_the_listed_keys(
    computed: duckdb.DuckDBPyConnection, org: SyntheticOrg
) -> None:
    table = _bypass(computed).set_index("api_key_id")
    projects = {p.id: p.name for p in org.projects}
    for key in gt.listed_keys(org):
        if key.kind != "project":
            assert key.id not in table.index
            continue
        row = table.loc[key.id]
        assert (row["key_name"], row["redacted_value"], row["project_id"]) == (
            key.name,
            key.redacted_value,
            key.project_id,
        )
        assert row["project_name"] == projects[key.project_id]
        assert row["owner_id"] == key.owner_id
        assert row["created_at"].timestamp() == key.created_at
    deleted = {k.id for k in org.api_keys if k.deleted}
    assert deleted and not deleted & set(table.index)


@pytest.mark.parametrize("window_days", [1, 7, 90])
def test_other_windows_equal_the_ground_truth(
    conn: duckdb.DuckDBPyConnection,
    org: SyntheticOrg,
    params: sightlines.SightlineParams,
    window_days: int,
) -> None:
    windowed = dataclasses.replace(params, window_days=window_days)
    sightlines.compute_all(conn, windowed, [sightlines.GATEWAY_BYPASS])
    table = _bypass(conn)
    assert dict(zip(table["api_key_id"], table["status"], strict=True)) == gt.bypass_keys(
        org, AS_OF, window_days
    )
    expected = gt.key_window_totals(org, AS_OF, window_days)
    assert {r.api_key_id: r.cost_usd for r in table.itertuples()} == {
        k: v.cost for k, v in expected.items()
    }


def test_without_per_key_costs_the_cost_is_allocated_by_token_share(
    tmp_path, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    """No openai.api_key_costs at all (a crawl before 2025-12-06): every day is allocated."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    fill_from_org(conn, org, with_api_key_costs=False)
    result = sightlines.compute_all(conn, params, [sightlines.GATEWAY_BYPASS])[
        sightlines.GATEWAY_BYPASS
    ]
    table = _bypass(conn)
    window = {params.window_start + dt.timedelta(days=i) for i in range(30)}
    allocated = allocated_key_costs(org, window)
    expected: dict[str, Decimal] = {}
    for (_, key), amount in allocated.items():
        expected[key] = expected.get(key, Decimal("0E-9")) + amount
    got = dict(zip(table["api_key_id"], table["cost_usd"], strict=True))
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if k in got}
    assert set(table["cost_basis"]) == {"allocated_by_token_share"}
    assert result.summary["bypass_keys"] == 3
    # token share is not the bill: allocated costs differ from what OpenAI billed per key
    billed = gt.key_window_totals(org, AS_OF, 30)
    assert sum(got.values()) != sum(v.cost for v in billed.values())
    conn.close()


def test_a_window_straddling_the_per_key_floor_is_mixed(
    tmp_path, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    """Per-key costs from the window's 21st day on: billed after, allocated before."""
    floor = params.window_start + dt.timedelta(days=20)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    fill_from_org(conn, org, api_key_costs_floor=floor)
    sightlines.compute_all(conn, params, [sightlines.GATEWAY_BYPASS])
    table = _bypass(conn)
    before = {params.window_start + dt.timedelta(days=i) for i in range(20)}
    allocated = allocated_key_costs(org, before)
    billed = gt.api_key_cost_totals(org, floor, AS_OF + dt.timedelta(days=1))
    expected: dict[str, Decimal] = {}
    for (_, key), amount in [*allocated.items(), *billed.items()]:
        if key is not None:
            expected[key] = expected.get(key, Decimal("0E-9")) + amount
    for row in table.itertuples():
        assert row.cost_usd == expected.get(row.api_key_id, Decimal(0)), row.api_key_id
    assert set(table["cost_basis"]) == {"mixed"}
    conn.close()


def test_key_daily_costs_per_day_equal_the_oracle(
    tmp_path, org: SyntheticOrg, params: sightlines.SightlineParams
) -> None:
    """The building block itself (TEMP key_daily_costs): each day's allocated total."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    fill_from_org(conn, org, with_api_key_costs=False)
    sightlines.ensure_sightlines_schema(conn)
    sql = runner.load_sql("api_key_daily_costs")
    values = runner._values(params, params.window_start, params.as_of)
    conn.execute(f"CREATE TEMP TABLE k AS {sql}", bind_parameters(sql, values))
    per_day = dict(
        conn.execute("SELECT cost_date, SUM(cost_usd) FROM k GROUP BY ALL").fetchall()
    )
    window = {params.window_start + dt.timedelta(days=i) for i in range(30)}
    oracle = allocated_key_costs(org, window)
    expected: dict[dt.date, Decimal] = {}
    for (day, _), amount in oracle.items():
        expected[day] = expected.get(day, Decimal(0)) + amount
    assert per_day == expected
    conn.close()
