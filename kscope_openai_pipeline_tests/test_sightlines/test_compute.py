"""The compute functions' contract: one transaction per table, previous rows kept on failure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.schemas import sightlines as models
from kscope_openai_pipeline.schemas.base import grain, table_name
from kscope_openai_pipeline.warehouse import read_table

from .conftest import AS_OF

TABLES = [
    sightlines.SEAT_ALLOCATION,
    sightlines.GATEWAY_BYPASS,
    sightlines.GATEWAY_BYPASS_DAILY,
    sightlines.BILLING_RECONCILIATION,
    sightlines.SEAT_GOVERNANCE,
    sightlines.SEAT_GOVERNANCE_DAILY,
]


MODELS = {table_name(m): m for m in models.MODELS}


def _snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Each table sorted by its grain (the daily tables are written in no set order)."""
    return {t: read_table(conn, t, list(grain(MODELS[t]))) for t in TABLES}


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True)


def test_compute_all_writes_every_table_and_is_idempotent(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> None:
    first = sightlines.compute_all(conn, params)
    assert {t: r.rows for t, r in first.items()} == {
        sightlines.SEAT_ALLOCATION: 4354,  # 120 days x that day's members
        sightlines.GATEWAY_BYPASS: 58,
        sightlines.GATEWAY_BYPASS_DAILY: 4560,  # key-days with usage or cost
        sightlines.BILLING_RECONCILIATION: 961 + 120,
        sightlines.SEAT_GOVERNANCE: 43,
        sightlines.SEAT_GOVERNANCE_DAILY: 4354,  # member-days
    }
    before = _snapshot(conn)
    again = sightlines.compute_all(conn, params)
    assert {t: r.rows for t, r in again.items()} == {t: r.rows for t, r in first.items()}
    _assert_same(before, _snapshot(conn))


def test_default_as_of_is_the_last_stored_day(
    conn: duckdb.DuckDBPyConnection, tmp_path
) -> None:
    assert sightlines.default_as_of(conn) == AS_OF
    empty = duckdb.connect(str(tmp_path / "empty.duckdb"))
    sightlines.ensure_sightlines_schema(empty)
    assert sightlines.default_as_of(empty) is None
    empty.close()


def test_a_failing_sightline_keeps_its_previous_rows(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> None:
    sightlines.compute_all(conn, params)
    before = _snapshot(conn)
    conn.execute("ALTER TABLE openai.users_history RENAME COLUMN added_at TO joined")
    with pytest.raises(sightlines.SightlineError, match="previous rows kept"):
        sightlines.compute_all(conn, params, [sightlines.SEAT_ALLOCATION])
    _assert_same(before, _snapshot(conn))


def test_a_broken_grain_is_refused_and_the_previous_rows_stay(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> None:
    """A key listed twice in openai.api_keys would make two bypass rows: refused."""
    sightlines.compute_all(conn, params)
    before = _snapshot(conn)
    conn.execute(
        "INSERT INTO openai.api_keys SELECT * FROM openai.api_keys "
        "WHERE key_kind = 'project' LIMIT 1"
    )
    with pytest.raises(sightlines.SightlineError, match="1 duplicated grain keys"):
        sightlines.compute_all(conn, params, [sightlines.GATEWAY_BYPASS])
    _assert_same(before, _snapshot(conn))


def test_compute_all_is_all_or_nothing(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> None:
    """Governance fails last: the bypass table, which would have changed, is kept too."""
    sightlines.compute_all(conn, params)
    before = _snapshot(conn)
    conn.execute("DELETE FROM kscope.dev_tokens")  # every key would become a bypass
    conn.execute("ALTER TABLE kscope.engineers RENAME COLUMN aliases TO other_addresses")
    with pytest.raises(sightlines.SightlineError):
        sightlines.compute_all(conn, params)
    _assert_same(before, _snapshot(conn))
    assert set(before[sightlines.GATEWAY_BYPASS]["status"]) != {"bypass_active", "bypass_dormant"}


def test_summaries_carry_the_headline_numbers(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> None:
    results = sightlines.compute_all(conn, params)
    bypass = results[sightlines.GATEWAY_BYPASS].summary
    assert (bypass["bypass_keys"], bypass["dormant_keys"], bypass["registered_keys"]) == (3, 4, 48)
    recon = results[sightlines.BILLING_RECONCILIATION].summary
    assert Decimal(recon["gap_usd"]) == Decimal(recon["billed_usd"]) - Decimal(
        recon["metered_usd"]
    )
    assert recon["days"] == 30
    governance = results[sightlines.SEAT_GOVERNANCE].summary
    assert governance["unattributed_by_reason"] == {"engineer_departed": 2, "no_registry_match": 5}
    assert all("markdown" in r.summary and "headline" in r.summary for r in results.values())


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="window_days"):
        sightlines.SightlineParams(as_of=AS_OF, window_days=0)
    with pytest.raises(ValueError, match="negative"):
        sightlines.SightlineParams(as_of=AS_OF, tolerance_pct=Decimal("-0.01"))
    with pytest.raises(ValueError, match="pattern"):
        sightlines.SightlineParams(as_of=AS_OF, subscription_patterns=())
    params = sightlines.SightlineParams(as_of=AS_OF, window_days=7)
    assert params.window_start == dt.date(2026, 11, 19)
    assert dataclasses.replace(params, window_days=1).window_start == AS_OF
