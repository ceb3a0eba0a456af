-- FOCUS 1.2 rules checked on exports.focus_costs for the days
-- $start_date <= ChargePeriodStart < $end_date before the window is committed: one row per
-- rule with the number of rows breaking it (0 = kept) and one offending row's line item.
--
-- Why here: focus-validator 2.2.1 never runs some of FOCUS's rules (their condition
-- "ChargeClass is not Correction" compiles to `ChargeClass IS NOT NULL AND ...`, false on
-- every normal row), and others hold across columns, which the pandera model cannot say.
-- Rules:
-- - Usage and Purchase rows have PricingQuantity, PricingUnit, ListUnitPrice,
--   ContractedUnitPrice, PricingCategory, SkuId, SkuPriceId and SkuMeter.
-- - Unit price x PricingQuantity gives ListCost and ContractedCost back (relative 1e-9).
-- - PricingUnit is NULL exactly when PricingQuantity is; the same for ConsumedUnit.
-- - Usage rows have ConsumedQuantity; other rows do not.
-- - Units follow the FOCUS unit format the validator accepts (letters/digits words with
--   single spaces, '<n> <unit>', a data size or count unit '-Hours').
-- - EffectiveCost is 0 on Purchase rows and the billed amount elsewhere;
--   PricingCurrencyEffectiveCost equals EffectiveCost; x_AmortizedCost equals BilledCost.
-- - Credit rows have negative BilledCost; other rows do not.
-- - ChargePeriod is one UTC day inside its BillingPeriod, the calendar month.
-- - Each SkuPriceId has one SkuId; each ServiceName one ServiceCategory and Subcategory.
-- - Tags, when set, are a JSON object of string values under 'kscope:' keys.
WITH
focus AS (
    SELECT
        *
    FROM exports.focus_costs
    WHERE ChargePeriodStart >= CAST($start_date AS TIMESTAMP)
        AND ChargePeriodStart < CAST($end_date AS TIMESTAMP)
),
bad_tags AS (
    -- judged once per distinct value: a day's rows share a handful of Tags
    SELECT
        Tags
    FROM (SELECT DISTINCT Tags FROM focus WHERE Tags IS NOT NULL) AS t
    WHERE NOT coalesce(
        json_valid(Tags)
        AND json_type(CAST(Tags AS JSON)) = 'OBJECT'
        AND (
            SELECT
                bool_and(
                    starts_with(k, 'kscope:')
                    AND json_type(CAST(Tags AS JSON), '$."' || k || '"') = 'VARCHAR'
                )
            FROM unnest(json_keys(CAST(Tags AS JSON))) AS tag_keys (k)
        ),
        FALSE
    )
),
violations AS (
    SELECT
        'Usage and Purchase rows have their pricing and SKU columns' AS rule,
        x_LineItem
    FROM focus
    WHERE ChargeCategory IN ('Usage', 'Purchase')
        AND (
            PricingQuantity IS NULL OR PricingUnit IS NULL OR ListUnitPrice IS NULL
            OR ContractedUnitPrice IS NULL OR PricingCategory IS NULL OR SkuId IS NULL
            OR SkuPriceId IS NULL OR SkuMeter IS NULL
        )
    UNION ALL
    SELECT
        'unit price x PricingQuantity = ListCost and ContractedCost',
        x_LineItem
    FROM focus
    WHERE PricingQuantity IS NOT NULL
        AND (
            abs(ListUnitPrice * PricingQuantity - CAST(ListCost AS DOUBLE))
                > 1e-9 * greatest(abs(CAST(ListCost AS DOUBLE)), 1e-9)
            OR abs(ContractedUnitPrice * PricingQuantity - CAST(ContractedCost AS DOUBLE))
                > 1e-9 * greatest(abs(CAST(ContractedCost AS DOUBLE)), 1e-9)
        )
    UNION ALL
    SELECT
        'units are NULL exactly when their quantities are',
        x_LineItem
    FROM focus
    WHERE (PricingUnit IS NULL) <> (PricingQuantity IS NULL)
        OR (ConsumedUnit IS NULL) <> (ConsumedQuantity IS NULL)
    UNION ALL
    SELECT
        'only Usage rows, and all of them, have ConsumedQuantity',
        x_LineItem
    FROM focus
    WHERE (ChargeCategory = 'Usage') <> (ConsumedQuantity IS NOT NULL)
    UNION ALL
    SELECT
        'units follow the FOCUS unit format',
        x_LineItem
    FROM focus
    -- a constant pattern (compiled once); the validator's own, for the units we write
    WHERE NOT regexp_full_match(
            coalesce(PricingUnit, 'Units'),
            '(([0-9]+ )?[A-Za-z][A-Za-z0-9]*( [A-Za-z][A-Za-z0-9]*)*)|((GiB|GB|[A-Za-z][A-Za-z0-9]*)-(Hours|Days|Months|Seconds|Minutes|Years))'
        )
        OR NOT regexp_full_match(
            coalesce(ConsumedUnit, 'Units'),
            '(([0-9]+ )?[A-Za-z][A-Za-z0-9]*( [A-Za-z][A-Za-z0-9]*)*)|((GiB|GB|[A-Za-z][A-Za-z0-9]*)-(Hours|Days|Months|Seconds|Minutes|Years))'
        )
    UNION ALL
    SELECT
        'EffectiveCost is 0 on Purchase rows and BilledCost elsewhere',
        x_LineItem
    FROM focus
    WHERE EffectiveCost <> CASE WHEN ChargeCategory = 'Purchase' THEN 0 ELSE BilledCost END
        OR PricingCurrencyEffectiveCost <> EffectiveCost
        OR x_AmortizedCost <> BilledCost
        OR ListCost <> BilledCost
        OR ContractedCost <> BilledCost
    UNION ALL
    SELECT
        'Credit rows, and only they, are negative',
        x_LineItem
    FROM focus
    WHERE (ChargeCategory = 'Credit') <> (BilledCost < 0)
    UNION ALL
    SELECT
        'ChargePeriod is one UTC day inside its calendar-month BillingPeriod',
        x_LineItem
    FROM focus
    WHERE ChargePeriodEnd <> ChargePeriodStart + INTERVAL 1 DAY
        OR BillingPeriodStart <> date_trunc('month', ChargePeriodStart)
        OR BillingPeriodEnd <> BillingPeriodStart + INTERVAL 1 MONTH
        OR ChargePeriodStart < BillingPeriodStart
        OR ChargePeriodEnd > BillingPeriodEnd
    UNION ALL
    SELECT
        'each SkuPriceId has one SkuId',
        ANY_VALUE(SkuPriceId)
    FROM focus
    WHERE SkuPriceId IS NOT NULL
    GROUP BY SkuPriceId
    HAVING COUNT(DISTINCT SkuId) > 1
    UNION ALL
    SELECT
        'each ServiceName has one ServiceCategory and one ServiceSubcategory',
        ANY_VALUE(ServiceName)
    FROM focus
    GROUP BY ServiceName
    HAVING COUNT(DISTINCT ServiceCategory) > 1 OR COUNT(DISTINCT ServiceSubcategory) > 1
    UNION ALL
    SELECT
        'Tags are a JSON object of strings under kscope: keys',
        f.x_LineItem
    FROM focus AS f
    JOIN bad_tags AS b
        ON b.Tags = f.Tags
),
rules AS (
    SELECT
        UNNEST([
            'Usage and Purchase rows have their pricing and SKU columns',
            'unit price x PricingQuantity = ListCost and ContractedCost',
            'units are NULL exactly when their quantities are',
            'only Usage rows, and all of them, have ConsumedQuantity',
            'units follow the FOCUS unit format',
            'EffectiveCost is 0 on Purchase rows and BilledCost elsewhere',
            'Credit rows, and only they, are negative',
            'ChargePeriod is one UTC day inside its calendar-month BillingPeriod',
            'each SkuPriceId has one SkuId',
            'each ServiceName has one ServiceCategory and one ServiceSubcategory',
            'Tags are a JSON object of strings under kscope: keys'
        ]) AS rule
)
SELECT
    r.rule,
    COUNT(v.rule) AS violating_rows,
    ANY_VALUE(v.x_LineItem) AS example
FROM rules AS r
LEFT JOIN violations AS v
    ON v.rule = r.rule
GROUP BY r.rule
ORDER BY r.rule
