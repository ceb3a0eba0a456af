"""The sightline checks pass on computed tables and fail, with counts, on tampered ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from kscope_openai_pipeline import sightlines
from kscope_openai_pipeline.sightlines import checks


@pytest.fixture
def sightlines_db(
    conn: duckdb.DuckDBPyConnection, params: sightlines.SightlineParams
) -> duckdb.DuckDBPyConnection:
    sightlines.compute_all(conn, params)
    return conn


def test_every_check_passes_on_computed_sightlines(
    sightlines_db: duckdb.DuckDBPyConnection,
) -> None:
    outcomes = checks.run_all(sightlines_db)
    assert [(o.name, o.passed, o.blocking) for o in outcomes] == [
        ("one_row_per_key", True, True),
        ("gap_exact", True, False),
        ("allocation_sums_exact", True, False),
        ("one_row_per_member", True, True),
        ("one_row_per_key_day", True, True),
        ("one_row_per_member_day", True, True),
    ]


def test_duplicated_and_missing_keys_fail_the_bypass_check(
    sightlines_db: duckdb.DuckDBPyConnection,
) -> None:
    db = sightlines_db
    db.execute(
        "INSERT INTO sightlines.gateway_bypass "
        "SELECT * FROM sightlines.gateway_bypass ORDER BY api_key_id LIMIT 2"
    )
    db.execute(
        "DELETE FROM sightlines.gateway_bypass WHERE api_key_id = "
        "(SELECT MAX(api_key_id) FROM sightlines.gateway_bypass)"
    )
    outcome = checks.gateway_bypass_one_row_per_key(db)
    assert not outcome.passed
    assert (outcome.metadata["duplicated"], outcome.metadata["missing"]) == (2, 1)
    assert outcome.description == "2 duplicated, 1 missing, 0 unexpected keys"


def test_a_wrong_gap_or_total_fails_the_reconciliation_check(
    sightlines_db: duckdb.DuckDBPyConnection,
) -> None:
    db = sightlines_db
    db.execute(
        "UPDATE sightlines.billing_reconciliation SET gap_usd = gap_usd + 0.000000001 "
        "WHERE scope = 'organization' AND recon_date = DATE '2026-11-01'"
    )
    db.execute(
        "UPDATE sightlines.billing_reconciliation SET billed_usd = billed_usd + 1 "
        "WHERE scope = 'project' AND recon_date = DATE '2026-11-02' AND project_id = "
        "(SELECT MIN(project_id) FROM sightlines.billing_reconciliation "
        " WHERE recon_date = DATE '2026-11-02')"
    )
    outcome = checks.billing_reconciliation_gap_exact(db)
    assert not outcome.passed
    assert outcome.metadata["wrong_gap_rows"] == 2  # 11-01 org row, 11-02 project row
    assert outcome.metadata["wrong_total_days"] == 1  # 11-02 org row no longer sums
    assert outcome.metadata["examples"] and not any(
        "E-" in example for example in outcome.metadata["examples"]
    )  # dollars in fixed point


def test_examples_show_dollars_in_fixed_point() -> None:
    assert checks._text(Decimal("0E-9")) == "0.000000000"
    assert checks._text(Decimal("12.500000000")) == "12.500000000"
    assert checks._text(dt.date(2026, 11, 1)) == "2026-11-01"


def test_a_lost_nano_dollar_fails_the_allocation_check(
    sightlines_db: duckdb.DuckDBPyConnection,
) -> None:
    db = sightlines_db
    db.execute(
        "UPDATE sightlines.seat_allocation SET allocated_usd = allocated_usd - 0.000000001 "
        "WHERE cost_date = DATE '2026-11-25' AND user_id = "
        "(SELECT MIN(user_id) FROM sightlines.seat_allocation)"
    )
    outcome = checks.seat_allocation_sums_exact(db)
    assert not outcome.passed
    assert outcome.metadata["mismatched_lines"] == 1
    assert "2026-11-25" in outcome.metadata["examples"][0]


def test_a_missing_member_fails_the_governance_check(
    sightlines_db: duckdb.DuckDBPyConnection,
) -> None:
    db = sightlines_db
    db.execute(
        "DELETE FROM sightlines.seat_governance WHERE member_id = "
        "(SELECT MIN(member_id) FROM sightlines.seat_governance WHERE member_type = 'invite')"
    )
    outcome = checks.seat_governance_one_row_per_member(db)
    assert not outcome.passed
    assert outcome.metadata["missing"] == 1
