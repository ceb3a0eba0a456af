-- exports.focus_costs: openai.costs as FOCUS 1.2 rows for the days
-- $start_date <= cost_date < $end_date, every organization, one row per cost row.
-- Reads openai.costs, openai.projects, openai.organization and
-- sightlines.billing_reconciliation. What each column holds and why: schemas/focus_columns.py.
--
-- Rules:
-- - ChargeCategory: 'Credit' when amount_usd < 0; else 'Purchase' when the line item is a
--   subscription (line_item ILIKE any of $subscription_patterns, as the reconciliation
--   says); else 'Usage'.
-- - Costs: BilledCost = ListCost = ContractedCost = x_AmortizedCost = amount_usd exactly;
--   EffectiveCost = amount_usd, but 0 on Purchase rows (focus-validator 2.2.1 demands it).
-- - Quantities: a positive quantity is the PricingQuantity in its unit spelled the FOCUS
--   way (units CTE); a missing or non-positive one is 1 'Units'. ConsumedQuantity (Usage
--   rows only) is the quantity in the base unit ('1000_tokens' x 1000 'Tokens'). Credit
--   rows have neither. Unit prices = BilledCost / PricingQuantity in DOUBLE.
-- - Text FOCUS checks as strings is printable ASCII (the validator's rule): accents are
--   stripped, anything else non-ASCII becomes '?'. Tags keep the original names.
-- - x_GatewayMeteredCost / x_BypassCost: the reconciliation's metered_usd and
--   bypass_explained_usd of each (day, project) split over that pair's non-subscription
--   rows in proportion to max(BilledCost, 0) (equally when those weights sum to 0), in
--   whole nano-dollars: each row gets floor(|amount| x weight / total), the leftover
--   nano-dollars go one each to the largest remainders (ties: line item), the sign is put
--   back. So the rows of a pair sum to the reconciliation's figure exactly. Subscription
--   rows get 0 (seats never pass a gateway). Days outside the organization's reconciled
--   range (first to last recon_date) get NULL: not known yet, not zero.
-- - Tags: {"kscope:project_name", "kscope:reconciliation_status", "kscope:bypass_share"}
--   with string values, keys without a value left out, NULL when none is left.
WITH
subscription_patterns AS (
    SELECT
        UNNEST(CAST($subscription_patterns AS VARCHAR[])) AS pattern
),
window_costs AS (
    SELECT
        *
    FROM openai.costs
    WHERE cost_date >= CAST($start_date AS DATE)
        AND cost_date < CAST($end_date AS DATE)
),
subscription_line_items AS (
    SELECT DISTINCT
        c.line_item
    FROM window_costs AS c
    JOIN subscription_patterns AS s
        ON c.line_item ILIKE s.pattern
),
units (quantity_unit, pricing_unit, consumed_unit, consumed_factor) AS (
    VALUES
        ('tokens', 'Tokens', 'Tokens', 1),
        ('1000_tokens', '1000 Tokens', 'Tokens', 1000),
        ('1m_tokens', '1000000 Tokens', 'Tokens', 1000000),
        ('images', 'Images', 'Images', 1),
        ('characters', 'Characters', 'Characters', 1),
        ('seconds', 'Seconds', 'Seconds', 1),
        ('duration_seconds', 'Seconds', 'Seconds', 1),
        ('minutes', 'Minutes', 'Minutes', 1),
        ('gibibyte_hours', 'GiB-Hours', 'GiB-Hours', 1),
        ('sessions', 'Sessions', 'Sessions', 1),
        ('calls', 'Calls', 'Calls', 1),
        ('requests', 'Requests', 'Requests', 1),
        ('seats', 'Seats', 'Seats', 1)
),
classified AS (
    SELECT
        c.*,
        s.line_item IS NOT NULL AS is_subscription,
        CASE
            WHEN c.amount_usd < 0 THEN 'Credit'
            WHEN s.line_item IS NOT NULL THEN 'Purchase'
            ELSE 'Usage'
        END AS charge_category,
        coalesce(c.quantity > 0, FALSE) AS has_quantity,
        -- an unknown unit: its words with single spaces, if that is a FOCUS unit
        coalesce(
            u.pricing_unit,
            CASE
                WHEN regexp_full_match(
                    trim(regexp_replace(c.quantity_unit, '[^A-Za-z0-9]+', ' ', 'g')),
                    '[A-Za-z][A-Za-z0-9]*( [A-Za-z][A-Za-z0-9]*)*'
                ) THEN trim(regexp_replace(c.quantity_unit, '[^A-Za-z0-9]+', ' ', 'g'))
            END,
            'Units'
        ) AS unit_priced,
        coalesce(
            u.consumed_unit,
            CASE
                WHEN regexp_full_match(
                    trim(regexp_replace(c.quantity_unit, '[^A-Za-z0-9]+', ' ', 'g')),
                    '[A-Za-z][A-Za-z0-9]*( [A-Za-z][A-Za-z0-9]*)*'
                ) THEN trim(regexp_replace(c.quantity_unit, '[^A-Za-z0-9]+', ' ', 'g'))
            END,
            'Units'
        ) AS unit_consumed,
        coalesce(u.consumed_factor, 1) AS consumed_factor
    FROM window_costs AS c
    LEFT JOIN subscription_line_items AS s
        ON s.line_item = c.line_item
    LEFT JOIN units AS u
        ON u.quantity_unit = c.quantity_unit
),
reconciled_ranges AS (
    SELECT
        organization_id,
        MIN(recon_date) AS first_day,
        MAX(recon_date) AS last_day
    FROM sightlines.billing_reconciliation
    GROUP BY ALL
),
reconciled_pairs AS (
    SELECT
        organization_id,
        recon_date,
        project_id,
        billed_usd,
        metered_usd,
        bypass_explained_usd,
        status
    FROM sightlines.billing_reconciliation
    WHERE scope = 'project'
        AND recon_date >= CAST($start_date AS DATE)
        AND recon_date < CAST($end_date AS DATE)
),
allocation_lines AS (
    SELECT
        organization_id,
        cost_date,
        project_id,
        line_item,
        greatest(CAST(CAST(amount_usd AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT), 0) AS weight
    FROM classified
    WHERE NOT is_subscription
),
allocation_weights AS (
    SELECT
        *,
        SUM(weight) OVER pair AS total_weight,
        COUNT(*) OVER pair AS pair_lines
    FROM allocation_lines
    WINDOW pair AS (PARTITION BY organization_id, cost_date, project_id)
),
allocation_targets AS (
    -- one row per (line, measure): the pair's figure to split, in nano-dollars
    SELECT
        a.organization_id,
        a.cost_date,
        a.project_id,
        a.line_item,
        CASE WHEN a.total_weight > 0 THEN a.weight ELSE 1 END AS share,
        CASE WHEN a.total_weight > 0 THEN a.total_weight ELSE a.pair_lines END AS shares,
        m.measure,
        CAST(CAST(m.amount AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS target_nanos
    FROM allocation_weights AS a
    JOIN reconciled_pairs AS r
        ON r.organization_id = a.organization_id
        AND r.recon_date = a.cost_date
        AND r.project_id IS NOT DISTINCT FROM a.project_id
    CROSS JOIN LATERAL (
        VALUES ('metered', r.metered_usd), ('bypass', r.bypass_explained_usd)
    ) AS m (measure, amount)
),
allocation_bases AS (
    SELECT
        *,
        abs(target_nanos) * share // shares AS base_nanos,
        abs(target_nanos) * share - (abs(target_nanos) * share // shares) * shares AS remainder
    FROM allocation_targets
),
allocation_ranks AS (
    SELECT
        *,
        abs(target_nanos) - SUM(base_nanos) OVER pair_measure AS leftover,
        ROW_NUMBER() OVER (
            PARTITION BY organization_id, cost_date, project_id, measure
            ORDER BY remainder DESC, coalesce(line_item, '')
        ) AS remainder_rank
    FROM allocation_bases
    WINDOW pair_measure AS (PARTITION BY organization_id, cost_date, project_id, measure)
),
allocations AS (
    SELECT
        organization_id,
        cost_date,
        project_id,
        line_item,
        SUM(
            CASE WHEN measure = 'metered' THEN sign(target_nanos) * (
                base_nanos + CASE WHEN remainder_rank <= leftover THEN 1 ELSE 0 END
            ) END
        ) AS metered_nanos,
        SUM(
            CASE WHEN measure = 'bypass' THEN sign(target_nanos) * (
                base_nanos + CASE WHEN remainder_rank <= leftover THEN 1 ELSE 0 END
            ) END
        ) AS bypass_nanos
    FROM allocation_ranks
    GROUP BY ALL
),
focus_rows AS (
    SELECT
        c.*,
        o.name AS organization_name,
        p.name AS project_name,
        r.status AS recon_status,
        CASE
            WHEN r.billed_usd > 0
                THEN CAST(CAST(r.bypass_explained_usd / r.billed_usd AS DECIMAL(18, 4)) AS VARCHAR)
        END AS bypass_share,
        g.first_day IS NOT NULL AND c.cost_date BETWEEN g.first_day AND g.last_day AS reconciled,
        a.metered_nanos,
        a.bypass_nanos,
        CASE WHEN c.charge_category <> 'Credit' THEN
            CASE WHEN c.has_quantity THEN c.quantity ELSE 1.0 END
        END AS pricing_quantity
    FROM classified AS c
    LEFT JOIN openai.organization AS o
        ON o.organization_id = c.organization_id
    LEFT JOIN openai.projects AS p
        ON p.organization_id = c.organization_id
        AND p.project_id = c.project_id
    LEFT JOIN reconciled_pairs AS r
        ON NOT c.is_subscription
        AND r.organization_id = c.organization_id
        AND r.recon_date = c.cost_date
        AND r.project_id IS NOT DISTINCT FROM c.project_id
    LEFT JOIN reconciled_ranges AS g
        ON g.organization_id = c.organization_id
    LEFT JOIN allocations AS a
        ON a.organization_id = c.organization_id
        AND a.cost_date = c.cost_date
        AND a.project_id IS NOT DISTINCT FROM c.project_id
        AND a.line_item IS NOT DISTINCT FROM c.line_item
)
SELECT
    organization_id AS BillingAccountId,
    regexp_replace(strip_accents(coalesce(organization_name, organization_id)), '[^\x20-\x7E]', '?', 'g')
        AS BillingAccountName,
    'Organization' AS BillingAccountType,
    project_id AS SubAccountId,
    regexp_replace(strip_accents(coalesce(project_name, project_id)), '[^\x20-\x7E]', '?', 'g')
        AS SubAccountName,
    CASE WHEN project_id IS NOT NULL THEN 'Project' END AS SubAccountType,
    CAST(date_trunc('month', cost_date) AS TIMESTAMP) AS BillingPeriodStart,
    CAST(date_trunc('month', cost_date) + INTERVAL 1 MONTH AS TIMESTAMP) AS BillingPeriodEnd,
    CAST(cost_date AS TIMESTAMP) AS ChargePeriodStart,
    CAST(cost_date + INTERVAL 1 DAY AS TIMESTAMP) AS ChargePeriodEnd,
    charge_category AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    coalesce(
        regexp_replace(strip_accents(line_item), '[^\x20-\x7E]', '?', 'g'),
        'OpenAI charge without a line item'
    ) AS ChargeDescription,
    CASE charge_category
        WHEN 'Usage' THEN 'Usage-Based'
        WHEN 'Purchase' THEN 'Recurring'
        ELSE 'One-Time'
    END AS ChargeFrequency,
    upper(currency) AS BillingCurrency,
    amount_usd AS BilledCost,
    CASE
        WHEN charge_category = 'Purchase' THEN CAST(0 AS DECIMAL(18, 9))
        ELSE amount_usd
    END AS EffectiveCost,
    amount_usd AS ListCost,
    amount_usd AS ContractedCost,
    CASE WHEN charge_category <> 'Credit' THEN 'Standard' END AS PricingCategory,
    CAST(pricing_quantity AS DOUBLE) AS PricingQuantity,
    CASE
        WHEN charge_category = 'Credit' THEN NULL
        WHEN has_quantity THEN unit_priced
        ELSE 'Units'
    END AS PricingUnit,
    CAST(amount_usd AS DOUBLE) / pricing_quantity AS ListUnitPrice,
    CAST(amount_usd AS DOUBLE) / pricing_quantity AS ContractedUnitPrice,
    'USD' AS PricingCurrency,
    CAST(amount_usd AS DOUBLE) / pricing_quantity AS PricingCurrencyListUnitPrice,
    CAST(amount_usd AS DOUBLE) / pricing_quantity AS PricingCurrencyContractedUnitPrice,
    CASE
        WHEN charge_category = 'Purchase' THEN CAST(0 AS DECIMAL(18, 9))
        ELSE amount_usd
    END AS PricingCurrencyEffectiveCost,
    CASE WHEN charge_category = 'Usage' THEN
        CAST(CASE WHEN has_quantity THEN quantity * consumed_factor ELSE 1.0 END AS DOUBLE)
    END AS ConsumedQuantity,
    CASE WHEN charge_category = 'Usage' THEN
        CASE WHEN has_quantity THEN unit_consumed ELSE 'Units' END
    END AS ConsumedUnit,
    'OpenAI' AS ProviderName,
    'OpenAI' AS PublisherName,
    'OpenAI' AS InvoiceIssuerName,
    CAST(NULL AS VARCHAR) AS InvoiceId,
    CASE
        WHEN is_subscription AND line_item ILIKE 'ChatGPT%' THEN 'ChatGPT'
        ELSE 'OpenAI API'
    END AS ServiceName,
    'AI and Machine Learning' AS ServiceCategory,
    'Generative AI' AS ServiceSubcategory,
    CASE WHEN charge_category <> 'Credit' THEN
        regexp_replace(
            strip_accents(coalesce(split_part(line_item, ', ', 1), 'unspecified')),
            '[^\x20-\x7E]', '?', 'g'
        )
    END AS SkuId,
    CASE WHEN charge_category <> 'Credit' THEN
        regexp_replace(strip_accents(coalesce(line_item, 'unspecified')), '[^\x20-\x7E]', '?', 'g')
    END AS SkuPriceId,
    CASE WHEN charge_category <> 'Credit' THEN
        regexp_replace(
            strip_accents(coalesce(nullif(split_part(line_item, ', ', 2), ''), line_item, 'unspecified')),
            '[^\x20-\x7E]', '?', 'g'
        )
    END AS SkuMeter,
    CAST(NULL AS VARCHAR) AS SkuPriceDetails,
    CAST(NULL AS VARCHAR) AS ResourceId,
    CAST(NULL AS VARCHAR) AS ResourceName,
    CAST(NULL AS VARCHAR) AS ResourceType,
    CAST(NULL AS VARCHAR) AS RegionId,
    CAST(NULL AS VARCHAR) AS RegionName,
    CAST(NULL AS VARCHAR) AS AvailabilityZone,
    CAST(NULL AS VARCHAR) AS CapacityReservationId,
    CAST(NULL AS VARCHAR) AS CapacityReservationStatus,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountCategory,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountId,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountName,
    CAST(NULL AS DOUBLE) AS CommitmentDiscountQuantity,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountStatus,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountUnit,
    nullif(
        to_json(map_from_entries(list_filter(
            [
                {'k': 'kscope:project_name', 'v': project_name},
                {'k': 'kscope:reconciliation_status', 'v': recon_status},
                {'k': 'kscope:bypass_share', 'v': bypass_share}
            ],
            lambda t: t.v IS NOT NULL
        )))::VARCHAR,
        '{}'
    ) AS Tags,
    line_item AS x_LineItem,
    quantity_unit AS x_QuantityUnit,
    amount_usd AS x_AmortizedCost,
    CASE WHEN reconciled THEN
        CAST(CAST(coalesce(metered_nanos, 0) AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(18, 9))
            AS DECIMAL(18, 9))
    END AS x_GatewayMeteredCost,
    CASE WHEN reconciled THEN
        CAST(CAST(coalesce(bypass_nanos, 0) AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(18, 9))
            AS DECIMAL(18, 9))
    END AS x_BypassCost
FROM focus_rows
ORDER BY
    ChargePeriodStart,
    BillingAccountId,
    SubAccountId NULLS FIRST,
    x_LineItem NULLS FIRST
