-- Findings of kind bypass_spend: keys whose spend on days they bypassed the gateway,
-- over the trailing window of $bypass_window_days days ending $as_of (both inclusive),
-- is above $bypass_spend_usd. Reads sightlines.gateway_bypass_daily.
--
-- Rules:
-- - Spend: SUM(cost_usd) of the key's ledger rows in the window with bypass = TRUE (a
--   day the key was registered does not count, even inside the window).
-- - Open while that spend is above the threshold; resolved when it falls to or below it.
-- - first_seen_date: the first day of the window with bypass spend (the spend that put
--   the key over the threshold started then).
-- - details: the spend, window, threshold, and the latest row's owner and project.
WITH
window_rows AS (
    SELECT
        *
    FROM sightlines.gateway_bypass_daily
    WHERE bypass
        AND usage_date BETWEEN CAST($as_of AS DATE) - (CAST($bypass_window_days AS INTEGER) - 1)
            AND CAST($as_of AS DATE)
),
key_spend AS (
    SELECT
        organization_id,
        api_key_id,
        SUM(cost_usd) AS spend_usd,
        MIN(usage_date) FILTER (WHERE cost_usd > 0) AS first_spend_day,
        arg_max(project_id, usage_date) AS project_id,
        arg_max(project_name, usage_date) AS project_name,
        arg_max(owner_type, usage_date) AS owner_type,
        arg_max(owner_id, usage_date) AS owner_id,
        arg_max(owner_email, usage_date) AS owner_email,
        arg_max(token_status, usage_date) AS token_status
    FROM window_rows
    GROUP BY ALL
)
SELECT
    organization_id,
    api_key_id AS subject,
    first_spend_day AS first_seen_date,
    CAST(json_object(
        'api_key_id', api_key_id,
        'project_id', project_id,
        'project_name', project_name,
        'owner_type', owner_type,
        'owner_id', owner_id,
        'owner_email', owner_email,
        'token_status', token_status,
        'spend_usd', spend_usd,
        'window_days', CAST($bypass_window_days AS INTEGER),
        'window_start', CAST($as_of AS DATE) - (CAST($bypass_window_days AS INTEGER) - 1),
        'as_of', CAST($as_of AS DATE),
        'threshold_usd', CAST($bypass_spend_usd AS DECIMAL(18, 9))
    ) AS VARCHAR) AS details
FROM key_spend
WHERE spend_usd > CAST($bypass_spend_usd AS DECIMAL(18, 9))
ORDER BY
    organization_id,
    subject
