-- The FOCUS export: openai.costs as FOCUS 1.2 (FinOps Open Cost and Usage Specification)
-- rows, the format FinOps tools load for every provider. Run by exports.ensure_exports_schema.
--
-- exports.focus_costs: one row per organization x day x project x line item of openai.costs.
-- Grain: (BillingAccountId, ChargePeriodStart, SubAccountId, x_LineItem), NULLs compared as
-- values. Partitioned by ChargePeriodStart (the UTC day); written one window of days at a
-- time in one transaction, then copied to one Parquet file per BillingPeriodStart (month).
-- Column names are FOCUS's (PascalCase); Kscope's own columns carry the x_ prefix. What
-- each column holds and why: schemas/focus_columns.py and the README's FOCUS section.
-- Money is DECIMAL(18,9) USD like every table; unit prices and quantities are DOUBLE
-- (a unit price times its quantity must give the cost back, which 9 decimals cannot).
CREATE SCHEMA IF NOT EXISTS exports;

CREATE TABLE IF NOT EXISTS exports.focus_costs (
    BillingAccountId                    VARCHAR NOT NULL,       -- the organization ('org-...')
    BillingAccountName                  VARCHAR NOT NULL,
    BillingAccountType                  VARCHAR NOT NULL,
    SubAccountId                        VARCHAR,                -- the project; NULL: organization-level charge
    SubAccountName                      VARCHAR,
    SubAccountType                      VARCHAR,
    BillingPeriodStart                  TIMESTAMP NOT NULL,     -- naive UTC; the file writes TIMESTAMPTZ UTC
    BillingPeriodEnd                    TIMESTAMP NOT NULL,
    ChargePeriodStart                   TIMESTAMP NOT NULL,     -- the cost day 00:00 (the partition)
    ChargePeriodEnd                     TIMESTAMP NOT NULL,
    ChargeCategory                      VARCHAR NOT NULL,
    ChargeClass                         VARCHAR,
    ChargeDescription                   VARCHAR NOT NULL,
    ChargeFrequency                     VARCHAR NOT NULL,
    BillingCurrency                     VARCHAR NOT NULL,
    BilledCost                          DECIMAL(18,9) NOT NULL, -- openai.costs.amount_usd, exact
    EffectiveCost                       DECIMAL(18,9) NOT NULL, -- 0 on Purchase (seat) rows
    ListCost                            DECIMAL(18,9) NOT NULL,
    ContractedCost                      DECIMAL(18,9) NOT NULL,
    PricingCategory                     VARCHAR,
    PricingQuantity                     DOUBLE,
    PricingUnit                         VARCHAR,
    ListUnitPrice                       DOUBLE,
    ContractedUnitPrice                 DOUBLE,
    PricingCurrency                     VARCHAR NOT NULL,
    PricingCurrencyListUnitPrice        DOUBLE,
    PricingCurrencyContractedUnitPrice  DOUBLE,
    PricingCurrencyEffectiveCost        DECIMAL(18,9) NOT NULL,
    ConsumedQuantity                    DOUBLE,
    ConsumedUnit                        VARCHAR,
    ProviderName                        VARCHAR NOT NULL,
    PublisherName                       VARCHAR NOT NULL,
    InvoiceIssuerName                   VARCHAR NOT NULL,
    InvoiceId                           VARCHAR,
    ServiceName                         VARCHAR NOT NULL,
    ServiceCategory                     VARCHAR NOT NULL,
    ServiceSubcategory                  VARCHAR NOT NULL,
    SkuId                               VARCHAR,
    SkuPriceId                          VARCHAR,
    SkuMeter                            VARCHAR,
    SkuPriceDetails                     VARCHAR,
    ResourceId                          VARCHAR,
    ResourceName                        VARCHAR,
    ResourceType                        VARCHAR,
    RegionId                            VARCHAR,
    RegionName                          VARCHAR,
    AvailabilityZone                    VARCHAR,
    CapacityReservationId               VARCHAR,
    CapacityReservationStatus           VARCHAR,
    CommitmentDiscountCategory          VARCHAR,
    CommitmentDiscountId                VARCHAR,
    CommitmentDiscountName              VARCHAR,
    CommitmentDiscountQuantity          DOUBLE,
    CommitmentDiscountStatus            VARCHAR,
    CommitmentDiscountType              VARCHAR,
    CommitmentDiscountUnit              VARCHAR,
    Tags                                VARCHAR,                -- JSON object of strings, 'kscope:' keys
    x_LineItem                          VARCHAR,                -- openai.costs.line_item as sent (grain)
    x_QuantityUnit                      VARCHAR,
    x_AmortizedCost                     DECIMAL(18,9) NOT NULL,
    x_GatewayMeteredCost                DECIMAL(18,9),          -- NULL: day not reconciled yet
    x_BypassCost                        DECIMAL(18,9)
);
