-- x_GatewayMeteredCost and x_BypassCost of exports.focus_costs against
-- sightlines.billing_reconciliation for the days $start_date <= day < $end_date: one row
-- per reconciled (organization, day, project) whose figures the FOCUS rows do not carry
-- exactly, plus one row per FOCUS day not reconciled yet (project_id NULL, reason
-- 'not_reconciled').
--
-- Rules:
-- - A pair is carried when the SUM of its rows' x_ columns equals the reconciliation's
--   metered_usd and bypass_explained_usd to the nano-dollar.
-- - reason 'no_billed_line': the reconciliation has metered or bypass spend for a
--   (day, project) on which OpenAI billed no API line item, so no FOCUS row can carry it
--   (FOCUS rows are OpenAI's charges; none is invented for it).
-- - reason 'mismatch': there are rows, but their sums differ (a bug, never expected).
-- - reason 'not_reconciled': the day's rows have NULL x_ columns (the sightlines have not
--   covered that day yet): materialize the sightlines, then the export again.
WITH
pairs AS (
    SELECT
        organization_id,
        recon_date AS day,
        project_id,
        metered_usd,
        bypass_explained_usd
    FROM sightlines.billing_reconciliation
    WHERE scope = 'project'
        AND recon_date >= CAST($start_date AS DATE)
        AND recon_date < CAST($end_date AS DATE)
        AND (metered_usd <> 0 OR bypass_explained_usd <> 0)
),
carried AS (
    SELECT
        BillingAccountId AS organization_id,
        CAST(ChargePeriodStart AS DATE) AS day,
        SubAccountId AS project_id,
        COUNT(*) FILTER (WHERE ChargeCategory <> 'Purchase') AS api_rows,
        SUM(x_GatewayMeteredCost) AS metered_usd,
        SUM(x_BypassCost) AS bypass_usd,
        COUNT(*) FILTER (WHERE x_GatewayMeteredCost IS NULL) AS unreconciled_rows
    FROM exports.focus_costs
    WHERE ChargePeriodStart >= CAST($start_date AS TIMESTAMP)
        AND ChargePeriodStart < CAST($end_date AS TIMESTAMP)
    GROUP BY ALL
),
differences AS (
    SELECT
        p.organization_id,
        p.day,
        p.project_id,
        p.metered_usd AS recon_metered_usd,
        CAST(coalesce(c.metered_usd, 0) AS DECIMAL(38, 9)) AS focus_metered_usd,
        p.bypass_explained_usd AS recon_bypass_usd,
        CAST(coalesce(c.bypass_usd, 0) AS DECIMAL(38, 9)) AS focus_bypass_usd,
        CASE WHEN coalesce(c.api_rows, 0) = 0 THEN 'no_billed_line' ELSE 'mismatch' END AS reason
    FROM pairs AS p
    LEFT JOIN carried AS c
        ON c.organization_id = p.organization_id
        AND c.day = p.day
        AND c.project_id IS NOT DISTINCT FROM p.project_id
    WHERE coalesce(c.unreconciled_rows, 0) = 0
        AND (
            coalesce(c.metered_usd, 0) <> p.metered_usd
            OR coalesce(c.bypass_usd, 0) <> p.bypass_explained_usd
        )
),
unreconciled_days AS (
    SELECT
        organization_id,
        day,
        CAST(NULL AS VARCHAR) AS project_id,
        CAST(NULL AS DECIMAL(38, 9)) AS recon_metered_usd,
        CAST(NULL AS DECIMAL(38, 9)) AS focus_metered_usd,
        CAST(NULL AS DECIMAL(38, 9)) AS recon_bypass_usd,
        CAST(NULL AS DECIMAL(38, 9)) AS focus_bypass_usd,
        'not_reconciled' AS reason
    FROM carried
    GROUP BY organization_id, day
    HAVING SUM(unreconciled_rows) > 0
)
SELECT
    *
FROM differences
UNION ALL
SELECT
    *
FROM unreconciled_days
ORDER BY
    organization_id,
    day,
    project_id NULLS FIRST
