-- Findings of kind new_bypass_key: keys whose traffic bypasses the gateway now, from the
-- day their current bypass began. Reads sightlines.gateway_bypass_daily (the daily
-- ledger: a key's Dev Token status on each day it had usage or cost).
--
-- Rules:
-- - Open: the key's latest ledger row up to $as_of has bypass = TRUE (no token active that
--   day: unregistered, or only revoked tokens). A key registered since then is resolved.
--   Keys of any kind are included, deleted ones too (their traffic still bypasses).
-- - first_seen_date: the key's first bypass day after its last registered day (its
--   first ledger day when it was never registered): a key whose token is revoked becomes
--   a new bypass key on the day after.
-- - details: the latest row's owner and project, who created the key and when (the audit
--   log, when stored), that first day, its token status now, the days and spend since.
-- Speed (a year of a large organization's ledger is ~550k rows): the ledger is read where
-- it is used rather than stored once for its three readers (NOT MATERIALIZED), and each
-- key's latest row is taken with arg_max in a hash aggregate instead of a window that
-- sorts every row with all its columns.
WITH
ledger AS NOT MATERIALIZED (
    SELECT
        *
    FROM sightlines.gateway_bypass_daily
    WHERE usage_date <= CAST($as_of AS DATE)
),
latest AS (
    SELECT
        unnest(arg_max(l, l.usage_date))
    FROM ledger AS l
    GROUP BY
        l.organization_id,
        l.api_key_id
),
last_registered AS (
    SELECT
        organization_id,
        api_key_id,
        MAX(usage_date) AS last_registered_day
    FROM ledger
    WHERE NOT bypass
    GROUP BY ALL
),
episodes AS (
    SELECT
        l.organization_id,
        l.api_key_id,
        MIN(l.usage_date) AS first_bypass_day,
        COUNT(*) AS days,
        SUM(l.cost_usd) AS spend_usd
    FROM ledger AS l
    LEFT JOIN last_registered AS r
        ON r.organization_id = l.organization_id
        AND r.api_key_id = l.api_key_id
    WHERE l.bypass
        AND (r.last_registered_day IS NULL OR l.usage_date > r.last_registered_day)
    GROUP BY ALL
)
SELECT
    k.organization_id,
    k.api_key_id AS subject,
    e.first_bypass_day AS first_seen_date,
    CAST(json_object(
        'api_key_id', k.api_key_id,
        'key_kind', k.key_kind,
        'project_id', k.project_id,
        'project_name', k.project_name,
        'owner_type', k.owner_type,
        'owner_id', k.owner_id,
        'owner_email', k.owner_email,
        'key_created_at', k.key_created_at,
        'key_created_by', k.key_created_by,
        'token_status', k.token_status,
        'first_bypass_day', e.first_bypass_day,
        'last_day', k.usage_date,
        'days', e.days,
        'spend_usd', e.spend_usd
    ) AS VARCHAR) AS details
FROM latest AS k
JOIN episodes AS e
    ON e.organization_id = k.organization_id
    AND e.api_key_id = k.api_key_id
WHERE k.bypass
ORDER BY
    k.organization_id,
    subject
