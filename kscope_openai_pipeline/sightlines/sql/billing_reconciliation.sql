-- sightlines.billing_reconciliation: OpenAI-billed versus gateway-metered spend per day and
-- project over [$start_date, $end_date] (both inclusive), plus one organization row per day.
-- Reads sightlines.gateway_bypass_daily (which keys bypassed the gateway on each day, and
-- what they cost that day).
--
-- Rules:
-- - Project rows: every (day, project) with a billed non-subscription cost or a metered
--   gateway cost. project_id NULL = spend OpenAI attributes to no project (scope 'project').
-- - billed_usd = SUM(openai.costs.amount_usd) without subscription line items (line_item
--   ILIKE any of $subscription_patterns): seats never pass through an API gateway.
-- - metered_usd = SUM(kscope.gateway_costs.cost_usd); gap_usd = billed_usd - metered_usd.
-- - Organization rows (scope 'organization', project_id NULL): the day's sums over its
--   project rows; only days that have project rows.
-- - coverage_ratio = metered / billed (NULL when billed is 0).
-- - bypass_explained_usd = the day's cost of the keys that bypassed the gateway THAT day
--   (gateway_bypass_daily.bypass: no Dev Token active that day), by the key's project. A
--   key registered today does not explain last month's gap; one revoked last week does
--   explain this week's.
-- - status, first that applies: gateway_not_deployed (no gateway rows at all for the
--   organization: the sightline is inactive, not failing); gateway_data_missing (gateway
--   rows on other days, none on this day); matched (|gap| <= max($tolerance_pct x billed,
--   $tolerance_usd)); spend_outside_gateway (gap > 0); over_metered (gap < 0).
WITH
subscription_patterns AS (
    SELECT
        UNNEST(CAST($subscription_patterns AS VARCHAR[])) AS pattern
),
subscription_line_items AS (
    SELECT DISTINCT
        c.organization_id,
        c.line_item
    FROM openai.costs AS c
    JOIN subscription_patterns AS s
        ON c.line_item ILIKE s.pattern
),
billed_project_days AS (
    SELECT
        c.organization_id,
        c.cost_date AS recon_date,
        c.project_id,
        SUM(c.amount_usd) AS billed_usd
    FROM openai.costs AS c
    ANTI JOIN subscription_line_items AS s
        ON s.organization_id = c.organization_id
        AND s.line_item = c.line_item
    WHERE c.cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
    GROUP BY ALL
),
metered_project_days AS (
    SELECT
        g.organization_id,
        g.usage_date AS recon_date,
        g.project_id,
        SUM(g.cost_usd) AS metered_usd
    FROM kscope.gateway_costs AS g
    WHERE g.usage_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
    GROUP BY ALL
),
bypass_project_days AS (
    SELECT
        organization_id,
        usage_date AS recon_date,
        project_id,
        SUM(cost_usd) AS bypass_usd
    FROM sightlines.gateway_bypass_daily
    WHERE bypass
        AND usage_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
    GROUP BY ALL
),
project_day_amounts AS (
    SELECT
        organization_id,
        recon_date,
        project_id,
        billed_usd,
        0 AS metered_usd,
        0 AS bypass_usd,
        1 AS source_rows
    FROM billed_project_days
    UNION ALL
    SELECT
        organization_id,
        recon_date,
        project_id,
        0,
        metered_usd,
        0,
        1
    FROM metered_project_days
    UNION ALL
    SELECT
        organization_id,
        recon_date,
        project_id,
        0,
        0,
        bypass_usd,
        0
    FROM bypass_project_days
),
reconciled_project_days AS (
    SELECT
        organization_id,
        recon_date,
        'project' AS scope,
        project_id,
        SUM(billed_usd) AS billed_usd,
        SUM(metered_usd) AS metered_usd,
        SUM(bypass_usd) AS bypass_usd
    FROM project_day_amounts
    GROUP BY ALL
    HAVING SUM(source_rows) > 0
),
organization_days AS (
    SELECT
        organization_id,
        recon_date,
        'organization' AS scope,
        CAST(NULL AS VARCHAR) AS project_id,
        SUM(billed_usd) AS billed_usd,
        SUM(metered_usd) AS metered_usd,
        SUM(bypass_usd) AS bypass_usd
    FROM reconciled_project_days
    GROUP BY ALL
),
all_rows AS (
    SELECT * FROM reconciled_project_days
    UNION ALL
    SELECT * FROM organization_days
),
gateway_days AS (
    SELECT DISTINCT
        organization_id,
        usage_date
    FROM kscope.gateway_costs
),
gateway_deployments AS (
    SELECT DISTINCT
        organization_id
    FROM kscope.gateway_costs
),
measured_rows AS (
    SELECT
        r.*,
        CAST(r.billed_usd - r.metered_usd AS DECIMAL(18, 9)) AS gap_usd,
        greatest(
            CAST($tolerance_pct AS DECIMAL(18, 9)) * r.billed_usd,
            CAST($tolerance_usd AS DECIMAL(18, 9))
        ) AS tolerance,
        d.organization_id IS NOT NULL AS gateway_deployed,
        g.usage_date IS NOT NULL AS gateway_has_day
    FROM all_rows AS r
    LEFT JOIN gateway_deployments AS d
        ON d.organization_id = r.organization_id
    LEFT JOIN gateway_days AS g
        ON g.organization_id = r.organization_id
        AND g.usage_date = r.recon_date
)
SELECT
    m.organization_id,
    m.recon_date,
    m.scope,
    m.project_id,
    p.name AS project_name,
    CAST(m.billed_usd AS DECIMAL(18, 9)) AS billed_usd,
    CAST(m.metered_usd AS DECIMAL(18, 9)) AS metered_usd,
    m.gap_usd,
    CASE
        WHEN m.billed_usd <> 0 THEN CAST(m.metered_usd AS DOUBLE) / CAST(m.billed_usd AS DOUBLE)
    END AS coverage_ratio,
    CAST(m.bypass_usd AS DECIMAL(18, 9)) AS bypass_explained_usd,
    CAST(m.tolerance AS DECIMAL(18, 9)) AS tolerance_usd,
    CASE
        WHEN NOT m.gateway_deployed THEN 'gateway_not_deployed'
        WHEN NOT m.gateway_has_day THEN 'gateway_data_missing'
        WHEN abs(m.gap_usd) <= m.tolerance THEN 'matched'
        WHEN m.gap_usd > 0 THEN 'spend_outside_gateway'
        ELSE 'over_metered'
    END AS status
FROM measured_rows AS m
LEFT JOIN openai.projects AS p
    ON p.organization_id = m.organization_id
    AND p.project_id = m.project_id
ORDER BY
    m.organization_id,
    m.recon_date,
    m.scope DESC,
    m.project_id NULLS FIRST
