-- exports.focus_costs against openai.costs for the days $start_date <= day < $end_date,
-- one row per organization and billing month: rows and billed dollars on both sides, and
-- how many (day, project, line item) keys are on one side only or differ in amount.
--
-- Rules:
-- - The export is exact when, per month, focus_rows = cost_rows, focus_billed_usd =
--   costs_billed_usd (DECIMAL, to the nano-dollar) and unmatched_keys = 0: every cost row
--   is one FOCUS row whose BilledCost is its amount_usd.
-- - Keys compare NULL project and NULL line item as values (the tables' grain).
WITH
focus AS (
    SELECT
        BillingAccountId AS organization_id,
        CAST(ChargePeriodStart AS DATE) AS day,
        SubAccountId AS project_id,
        x_LineItem AS line_item,
        BilledCost AS amount_usd
    FROM exports.focus_costs
    WHERE ChargePeriodStart >= CAST($start_date AS TIMESTAMP)
        AND ChargePeriodStart < CAST($end_date AS TIMESTAMP)
),
costs AS (
    SELECT
        organization_id,
        cost_date AS day,
        project_id,
        line_item,
        amount_usd
    FROM openai.costs
    WHERE cost_date >= CAST($start_date AS DATE)
        AND cost_date < CAST($end_date AS DATE)
),
paired AS (
    SELECT
        coalesce(f.organization_id, c.organization_id) AS organization_id,
        date_trunc('month', coalesce(f.day, c.day)) AS billing_month,
        f.amount_usd AS focus_usd,
        c.amount_usd AS costs_usd,
        f.day IS NULL OR c.day IS NULL OR f.amount_usd <> c.amount_usd AS unmatched
    FROM focus AS f
    FULL OUTER JOIN costs AS c
        ON c.organization_id = f.organization_id
        AND c.day = f.day
        AND c.project_id IS NOT DISTINCT FROM f.project_id
        AND c.line_item IS NOT DISTINCT FROM f.line_item
)
SELECT
    organization_id,
    CAST(billing_month AS DATE) AS billing_month,
    COUNT(focus_usd) AS focus_rows,
    COUNT(costs_usd) AS cost_rows,
    CAST(coalesce(SUM(focus_usd), 0) AS DECIMAL(38, 9)) AS focus_billed_usd,
    CAST(coalesce(SUM(costs_usd), 0) AS DECIMAL(38, 9)) AS costs_billed_usd,
    COUNT(*) FILTER (WHERE unmatched) AS unmatched_keys
FROM paired
GROUP BY ALL
ORDER BY ALL
