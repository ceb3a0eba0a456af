"""exports.replace_window: the FOCUS mapping of hand-placed cost lines, rule by rule.

Each expected value is written from the FOCUS rules and the column dictionary, not read
from a run: categories, units, costs, the ASCII folding, the x_ split in whole
nano-dollars, and all-or-nothing writes.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest

from kscope_openai_pipeline import exports, warehouse
from kscope_openai_pipeline_tests.test_exports.conftest import (
    COSTS,
    DEC1,
    NOV29,
    NOV30,
    ORG,
        insert_costs,
)

NANO = Decimal("0.000000001")


def _rows(conn: duckdb.DuckDBPyConnection, where: str = "TRUE") -> dict[tuple, dict]:
    frame = warehouse.read_frame(conn, f"SELECT * FROM exports.focus_costs WHERE {where}")
    return {
        (r["ChargePeriodStart"].date(), r["SubAccountId"], r["x_LineItem"]): r
        for r in frame.astype(object).where(frame.notna(), None).to_dict("records")
    }


@pytest.fixture
def exported(conn: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    result = exports.replace_window(conn, NOV29, date(2026, 12, 2))
    assert result.rows == len(COSTS)
    assert result.rows_per_day == {NOV30: 9, DEC1: 3}
    assert result.months == (date(2026, 11, 1), date(2026, 12, 1))
    return _rows(conn)


def test_one_row_per_cost_row_with_the_exact_amount(exported, conn) -> None:
    assert set(exported) == {(d, p, li) for d, p, li, *_ in COSTS}
    for day, project, line_item, amount, *_ in COSTS:
        row = exported[(day, project, line_item)]
        assert row["BilledCost"] == row["ListCost"] == row["ContractedCost"] == Decimal(amount)
        assert row["x_AmortizedCost"] == Decimal(amount)
    months = exports.compare_with_costs(conn, date(2026, 11, 1), date(2027, 1, 1))
    billed = {
        month: sum(Decimal(c[3]) for c in COSTS if c[0].month == month.month)
        for month in (date(2026, 11, 1), date(2026, 12, 1))
    }
    assert [(m.month, m.focus_rows, m.focus_billed_usd, m.exact) for m in months] == [
        (date(2026, 11, 1), 9, billed[date(2026, 11, 1)], True),
        (date(2026, 12, 1), 3, billed[date(2026, 12, 1)], True),
    ]


def test_usage_rows(exported) -> None:
    row = exported[(NOV30, "proj_a", "gpt-4o-2024-08-06, input")]
    assert (row["ChargeCategory"], row["ChargeFrequency"], row["ChargeClass"]) == (
        "Usage", "Usage-Based", None,
    )
    assert row["EffectiveCost"] == Decimal("3.086417500")
    assert (row["PricingQuantity"], row["PricingUnit"]) == (1_234_567.0, "Tokens")
    assert (row["ConsumedQuantity"], row["ConsumedUnit"]) == (1_234_567.0, "Tokens")
    assert row["ListUnitPrice"] == pytest.approx(3.0864175 / 1_234_567, rel=1e-15)
    assert (row["SkuId"], row["SkuPriceId"], row["SkuMeter"]) == (
        "gpt-4o-2024-08-06", "gpt-4o-2024-08-06, input", "input",
    )
    assert (row["ServiceName"], row["ServiceCategory"], row["ServiceSubcategory"]) == (
        "OpenAI API", "AI and Machine Learning", "Generative AI",
    )
    assert (row["ProviderName"], row["PublisherName"], row["InvoiceIssuerName"]) == (
        "OpenAI", "OpenAI", "OpenAI",
    )
    assert (row["BillingCurrency"], row["PricingCurrency"], row["PricingCategory"]) == (
        "USD", "USD", "Standard",
    )
    assert (row["BillingPeriodStart"], row["BillingPeriodEnd"]) == (
        datetime(2026, 11, 1), datetime(2026, 12, 1),
    )
    assert (row["ChargePeriodStart"], row["ChargePeriodEnd"]) == (
        datetime(2026, 11, 30), datetime(2026, 12, 1),
    )
    assert row["InvoiceId"] is None and row["RegionId"] is None and row["ResourceId"] is None


def test_units_are_spelled_the_focus_way(exported) -> None:
    embeddings = exported[(NOV30, "proj_e", "text-embedding-3-small, input")]
    assert (embeddings["PricingQuantity"], embeddings["PricingUnit"]) == (6_172.84, "1000 Tokens")
    assert embeddings["ConsumedQuantity"] == pytest.approx(6_172_840.0)
    assert embeddings["ConsumedUnit"] == "Tokens"
    storage = exported[(NOV30, "proj_e", "Vector store storage")]
    assert (storage["PricingUnit"], storage["SkuId"], storage["SkuMeter"]) == (
        "GiB-Hours", "Vector store storage", "Vector store storage",
    )
    unknown = exported[(NOV30, "proj_e", "mystery, thing")]
    assert (unknown["PricingUnit"], unknown["x_QuantityUnit"]) == ("widget units", "widget_units")
    no_quantity = exported[(DEC1, "proj_e", "tts-1, characters")]
    assert (no_quantity["PricingQuantity"], no_quantity["PricingUnit"]) == (1.0, "Units")
    assert no_quantity["ListUnitPrice"] == 1.5
    zero = exported[(NOV30, "proj_a", "gpt-4o-2024-08-06, cached input")]
    assert (zero["PricingQuantity"], zero["PricingUnit"], zero["ListUnitPrice"]) == (
        1.0, "Units", 0.0,
    )


def test_seats_are_a_recurring_purchase(exported) -> None:
    row = exported[(NOV30, None, "ChatGPT Team seats")]
    assert (row["ChargeCategory"], row["ChargeFrequency"], row["ServiceName"]) == (
        "Purchase", "Recurring", "ChatGPT",
    )
    assert row["EffectiveCost"] == row["PricingCurrencyEffectiveCost"] == 0
    assert row["BilledCost"] == row["x_AmortizedCost"] == Decimal("29.589041100")
    assert (row["PricingQuantity"], row["PricingUnit"]) == (30.0, "Seats")
    assert row["ConsumedQuantity"] is None and row["ConsumedUnit"] is None
    # organization-level: no sub account; seats never pass a gateway (reconciled day: 0)
    assert (row["SubAccountId"], row["SubAccountName"], row["SubAccountType"]) == (None,) * 3
    assert row["x_GatewayMeteredCost"] == row["x_BypassCost"] == 0
    assert row["Tags"] is None


def test_a_negative_amount_is_a_one_time_credit_without_pricing(exported) -> None:
    row = exported[(NOV30, None, "Promotional credit")]
    assert (row["ChargeCategory"], row["ChargeFrequency"]) == ("Credit", "One-Time")
    assert row["BilledCost"] == row["EffectiveCost"] == Decimal("-10")
    for column in ("PricingQuantity", "PricingUnit", "ListUnitPrice", "PricingCategory",
                   "SkuId", "SkuPriceId", "SkuMeter", "ConsumedQuantity"):
        assert row[column] is None, column


def test_names_are_folded_to_ascii_and_kept_whole_in_tags(exported) -> None:
    row = exported[(NOV30, "proj_a", "gpt-4o-2024-08-06, output")]
    assert (row["BillingAccountId"], row["BillingAccountName"]) == (ORG, "Kscope Societe")
    assert (row["SubAccountId"], row["SubAccountName"], row["SubAccountType"]) == (
        "proj_a", "Equipe donnees ?", "Project",
    )
    assert json.loads(row["Tags"]) == {
        "kscope:project_name": "Équipe données ✓",
        "kscope:reconciliation_status": "spend_outside_gateway",
        "kscope:bypass_share": "0.1643",  # 1 / 6.0864175
    }
    org_level = exported[(NOV30, None, "gpt-4o-mini-2024-07-18, input")]
    assert json.loads(org_level["Tags"]) == {"kscope:reconciliation_status": "gateway_data_missing"}


def _largest_remainders(total: Decimal, weights: list[int]) -> list[Decimal]:
    """The split the SQL must reproduce, computed independently with Fractions."""
    nanos = int(total / NANO)
    weights = weights if sum(weights) > 0 else [1] * len(weights)
    exact = [Fraction(abs(nanos) * w, sum(weights)) for w in weights]
    parts = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: -(exact[i] - parts[i]))
    for i in order[: abs(nanos) - sum(parts)]:
        parts[i] += 1
    sign = -1 if nanos < 0 else 1
    return [sign * p * NANO for p in parts]


def test_reconciliation_figures_are_split_exactly_by_billed_cost(exported, conn) -> None:
    lines = ["gpt-4o-2024-08-06, input", "gpt-4o-2024-08-06, output",
             "gpt-4o-2024-08-06, cached input"]
    metered = _largest_remainders(Decimal("5.000000001"), [3_086_417_500, 3_000_000_000, 0])
    bypass = _largest_remainders(Decimal("1"), [3_086_417_500, 3_000_000_000, 0])
    got = [exported[(NOV30, "proj_a", li)] for li in lines]
    assert [r["x_GatewayMeteredCost"] for r in got] == metered
    assert [r["x_BypassCost"] for r in got] == bypass
    assert sum(metered) == Decimal("5.000000001") and metered[2] == 0
    # 7 nano-dollars over three lines: by billed cost 0.123456789 / 0.1 / 0.5
    e_lines = ["text-embedding-3-small, input", "Vector store storage", "mystery, thing"]
    assert [exported[(NOV30, "proj_e", li)]["x_GatewayMeteredCost"] for li in e_lines] == (
        _largest_remainders(Decimal("0.000000007"), [123_456_789, 100_000_000, 500_000_000])
    )
    # the reconciliation's figures come back exactly, except what no billed line carries
    assert exports.reconciliation_differences(conn, NOV29, date(2026, 12, 2)) == [
        {"organization_id": ORG, "day": NOV29, "project_id": "proj_z",
         "recon_metered_usd": Decimal("4"), "focus_metered_usd": Decimal("0"),
         "recon_bypass_usd": Decimal("0"), "focus_bypass_usd": Decimal("0"),
         "reason": "no_billed_line"},
        {"organization_id": ORG, "day": DEC1, "project_id": None, "recon_metered_usd": None,
         "focus_metered_usd": None, "recon_bypass_usd": None, "focus_bypass_usd": None,
         "reason": "not_reconciled"},
    ]


def test_days_after_the_reconciled_range_have_unknown_x_columns(exported) -> None:
    for (day, _, _), row in exported.items():
        if day == DEC1:
            assert row["x_GatewayMeteredCost"] is None and row["x_BypassCost"] is None
            assert "kscope:reconciliation_status" not in (row["Tags"] or "")


def test_weights_summing_to_zero_split_equally(conn) -> None:
    day = date(2026, 10, 5)
    insert_costs(conn, [(day, "proj_q", f"m, {k}", "0", 1.0, "tokens") for k in "abc"])
    conn.execute(
        "INSERT INTO sightlines.billing_reconciliation VALUES "
        "(?, ?, 'project', 'proj_q', NULL, 0, 0.000000010, -0.000000010, NULL, 0, 0.01, 'x')",
        [ORG, day],
    )
    exports.replace_window(conn, day, date(2026, 10, 6))
    parts = [r["x_GatewayMeteredCost"] for r in _rows(conn, "SubAccountId = 'proj_q'").values()]
    assert sorted(parts) == [Decimal("0.000000003"), Decimal("0.000000003"), Decimal("0.000000004")]


def test_rules_hold_and_a_rerun_gives_the_same_rows(conn) -> None:
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    assert [v for v in exports.rule_violations(conn, NOV29, date(2026, 12, 2)) if v[1]] == []
    first = warehouse.read_frame(conn, "SELECT * FROM exports.focus_costs ORDER BY ALL")
    exports.replace_window(conn, NOV30, DEC1)  # a day of it again
    again = warehouse.read_frame(conn, "SELECT * FROM exports.focus_costs ORDER BY ALL")
    assert again.equals(first)


def test_a_failed_write_keeps_the_previous_rows(conn) -> None:
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    before = warehouse.read_frame(conn, "SELECT * FROM exports.focus_costs ORDER BY ALL")

    def crash(_conn) -> None:
        raise RuntimeError("killed between the delete and the insert")

    with pytest.raises(RuntimeError):
        exports.replace_window(conn, NOV29, date(2026, 12, 2), on_deleted=crash)
    # a currency the export cannot state: the pandera gate refuses the window
    conn.execute("UPDATE openai.costs SET currency = 'eur' WHERE cost_date = ?", [DEC1])
    with pytest.raises(warehouse.WarehouseValidationError, match="BillingCurrency"):
        exports.replace_window(conn, NOV29, date(2026, 12, 2))
    after = warehouse.read_frame(conn, "SELECT * FROM exports.focus_costs ORDER BY ALL")
    assert after.equals(before)


def test_the_rules_count_the_rows_that_break_them(conn) -> None:
    """The mapping never breaks a rule, so a stored row is broken by hand."""
    exports.replace_window(conn, NOV29, date(2026, 12, 2))
    conn.execute("UPDATE exports.focus_costs SET EffectiveCost = BilledCost")
    broken = dict((rule, n) for rule, n, _ in exports.rule_violations(conn, NOV29, DEC1))
    assert broken["EffectiveCost is 0 on Purchase rows and BilledCost elsewhere"] == 1
    assert sum(broken.values()) == 1
