-- sightlines.gateway_bypass: every listed project API key once, with its Dev Token status
-- and what it used and cost over the trailing window of $window_days days ending $as_of.
-- Reads the TEMP table key_daily_costs (api_key_daily_costs.sql) for the window's costs.
--
-- Rules:
-- - Keys: openai.api_keys with key_kind = 'project' (admin keys never carry model traffic;
--   deleted keys are listed by no endpoint, so they are not here; their spend still shows
--   in billing_reconciliation).
-- - Token match: kscope.dev_tokens (provider 'openai', any case) with provider_key_id =
--   api_key_id. Only when no token carries the key's id: tokens WITHOUT a provider_key_id
--   whose provider_key_redacted = the key's redacted_value.
-- - status: registered (a matched token is active) | registered_revoked (matched tokens,
--   all revoked) | bypass_active (no token; usage rows in the window) | bypass_dormant
--   (no token; no usage rows in the window, never-used keys included). Token statuses are
--   taken as they are now (the table is a snapshot).
-- - The reported token: the active one (latest created), else the latest revoked.
-- - Window totals from openai.usage: input_tokens, output_tokens, requests =
--   num_model_requests (every family that has it).
-- - cost_usd = the key's key_daily_costs over the window; cost_basis says where those
--   came from: billed_per_key when every window day with billing (openai.costs rows) is
--   covered by openai.api_key_costs, allocated_by_token_share when none is, mixed otherwise.
WITH
window_bounds AS (
    SELECT
        CAST($as_of AS DATE) - (CAST($window_days AS INTEGER) - 1) AS window_start,
        CAST($as_of AS DATE) AS as_of
),
listed_keys AS (
    SELECT
        k.*
    FROM openai.api_keys AS k
    WHERE k.key_kind = 'project'
),
openai_dev_tokens AS (
    SELECT
        t.*
    FROM kscope.dev_tokens AS t
    WHERE lower(t.provider) = 'openai'
),
matches_by_key_id AS (
    SELECT
        k.organization_id,
        k.api_key_id,
        t.dev_token_id,
        t.status,
        t.created_at,
        t.revoked_at,
        'provider_key_id' AS token_match_rule
    FROM listed_keys AS k
    JOIN openai_dev_tokens AS t
        ON t.organization_id = k.organization_id
        AND t.provider_key_id = k.api_key_id
),
matches_by_redacted_value AS (
    SELECT
        k.organization_id,
        k.api_key_id,
        t.dev_token_id,
        t.status,
        t.created_at,
        t.revoked_at,
        'provider_key_redacted' AS token_match_rule
    FROM listed_keys AS k
    JOIN openai_dev_tokens AS t
        ON t.organization_id = k.organization_id
        AND t.provider_key_redacted = k.redacted_value
    ANTI JOIN matches_by_key_id AS m
        ON m.organization_id = k.organization_id
        AND m.api_key_id = k.api_key_id
    WHERE t.provider_key_id IS NULL
),
token_matches AS (
    SELECT * FROM matches_by_key_id
    UNION ALL
    SELECT * FROM matches_by_redacted_value
),
chosen_tokens AS (
    SELECT
        organization_id,
        api_key_id,
        dev_token_id,
        status AS dev_token_status,
        token_match_rule,
        BOOL_OR(status = 'active') OVER key_tokens AS has_active_token
    FROM token_matches
    WINDOW key_tokens AS (PARTITION BY organization_id, api_key_id)
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY organization_id, api_key_id
        ORDER BY status = 'active' DESC, coalesce(revoked_at, created_at) DESC, dev_token_id
    ) = 1
),
window_usage AS (
    SELECT
        u.organization_id,
        u.api_key_id,
        SUM(u.input_tokens) AS input_tokens,
        SUM(u.output_tokens) AS output_tokens,
        SUM(u.num_model_requests) AS requests,
        MAX(u.usage_date) AS last_usage_date
    FROM openai.usage AS u
    JOIN window_bounds AS w
        ON u.usage_date BETWEEN w.window_start AND w.as_of
    WHERE u.api_key_id IS NOT NULL
    GROUP BY ALL
),
window_costs AS (
    SELECT
        c.organization_id,
        c.api_key_id,
        SUM(c.cost_usd) AS cost_usd
    FROM key_daily_costs AS c
    JOIN window_bounds AS w
        ON c.cost_date BETWEEN w.window_start AND w.as_of
    GROUP BY ALL
),
window_billing_days AS (
    SELECT DISTINCT
        c.organization_id,
        c.cost_date
    FROM openai.costs AS c
    JOIN window_bounds AS w
        ON c.cost_date BETWEEN w.window_start AND w.as_of
),
window_key_cost_days AS (
    SELECT DISTINCT
        c.organization_id,
        c.cost_date
    FROM openai.api_key_costs AS c
    JOIN window_bounds AS w
        ON c.cost_date BETWEEN w.window_start AND w.as_of
),
window_cost_basis AS (
    SELECT
        b.organization_id,
        CASE
            WHEN COUNT(k.cost_date) = 0 THEN 'allocated_by_token_share'
            WHEN COUNT(k.cost_date) = COUNT(*) THEN 'billed_per_key'
            ELSE 'mixed'
        END AS cost_basis
    FROM window_billing_days AS b
    LEFT JOIN window_key_cost_days AS k
        ON k.organization_id = b.organization_id
        AND k.cost_date = b.cost_date
    GROUP BY ALL
)
SELECT
    k.organization_id,
    k.api_key_id,
    k.name AS key_name,
    k.redacted_value,
    k.project_id,
    p.name AS project_name,
    k.owner_type,
    k.owner_id,
    k.owner_email,
    k.owner_name,
    k.created_at,
    k.last_used_at,
    coalesce(t.has_active_token, FALSE) AS registered,
    t.dev_token_id,
    t.dev_token_status,
    t.token_match_rule,
    CASE
        WHEN t.has_active_token THEN 'registered'
        WHEN t.dev_token_id IS NOT NULL THEN 'registered_revoked'
        WHEN u.api_key_id IS NOT NULL THEN 'bypass_active'
        ELSE 'bypass_dormant'
    END AS status,
    w.window_start,
    w.as_of,
    coalesce(u.input_tokens, 0) AS input_tokens,
    coalesce(u.output_tokens, 0) AS output_tokens,
    coalesce(u.requests, 0) AS requests,
    u.last_usage_date,
    CAST(coalesce(c.cost_usd, 0) AS DECIMAL(18, 9)) AS cost_usd,
    coalesce(b.cost_basis, 'allocated_by_token_share') AS cost_basis
FROM listed_keys AS k
CROSS JOIN window_bounds AS w
LEFT JOIN openai.projects AS p
    ON p.organization_id = k.organization_id
    AND p.project_id = k.project_id
LEFT JOIN chosen_tokens AS t
    ON t.organization_id = k.organization_id
    AND t.api_key_id = k.api_key_id
LEFT JOIN window_usage AS u
    ON u.organization_id = k.organization_id
    AND u.api_key_id = k.api_key_id
LEFT JOIN window_costs AS c
    ON c.organization_id = k.organization_id
    AND c.api_key_id = k.api_key_id
LEFT JOIN window_cost_basis AS b
    ON b.organization_id = k.organization_id
ORDER BY
    k.organization_id,
    k.api_key_id
