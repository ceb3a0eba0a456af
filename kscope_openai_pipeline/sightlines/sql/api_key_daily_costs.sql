-- Cost of every API key per day over [$start_date, $end_date] (both inclusive): the
-- building block of gateway_bypass (window cost) and gateway_bypass_daily (each day's cost,
-- which billing_reconciliation sums for the keys that bypassed the gateway that day).
-- Loaded once per run into the TEMP table key_daily_costs by runner.py; not a warehouse
-- table. A day's costs depend on that day's rows alone, so any range gives the same days.
--
-- Rules:
-- 1. A day is "covered" when openai.api_key_costs has any row for it (the Costs API's
--    group_by=api_key_id, available from 2025-12-06). On a covered day a key's cost is its
--    billed rows, cost_basis 'billed_per_key' (no row = it cost nothing that day).
-- 2. On a day that is not covered, the day's project x model costs are allocated to the keys
--    by token share, cost_basis 'allocated_by_token_share':
--    - a cost line item belongs to the model named before its first ', '
--      ('gpt-4o-2024-08-06, cached input' -> 'gpt-4o-2024-08-06'); lines naming no model
--      used that day in that project (seats, vector storage, tool calls) are not allocated;
--    - a key's weight in (day, project, model) is its input_tokens + output_tokens in
--      openai.usage; when the project x model has no tokens that day (images, audio),
--      the weight is num_model_requests;
--    - part = floor(cost_nanos x weight / total_weight) whole nano-dollars; the residue
--      (fewer nanos than keys) goes to the key with the largest remainder (ties: the
--      greatest api_key_id), so the parts sum to the cost exactly. Traffic without a key
--      (api_key_id NULL) takes its share too, which is then left out (it belongs to no key).
--
-- Why this shape (speed at 10M usage rows, the same numbers):
-- - allocation_usage is NOT MATERIALIZED: read twice, it is cheaper to scan openai.usage
--   twice than to buffer its 10M rows (and the buffered copy loses the column statistics
--   that let DuckDB hash short strings as integers).
-- - each (day, project, model) to allocate gets a number, model_day_id; the raw usage rows
--   are joined to it once, so the per-key sums, the join back to the cost and the residue
--   are keyed by one BIGINT instead of four text columns.
WITH
covered_days AS (
    SELECT DISTINCT
        organization_id,
        cost_date
    FROM openai.api_key_costs
    WHERE cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
),
billed_key_days AS (
    SELECT
        organization_id,
        cost_date,
        api_key_id,
        SUM(amount_usd) AS cost_usd
    FROM openai.api_key_costs
    WHERE cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
        AND api_key_id IS NOT NULL
    GROUP BY ALL
),
allocation_usage AS NOT MATERIALIZED (
    SELECT
        u.organization_id,
        u.usage_date AS cost_date,
        u.project_id,
        u.model,
        u.api_key_id,
        u.input_tokens + u.output_tokens AS tokens,
        u.num_model_requests AS requests
    FROM openai.usage AS u
    ANTI JOIN covered_days AS c
        ON c.organization_id = u.organization_id
        AND c.cost_date = u.usage_date
    WHERE u.usage_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
        AND u.model IS NOT NULL
),
project_model_usage AS (
    SELECT
        organization_id,
        cost_date,
        project_id,
        model,
        SUM(tokens) AS tokens,
        SUM(requests) AS requests
    FROM allocation_usage
    GROUP BY ALL
),
uncovered_model_costs AS (
    SELECT
        c.organization_id,
        c.cost_date,
        c.project_id,
        split_part(c.line_item, ', ', 1) AS model,
        CAST(CAST(SUM(c.amount_usd) AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS cost_nanos
    FROM openai.costs AS c
    ANTI JOIN covered_days AS d
        ON d.organization_id = c.organization_id
        AND d.cost_date = c.cost_date
    WHERE c.cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
        AND c.line_item IS NOT NULL
    GROUP BY ALL
),
allocated_model_costs AS (
    -- one row per (day, project, model) to allocate, numbered for the joins below
    SELECT
        row_number() OVER () AS model_day_id,
        t.organization_id,
        t.cost_date,
        t.project_id,
        t.model,
        m.cost_nanos,
        t.tokens > 0 AS by_tokens,
        CASE WHEN t.tokens > 0 THEN t.tokens ELSE t.requests END AS total_weight
    FROM project_model_usage AS t
    JOIN uncovered_model_costs AS m
        ON m.organization_id = t.organization_id
        AND m.cost_date = t.cost_date
        AND m.project_id IS NOT DISTINCT FROM t.project_id
        AND m.model = t.model
    WHERE t.tokens > 0 OR t.requests > 0
),
uncovered_key_model_usage AS (
    -- a key's weight in its (day, project, model): the sum over its usage rows (batch,
    -- service tier, ...) before any rounding, as the rules require
    SELECT
        m.model_day_id,
        u.api_key_id,
        SUM(CASE WHEN m.by_tokens THEN u.tokens ELSE u.requests END) AS weight
    FROM allocation_usage AS u
    JOIN allocated_model_costs AS m
        ON m.organization_id = u.organization_id
        AND m.cost_date = u.cost_date
        AND m.project_id IS NOT DISTINCT FROM u.project_id
        AND m.model = u.model
    GROUP BY ALL
),
allocation_estimates AS (
    -- the quotient estimated in DOUBLE (fast), corrected exactly below
    SELECT
        m.organization_id,
        m.cost_date,
        m.model_day_id,
        k.api_key_id,
        m.total_weight,
        m.cost_nanos,
        m.cost_nanos * k.weight AS numerator,
        CAST(
            floor(CAST(m.cost_nanos AS DOUBLE) * k.weight / m.total_weight) AS HUGEINT
        ) AS estimate
    FROM uncovered_key_model_usage AS k
    JOIN allocated_model_costs AS m
        ON m.model_day_id = k.model_day_id
),
allocation_shares AS (
    -- base_nanos = floor(numerator / total_weight), exactly
    SELECT
        *,
        CASE
            WHEN numerator - estimate * total_weight < 0
                THEN estimate - (estimate * total_weight - numerator + total_weight - 1) // total_weight
            WHEN numerator - estimate * total_weight >= total_weight
                THEN estimate + (numerator - estimate * total_weight) // total_weight
            ELSE estimate
        END AS base_nanos
    FROM allocation_estimates
),
allocation_residues AS (
    SELECT
        model_day_id,
        ANY_VALUE(organization_id) AS organization_id,
        ANY_VALUE(cost_date) AS cost_date,
        ANY_VALUE(cost_nanos) - SUM(base_nanos) AS residue_nanos,
        ARG_MAX(
            api_key_id,
            struct_pack(r := numerator - base_nanos * total_weight, k := coalesce(api_key_id, ''))
        ) AS residue_api_key_id
    FROM allocation_shares
    GROUP BY model_day_id
),
allocated_parts AS (
    SELECT
        organization_id,
        cost_date,
        api_key_id,
        base_nanos AS nanos
    FROM allocation_shares
    UNION ALL
    SELECT
        organization_id,
        cost_date,
        residue_api_key_id,
        residue_nanos
    FROM allocation_residues
    WHERE residue_nanos <> 0
),
allocated_key_days AS (
    SELECT
        organization_id,
        cost_date,
        api_key_id,
        SUM(nanos) AS cost_nanos
    FROM allocated_parts
    WHERE api_key_id IS NOT NULL
    GROUP BY ALL
)
SELECT
    organization_id,
    cost_date,
    api_key_id,
    CAST(cost_usd AS DECIMAL(18, 9)) AS cost_usd,
    'billed_per_key' AS cost_basis
FROM billed_key_days
UNION ALL
SELECT
    organization_id,
    cost_date,
    api_key_id,
    CAST(CAST(cost_nanos AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(18, 9))
        AS DECIMAL(18, 9)) AS cost_usd,
    'allocated_by_token_share' AS cost_basis
FROM allocated_key_days
