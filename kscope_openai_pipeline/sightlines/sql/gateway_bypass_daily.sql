-- sightlines.gateway_bypass_daily: every key on every day of [$start_date, $end_date] it
-- had usage or cost, judged by what was true THAT day. Reads the TEMP table
-- key_daily_costs (api_key_daily_costs.sql) for each day's cost.
--
-- Rules:
-- - Rows: (day, key) with openai.usage rows of the key or a key_daily_costs row. Deleted
--   keys are included (their usage and costs keep the key's id).
-- - input_tokens, output_tokens, requests (num_model_requests): that day's openai.usage.
-- - cost_usd, cost_basis: that day's key_daily_costs (0 and the day's basis when none).
-- - Token match as in gateway_bypass: kscope.dev_tokens of provider 'openai' with
--   provider_key_id = api_key_id; only when no token carries the key's id, tokens without
--   one whose provider_key_redacted equals the key's redacted value (any recorded version).
-- - token_status that day: 'registered' when a matched token was active at some moment
--   of the UTC day (created_at before the day's end, and revoked_at NULL or not before
--   the day's start; a 'revoked' token without revoked_at never counts as active);
--   'registered_revoked' when matched tokens created before the day's end exist but none
--   was active; 'unregistered' when no matched token existed yet.
-- - bypass = token_status <> 'registered'. dev_token_id: the token active that day (the
--   latest created), else the latest created before the day's end.
-- - Key, owner, project: the openai.api_keys_history version valid at some moment of the
--   day (the latest); a day outside the key's recorded history takes its nearest version
--   (a key's kind, project and owner never change in OpenAI). project_id falls back to
--   the usage's project; project_name is the openai.projects_history name that day, else
--   the current one.
-- - key_created_at: the history's created_at, else the api_key.created event's time;
--   key_created_by: that event's actor e-mail, else its service account (NULL without it).
WITH
key_day_usage AS (
    SELECT
        organization_id,
        usage_date,
        api_key_id,
        SUM(input_tokens) AS input_tokens,
        SUM(output_tokens) AS output_tokens,
        SUM(num_model_requests) AS requests,
        MIN(project_id) AS usage_project_id
    FROM openai.usage
    WHERE api_key_id IS NOT NULL
        AND usage_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
    GROUP BY ALL
),
key_day_costs AS (
    -- key_daily_costs holds one row per (organization, day, key) already (a day is either
    -- billed per key or allocated, never both), so no second GROUP BY over its rows
    SELECT
        organization_id,
        cost_date AS usage_date,
        api_key_id,
        cost_usd,
        cost_basis
    FROM key_daily_costs
    WHERE cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
),
day_bases AS (
    SELECT DISTINCT
        organization_id,
        cost_date AS usage_date,
        'billed_per_key' AS cost_basis
    FROM openai.api_key_costs
    WHERE cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
),
key_days AS (
    SELECT
        coalesce(u.organization_id, c.organization_id) AS organization_id,
        coalesce(u.usage_date, c.usage_date) AS usage_date,
        coalesce(u.api_key_id, c.api_key_id) AS api_key_id,
        CAST(coalesce(u.usage_date, c.usage_date) AS TIMESTAMP) AS day_start,
        CAST(coalesce(u.usage_date, c.usage_date) AS TIMESTAMP) + INTERVAL 1 DAY AS day_end,
        u.input_tokens,
        u.output_tokens,
        u.requests,
        u.usage_project_id,
        c.cost_usd,
        c.cost_basis
    FROM key_day_usage AS u
    FULL JOIN key_day_costs AS c
        ON c.organization_id = u.organization_id
        AND c.usage_date = u.usage_date
        AND c.api_key_id = u.api_key_id
),
key_values AS (
    -- a key's recorded values, versions with the same values collapsed (nearly always one)
    SELECT
        organization_id,
        api_key_id,
        key_kind,
        project_id,
        owner_type,
        owner_id,
        owner_email,
        created_at,
        MIN(valid_from) AS first_from,
        MAX(coalesce(valid_to, CAST('infinity' AS TIMESTAMP))) AS last_to
    FROM openai.api_keys_history
    GROUP BY ALL
),
key_profiles AS (
    SELECT
        *,
        COUNT(*) OVER (PARTITION BY organization_id, api_key_id) AS profiles
    FROM key_values
),
key_versions AS (
    SELECT
        p.*
    FROM key_profiles AS p
    WHERE p.profiles = 1
),
changing_key_versions AS (
    -- the rare keys whose recorded values changed: the values of that day
    SELECT
        d.organization_id,
        d.usage_date,
        p.*
    FROM key_days AS d
    JOIN key_profiles AS p
        ON p.organization_id = d.organization_id
        AND p.api_key_id = d.api_key_id
        AND p.profiles > 1
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY d.organization_id, d.usage_date, d.api_key_id
        ORDER BY
            p.first_from < d.day_end AND p.last_to > d.day_start DESC,
            p.first_from >= d.day_end DESC,
            CASE WHEN p.first_from >= d.day_end THEN p.first_from END ASC,
            p.first_from DESC
    ) = 1
),
openai_dev_tokens AS (
    SELECT
        *
    FROM kscope.dev_tokens
    WHERE lower(provider) = 'openai'
),
tokens_by_key_id AS (
    SELECT
        organization_id,
        provider_key_id AS api_key_id,
        dev_token_id,
        status,
        created_at,
        revoked_at
    FROM openai_dev_tokens
    WHERE provider_key_id IS NOT NULL
),
key_redacted_values AS (
    SELECT DISTINCT
        organization_id,
        api_key_id,
        redacted_value
    FROM openai.api_keys_history
    WHERE redacted_value IS NOT NULL
),
tokens_by_redacted_value AS (
    SELECT
        k.organization_id,
        k.api_key_id,
        t.dev_token_id,
        t.status,
        t.created_at,
        t.revoked_at
    FROM key_redacted_values AS k
    JOIN openai_dev_tokens AS t
        ON t.organization_id = k.organization_id
        AND t.provider_key_redacted = k.redacted_value
    ANTI JOIN tokens_by_key_id AS m
        ON m.organization_id = k.organization_id
        AND m.api_key_id = k.api_key_id
    WHERE t.provider_key_id IS NULL
),
key_tokens AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY organization_id, api_key_id ORDER BY created_at, dev_token_id
        ) AS token_rank
    FROM (
        SELECT * FROM tokens_by_key_id
        UNION
        SELECT * FROM tokens_by_redacted_value
    )
),
day_tokens AS (
    SELECT
        d.organization_id,
        d.usage_date,
        d.api_key_id,
        t.dev_token_id,
        t.token_rank,
        t.created_at < d.day_end
            AND coalesce(t.revoked_at >= d.day_start, t.status = 'active') AS active_that_day
    FROM key_days AS d
    JOIN key_tokens AS t
        ON t.organization_id = d.organization_id
        AND t.api_key_id = d.api_key_id
    WHERE t.created_at < d.day_end
),
day_statuses AS (
    SELECT
        organization_id,
        usage_date,
        api_key_id,
        BOOL_OR(active_that_day) AS registered,
        ARG_MAX(dev_token_id, CAST(active_that_day AS BIGINT) * 1000000 + token_rank)
            AS dev_token_id
    FROM day_tokens
    GROUP BY ALL
),
key_creations AS (
    SELECT
        organization_id,
        target_id AS api_key_id,
        MIN(effective_at) AS created_at,
        ARG_MIN(
            coalesce(nullif(actor_email, ''), actor_service_account_id), effective_at
        ) AS created_by
    FROM openai.audit_logs
    WHERE event_type = 'api_key.created'
        AND target_id IS NOT NULL
    GROUP BY ALL
),
project_names AS (
    SELECT
        d.organization_id,
        d.usage_date,
        h.project_id,
        h.name
    FROM (SELECT DISTINCT organization_id, usage_date, day_start, day_end FROM key_days) AS d
    JOIN openai.projects_history AS h
        ON h.organization_id = d.organization_id
        AND h.valid_from < d.day_end
        AND (h.valid_to IS NULL OR h.valid_to > d.day_start)
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY d.organization_id, d.usage_date, h.project_id
        ORDER BY h.valid_from DESC
    ) = 1
)
SELECT
    d.organization_id,
    d.usage_date,
    d.api_key_id,
    coalesce(v.key_kind, x.key_kind) AS key_kind,
    coalesce(v.project_id, x.project_id, d.usage_project_id) AS project_id,
    coalesce(n.name, p.name) AS project_name,
    coalesce(v.owner_type, x.owner_type) AS owner_type,
    coalesce(v.owner_id, x.owner_id) AS owner_id,
    coalesce(v.owner_email, x.owner_email) AS owner_email,
    coalesce(d.input_tokens, 0) AS input_tokens,
    coalesce(d.output_tokens, 0) AS output_tokens,
    coalesce(d.requests, 0) AS requests,
    CAST(coalesce(d.cost_usd, 0) AS DECIMAL(18, 9)) AS cost_usd,
    coalesce(d.cost_basis, b.cost_basis, 'allocated_by_token_share') AS cost_basis,
    CASE
        WHEN s.registered THEN 'registered'
        WHEN s.api_key_id IS NOT NULL THEN 'registered_revoked'
        ELSE 'unregistered'
    END AS token_status,
    NOT coalesce(s.registered, FALSE) AS bypass,
    s.dev_token_id,
    coalesce(v.created_at, x.created_at, k.created_at) AS key_created_at,
    k.created_by AS key_created_by
FROM key_days AS d
LEFT JOIN day_bases AS b
    ON b.organization_id = d.organization_id
    AND b.usage_date = d.usage_date
LEFT JOIN key_versions AS v
    ON v.organization_id = d.organization_id
    AND v.api_key_id = d.api_key_id
LEFT JOIN changing_key_versions AS x
    ON x.organization_id = d.organization_id
    AND x.usage_date = d.usage_date
    AND x.api_key_id = d.api_key_id
LEFT JOIN day_statuses AS s
    ON s.organization_id = d.organization_id
    AND s.usage_date = d.usage_date
    AND s.api_key_id = d.api_key_id
LEFT JOIN key_creations AS k
    ON k.organization_id = d.organization_id
    AND k.api_key_id = d.api_key_id
LEFT JOIN project_names AS n
    ON n.organization_id = d.organization_id
    AND n.usage_date = d.usage_date
    AND n.project_id = coalesce(v.project_id, x.project_id, d.usage_project_id)
LEFT JOIN openai.projects AS p
    ON p.organization_id = d.organization_id
    AND p.project_id = coalesce(v.project_id, x.project_id, d.usage_project_id)
