"""The FOCUS column dictionary: one source for the model, the DDL order and the README."""

from __future__ import annotations

import re
from pathlib import Path

from kscope_openai_pipeline.schemas import exports as models
from kscope_openai_pipeline.schemas.base import table_schema_columns
from kscope_openai_pipeline.schemas.focus_columns import (
    FOCUS_COLUMN_NAMES,
    FOCUS_COLUMNS,
    FOCUS_GRAIN,
    describe,
    markdown_table,
)

README = Path(__file__).resolve().parents[2] / "README.md"
#: The columns of the FOCUS 1.2 CostAndUsage dataset (the validator's rule set has these).
FOCUS_12 = {
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
}


def test_every_focus_column_and_only_x_columns_besides() -> None:
    names = set(FOCUS_COLUMN_NAMES)
    assert len(names) == len(FOCUS_COLUMNS)
    assert names >= FOCUS_12
    assert all(n.startswith("x_") and re.fullmatch(r"x_[A-Z][A-Za-z]+", n)
               for n in names - FOCUS_12)
    assert {c.requirement for c in FOCUS_COLUMNS if c.name.startswith("x_")} == {"Kscope"}
    assert {c.requirement for c in FOCUS_COLUMNS if not c.name.startswith("x_")} == {
        "Mandatory", "Recommended", "Conditional",
    }
    assert set(FOCUS_GRAIN) <= names


def test_the_model_is_the_dictionary() -> None:
    columns = table_schema_columns(models.FocusCosts)
    assert [(n, t) for n, t, _ in columns] == [(c.name, c.sql_type) for c in FOCUS_COLUMNS]
    assert all(d == describe(n) and d for n, _, d in columns)


def test_the_readme_table_is_the_dictionary() -> None:
    assert markdown_table() in README.read_text()
