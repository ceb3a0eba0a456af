"""pandera model of `exports.focus_costs`: openai.costs as FOCUS 1.2 rows.

Why the FOCUS names and not snake_case: the table is the file FinOps tools load, column for
column, and FOCUS names its columns in PascalCase (Kscope's own carry the `x_` prefix).
Descriptions come from `focus_columns.FOCUS_COLUMNS`, the same entries the README table is
rendered from. The checks are FOCUS's value rules the SQL must meet before a row is stored
(allowed values, exact money, ASCII); the rules between columns are checked in DuckDB
(`exports/sql/focus_rules.sql`).
"""

from __future__ import annotations

import pandas as pd
from pandera.typing import Series

from kscope_openai_pipeline.schemas.base import WarehouseModel, money, number, text, timestamp
from kscope_openai_pipeline.schemas.dtypes import Varchar
from kscope_openai_pipeline.schemas.focus_columns import FOCUS_GRAIN
from kscope_openai_pipeline.schemas.focus_columns import describe as _d

CHARGE_CATEGORIES = ["Usage", "Purchase", "Credit"]
CHARGE_FREQUENCIES = ["Usage-Based", "Recurring", "One-Time"]
SERVICE_NAMES = ["OpenAI API", "ChatGPT"]
#: What focus-validator 2.2.1 accepts as a string (its FormatString rule): printable ASCII.
ASCII = r"^[\x20-\x7E]*$"


def _ascii(name: str, *, nullable: bool = True) -> object:
    return text(_d(name), nullable=nullable, str_matches=ASCII)


def _fixed(name: str, values: list[str], *, nullable: bool = False) -> object:
    return text(_d(name), nullable=nullable, isin=values)


def _null(name: str) -> object:
    return text(_d(name))


