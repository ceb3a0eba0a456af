"""The FOCUS 1.2 column dictionary of `exports.focus_costs`: what each column holds and why.

Why data and not prose: the same entries give the pandera model its column descriptions
(the Dagster UI's data dictionary), give the DDL its order, and render the README's FOCUS
table (`markdown_table`), so the three cannot drift apart (a test compares them).

`requirement` is the column's feature level in FOCUS 1.2 (Mandatory, Recommended,
Conditional) or `Kscope` for our own `x_` columns. `value` says what we put in it;
`why` says why that is the right value for OpenAI's data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FocusColumn:
    """One column of the FOCUS export."""

    name: str
    sql_type: str
    requirement: str
    value: str
    why: str


_S, _M, _Q, _T = "VARCHAR", "DECIMAL(18,9)", "DOUBLE", "TIMESTAMP"
_NA = "present, always NULL"

FOCUS_COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BillingAccountId", _S, "Mandatory", "the organization id (`org-...`)",
                "OpenAI invoices the organization: it is the billing account."),
    FocusColumn("BillingAccountName", _S, "Mandatory",
                "the organization's name (`openai.organization.name`), else its id",
                "No API returns the name; it comes from OPENAI_ORGANIZATION_NAME."),
    FocusColumn("BillingAccountType", _S, "Conditional", "`Organization`",
                "Names the kind of account for tools that mix providers."),
    FocusColumn("SubAccountId", _S, "Conditional",
                "the project id; NULL for organization-level charges (seats, no project)",
                "Projects group spend inside the organization; a NULL project is the "
                "organization itself, which FOCUS expresses as no sub account."),
    FocusColumn("SubAccountName", _S, "Conditional",
                "the project's name (`openai.projects`), else its id; NULL with the id",
                "FOCUS requires a name whenever the id is set."),
    FocusColumn("SubAccountType", _S, "Conditional", "`Project`, NULL with the id",
                "OpenAI has one kind of sub account."),
    FocusColumn("BillingPeriodStart", _T, "Mandatory",
                "first day of the cost day's calendar month, 00:00 UTC",
                "OpenAI bills per calendar month; one file per billing period."),
    FocusColumn("BillingPeriodEnd", _T, "Mandatory",
                "first day of the next month, 00:00 UTC (exclusive)",
                "FOCUS periods end exclusively."),
    FocusColumn("ChargePeriodStart", _T, "Mandatory", "the cost day, 00:00 UTC",
                "The Costs API reports daily buckets in UTC."),
    FocusColumn("ChargePeriodEnd", _T, "Mandatory", "the next day, 00:00 UTC (exclusive)",
                "One row covers exactly one daily bucket."),
    FocusColumn("ChargeCategory", _S, "Mandatory",
                "`Purchase` for subscription seats, `Credit` for a negative amount, "
                "`Usage` for every other (API) line item",
                "Seats are bought, API calls are used, a negative amount reduces the bill."),
    FocusColumn("ChargeClass", _S, "Mandatory", "NULL",
                "Only `Correction` is allowed, for fixes of an invoiced period; the daily "
                "cost feed carries none."),
    FocusColumn("ChargeDescription", _S, "Mandatory",
                "the line item, e.g. `gpt-4o-2024-08-06, input`",
                "OpenAI's own wording of the charge."),
    FocusColumn("ChargeFrequency", _S, "Recommended",
                "`Usage-Based` (Usage), `Recurring` (Purchase: seats recur daily), "
                "`One-Time` (Credit)",
                "Lets a FinOps tool separate metered spend from subscriptions."),
    FocusColumn("BillingCurrency", _S, "Mandatory", "`USD`",
                "OpenAI bills in US dollars (ISO 4217 code, upper case)."),
    FocusColumn("BilledCost", _M, "Mandatory", "`openai.costs.amount_usd`, exact",
                "What OpenAI invoices; per month it sums to openai.costs to the nano-dollar."),
    FocusColumn("EffectiveCost", _M, "Mandatory",
                "the billed amount; 0 on Purchase (seat) rows",
                "No discounts or commitments to amortize. focus-validator 2.2.1 requires 0 on "
                "every Purchase row; the seat amount is in x_AmortizedCost."),
    FocusColumn("ListCost", _M, "Mandatory", "the billed amount",
                "The Costs API carries no list price or discount: billed is list."),
    FocusColumn("ContractedCost", _M, "Mandatory", "the billed amount",
                "No negotiated rate is visible in the data: billed is contracted."),
    FocusColumn("PricingCategory", _S, "Conditional", "`Standard`; NULL on Credit rows",
                "Pay-as-you-go prices; a credit has no pricing."),
    FocusColumn("PricingQuantity", _Q, "Mandatory",
                "`quantity` when positive; 1 otherwise; NULL on Credit rows",
                "FOCUS needs a quantity on every Usage and Purchase row."),
    FocusColumn("PricingUnit", _S, "Mandatory",
                "`quantity_unit` in FOCUS unit format: `Tokens`, `1000 Tokens`, `Images`, "
                "`Seconds`, `Characters`, `GiB-Hours`, `Sessions`, `Calls`, `Seats`, "
                "`Requests`; `Units` without a quantity",
                "FOCUS units are words with spaces, not identifiers with underscores."),
    FocusColumn("ListUnitPrice", _Q, "Conditional",
                "BilledCost / PricingQuantity (DOUBLE); NULL on Credit rows",
                "So that unit price x quantity gives the cost back, as FOCUS requires."),
    FocusColumn("ContractedUnitPrice", _Q, "Conditional", "= ListUnitPrice",
                "Contracted is list (see ContractedCost)."),
    FocusColumn("PricingCurrency", _S, "Conditional", "`USD`",
                "Prices are in the billing currency."),
    FocusColumn("PricingCurrencyListUnitPrice", _Q, "Conditional", "= ListUnitPrice",
                "Same currency, same price."),
    FocusColumn("PricingCurrencyContractedUnitPrice", _Q, "Conditional",
                "= ContractedUnitPrice", "Same currency, same price."),
    FocusColumn("PricingCurrencyEffectiveCost", _M, "Conditional", "= EffectiveCost",
                "Same currency, same cost."),
    FocusColumn("ConsumedQuantity", _Q, "Conditional",
                "Usage rows: the quantity in its base unit (`1000_tokens` x 1000); "
                "NULL on Purchase and Credit rows",
                "FOCUS measures consumption on Usage rows only."),
    FocusColumn("ConsumedUnit", _S, "Conditional",
                "the base unit (`Tokens`, `Images`, ...); NULL with the quantity",
                "A token is a token whatever unit it was priced in."),
    FocusColumn("ProviderName", _S, "Mandatory", "`OpenAI`", "OpenAI provides the service."),
    FocusColumn("PublisherName", _S, "Mandatory", "`OpenAI`", "OpenAI publishes the models."),
    FocusColumn("InvoiceIssuerName", _S, "Mandatory", "`OpenAI`",
                "OpenAI invoices directly (no reseller)."),
    FocusColumn("InvoiceId", _S, "Recommended", _NA,
                "The Costs API has no invoice ids; see the validator note on InvoiceId."),
    FocusColumn("ServiceName", _S, "Mandatory",
                "`ChatGPT` for ChatGPT seat subscriptions, `OpenAI API` otherwise",
                "The two products OpenAI bills an organization for."),
    FocusColumn("ServiceCategory", _S, "Mandatory", "`AI and Machine Learning`",
                "Both services are AI services."),
    FocusColumn("ServiceSubcategory", _S, "Recommended", "`Generative AI`",
                "Both services are generative models."),
    FocusColumn("SkuId", _S, "Conditional",
                "the model (the line item before `, `), or the whole line item; NULL on "
                "Credit rows",
                "A model is what OpenAI sells; it has one price per meter."),
    FocusColumn("SkuPriceId", _S, "Conditional",
                "the line item, e.g. `gpt-4o-2024-08-06, batch input`; NULL on Credit rows",
                "Each line item is one price point of one SKU (batch and cached input "
                "have their own)."),
    FocusColumn("SkuMeter", _S, "Conditional",
                "the line item after `, ` (`input`, `cached input`, ...), or the whole "
                "line item; NULL with SkuId",
                "What is metered for the SKU."),
    FocusColumn("SkuPriceDetails", _S, "Conditional", "NULL",
                "OpenAI publishes no machine-readable price details (MAY be NULL)."),
    FocusColumn("ResourceId", _S, "Conditional", _NA,
                "OpenAI does not bill per provisioned resource."),
    FocusColumn("ResourceName", _S, "Conditional", _NA, "As ResourceId."),
    FocusColumn("ResourceType", _S, "Conditional", _NA, "As ResourceId."),
    FocusColumn("RegionId", _S, "Conditional", _NA, "The Costs API reports no region."),
    FocusColumn("RegionName", _S, "Conditional", _NA, "As RegionId."),
    FocusColumn("AvailabilityZone", _S, "Recommended", _NA, "As RegionId."),
    FocusColumn("CapacityReservationId", _S, "Conditional", _NA,
                "No capacity reservations in the data."),
    FocusColumn("CapacityReservationStatus", _S, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountCategory", _S, "Conditional", _NA,
                "No commitment discounts in the data."),
    FocusColumn("CommitmentDiscountId", _S, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountName", _S, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountQuantity", _Q, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountStatus", _S, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountType", _S, "Conditional", _NA, "As above."),
    FocusColumn("CommitmentDiscountUnit", _S, "Conditional", _NA, "As above."),
    FocusColumn("Tags", _S, "Conditional",
                "JSON object of strings with the `kscope:` prefix: `kscope:project_name`, "
                "and for API spend of a reconciled day `kscope:reconciliation_status` and "
                "`kscope:bypass_share` (bypass / billed of the day x project); NULL when empty",
                "What Kscope knows about the spend, filterable in any FOCUS tool."),
    FocusColumn("x_LineItem", _S, "Kscope", "`openai.costs.line_item` as OpenAI sent it",
                "The join key back to openai.costs (ChargeDescription is ASCII-only)."),
    FocusColumn("x_QuantityUnit", _S, "Kscope", "`openai.costs.quantity_unit` as sent",
                "The unit before its FOCUS spelling."),
    FocusColumn("x_AmortizedCost", _M, "Kscope",
                "the billed amount on every row, seats included",
                "A daily seat fee is consumed the day it is billed; use this instead of "
                "EffectiveCost to see seat spend."),
    FocusColumn("x_GatewayMeteredCost", _M, "Kscope",
                "the day x project's gateway-metered cost (billing_reconciliation."
                "metered_usd) split over its API line items by billed cost, in whole "
                "nano-dollars; 0 on seat rows; NULL on days not reconciled yet",
                "Sums over rows give the reconciliation's figures exactly."),
    FocusColumn("x_BypassCost", _M, "Kscope",
                "the day x project's spend of keys that bypass the gateway "
                "(billing_reconciliation.bypass_explained_usd), split the same way",
                "Sums over rows give the reconciliation's figures exactly."),
)

#: Column names in file order.
FOCUS_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in FOCUS_COLUMNS)
#: The grain of exports.focus_costs: one row per organization x day x project x line item.
FOCUS_GRAIN: tuple[str, ...] = (
    "BillingAccountId",
    "ChargePeriodStart",
    "SubAccountId",
    "x_LineItem",
)


def describe(name: str) -> str:
    """The column's description for the data dictionary: its value, then why."""
    column = next(c for c in FOCUS_COLUMNS if c.name == name)
    return f"{column.value[0].upper()}{column.value[1:]}. {column.why}"


def markdown_table() -> str:
    """The README's FOCUS column table (a test keeps the README equal to it)."""
    lines = ["| column | FOCUS 1.2 | value | why |", "|---|---|---|---|"]
    for c in FOCUS_COLUMNS:
        cells = [f"`{c.name}`", c.requirement, c.value, c.why]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines)