class FocusCosts(WarehouseModel):
    """exports.focus_costs: openai.costs as FOCUS 1.2 rows (day x project x line item)."""

    BillingAccountId: Series[Varchar] = _ascii("BillingAccountId", nullable=False)
    BillingAccountName: Series[Varchar] = _ascii("BillingAccountName", nullable=False)
    BillingAccountType: Series[Varchar] = _fixed("BillingAccountType", ["Organization"])
    SubAccountId: Series[Varchar] = _ascii("SubAccountId")
    SubAccountName: Series[Varchar] = _ascii("SubAccountName")
    SubAccountType: Series[Varchar] = _fixed("SubAccountType", ["Project"], nullable=True)
    BillingPeriodStart: Series[pd.Timestamp] = timestamp(_d("BillingPeriodStart"),
                                                         nullable=False)
    BillingPeriodEnd: Series[pd.Timestamp] = timestamp(_d("BillingPeriodEnd"), nullable=False)
    ChargePeriodStart: Series[pd.Timestamp] = timestamp(_d("ChargePeriodStart"),
                                                        nullable=False)
    ChargePeriodEnd: Series[pd.Timestamp] = timestamp(_d("ChargePeriodEnd"), nullable=False)
    ChargeCategory: Series[Varchar] = _fixed("ChargeCategory", CHARGE_CATEGORIES)
    ChargeClass: Series[Varchar] = _fixed("ChargeClass", ["Correction"], nullable=True)
    ChargeDescription: Series[Varchar] = _ascii("ChargeDescription", nullable=False)
    ChargeFrequency: Series[Varchar] = _fixed("ChargeFrequency", CHARGE_FREQUENCIES)
    BillingCurrency: Series[Varchar] = _fixed("BillingCurrency", ["USD"])
    BilledCost: Series[object] = money(_d("BilledCost"))
    EffectiveCost: Series[object] = money(_d("EffectiveCost"))
    ListCost: Series[object] = money(_d("ListCost"))
    ContractedCost: Series[object] = money(_d("ContractedCost"))
    PricingCategory: Series[Varchar] = _fixed("PricingCategory", ["Standard"], nullable=True)
    PricingQuantity: Series[float] = number(_d("PricingQuantity"), ge=0)
    PricingUnit: Series[Varchar] = _ascii("PricingUnit")
    ListUnitPrice: Series[float] = number(_d("ListUnitPrice"), ge=0)
    ContractedUnitPrice: Series[float] = number(_d("ContractedUnitPrice"), ge=0)
    PricingCurrency: Series[Varchar] = _fixed("PricingCurrency", ["USD"])
    PricingCurrencyListUnitPrice: Series[float] = number(_d("PricingCurrencyListUnitPrice"),
                                                         ge=0)
    PricingCurrencyContractedUnitPrice: Series[float] = number(
        _d("PricingCurrencyContractedUnitPrice"), ge=0
    )
    PricingCurrencyEffectiveCost: Series[object] = money(_d("PricingCurrencyEffectiveCost"))
    ConsumedQuantity: Series[float] = number(_d("ConsumedQuantity"), ge=0)
    ConsumedUnit: Series[Varchar] = _ascii("ConsumedUnit")
    ProviderName: Series[Varchar] = _fixed("ProviderName", ["OpenAI"])
    PublisherName: Series[Varchar] = _fixed("PublisherName", ["OpenAI"])
    InvoiceIssuerName: Series[Varchar] = _fixed("InvoiceIssuerName", ["OpenAI"])
    InvoiceId: Series[Varchar] = _null("InvoiceId")
    ServiceName: Series[Varchar] = _fixed("ServiceName", SERVICE_NAMES)
    ServiceCategory: Series[Varchar] = _fixed("ServiceCategory", ["AI and Machine Learning"])
    ServiceSubcategory: Series[Varchar] = _fixed("ServiceSubcategory", ["Generative AI"])
    SkuId: Series[Varchar] = _ascii("SkuId")
    SkuPriceId: Series[Varchar] = _ascii("SkuPriceId")
    SkuMeter: Series[Varchar] = _ascii("SkuMeter")
    SkuPriceDetails: Series[Varchar] = _null("SkuPriceDetails")
    ResourceId: Series[Varchar] = _null("ResourceId")
    ResourceName: Series[Varchar] = _null("ResourceName")
    ResourceType: Series[Varchar] = _null("ResourceType")
    RegionId: Series[Varchar] = _null("RegionId")
    RegionName: Series[Varchar] = _null("RegionName")
    AvailabilityZone: Series[Varchar] = _null("AvailabilityZone")
    CapacityReservationId: Series[Varchar] = _null("CapacityReservationId")
    CapacityReservationStatus: Series[Varchar] = _null("CapacityReservationStatus")
    CommitmentDiscountCategory: Series[Varchar] = _null("CommitmentDiscountCategory")
    CommitmentDiscountId: Series[Varchar] = _null("CommitmentDiscountId")
    CommitmentDiscountName: Series[Varchar] = _null("CommitmentDiscountName")
    CommitmentDiscountQuantity: Series[float] = number(_d("CommitmentDiscountQuantity"))
    CommitmentDiscountStatus: Series[Varchar] = _null("CommitmentDiscountStatus")
    CommitmentDiscountType: Series[Varchar] = _null("CommitmentDiscountType")
    CommitmentDiscountUnit: Series[Varchar] = _null("CommitmentDiscountUnit")
    Tags: Series[Varchar] = text(_d("Tags"), str_startswith="{")
    x_LineItem: Series[Varchar] = text(_d("x_LineItem"))
    x_QuantityUnit: Series[Varchar] = text(_d("x_QuantityUnit"))
    x_AmortizedCost: Series[object] = money(_d("x_AmortizedCost"))
    x_GatewayMeteredCost: Series[object] = money(_d("x_GatewayMeteredCost"), nullable=True)
    x_BypassCost: Series[object] = money(_d("x_BypassCost"), nullable=True)

    class Config:
        name = "exports.focus_costs"
        # Partitioned by ChargePeriodStart (a UTC day as a TIMESTAMP, as FOCUS wants it);
        # the asset replaces its window of days, files hold one BillingPeriodStart each.
        metadata = {"grain": list(FOCUS_GRAIN), "partition": None}


#: Every exports.* model, in DDL order.
MODELS: tuple[type[WarehouseModel], ...] = (FocusCosts,)
