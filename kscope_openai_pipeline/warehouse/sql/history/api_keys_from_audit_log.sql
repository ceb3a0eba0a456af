-- openai.api_keys_history before each key's first listing, from the audit log: the rows
-- with source 'audit_log' (all of them are recomputed from openai.audit_logs and the
-- snapshot versions every time either changes, so the result depends on what is stored,
-- never on the order it arrived in).
--
-- Rules:
-- - Nothing at all when the organization has no audit log stored (audit logging off):
--   history then starts at the first crawl.
-- - Keys: those of api_key.created / api_key.deleted events, and every listed key.
-- - A key exists from its api_key.created event, else (listed keys) its own created_at,
--   else (a deletion is all the log holds) the first day the log covers.
-- - It ends at its first listing, or at an api_key.deleted event before that (then a
--   removal version, deleted = TRUE, runs to the first listing or stays current), or, for
--   a key never listed and never seen deleted that existed before the first crawl, at the
--   first crawl (which did not list it).
-- - Values: the key's first listed version (keys do not change project, owner or name in
--   OpenAI), else what the events say: project_id, key_kind 'project' when the event
--   names a project ('admin' otherwise), created_at = the creation event; no owner (the
--   log names who created a key, not who owns it). last_used_at is never back-filled.
WITH
coverage AS (
    SELECT
        CAST(MIN(event_date) AS TIMESTAMP) AS first_moment
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
),
first_crawl AS (
    SELECT
        MIN(valid_from) AS crawled_at
    FROM openai.api_keys_history
    WHERE organization_id = $organization_id
        AND source = 'snapshot'
),
events AS (
    SELECT
        target_id AS api_key_id,
        event_type,
        effective_at,
        project_id
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
        AND event_type IN ('api_key.created', 'api_key.deleted')
        AND target_id IS NOT NULL
),
first_listing AS (
    SELECT
        *
    FROM openai.api_keys_history
    WHERE organization_id = $organization_id
        AND source = 'snapshot'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY api_key_id ORDER BY valid_from) = 1
),
event_facts AS (
    SELECT
        api_key_id,
        MIN(effective_at) FILTER (WHERE event_type = 'api_key.created') AS created_event_at,
        ARG_MIN(project_id, effective_at) AS event_project_id
    FROM events
    GROUP BY ALL
),
keys AS (
    SELECT api_key_id FROM events
    UNION
    SELECT api_key_id FROM first_listing
),
lives AS (
    SELECT
        k.api_key_id,
        f.valid_from AS listed_from,
        coalesce(e.created_event_at, f.created_at, v.first_moment) AS live_from,
        e.created_event_at,
        e.event_project_id,
        f.api_key_id IS NOT NULL AS listed
    FROM keys AS k
    CROSS JOIN coverage AS v
    LEFT JOIN first_listing AS f
        ON f.api_key_id = k.api_key_id
    LEFT JOIN event_facts AS e
        ON e.api_key_id = k.api_key_id
    WHERE v.first_moment IS NOT NULL
),
ends AS (
    SELECT
        l.*,
        (
            SELECT MIN(d.effective_at)
            FROM events AS d
            WHERE d.api_key_id = l.api_key_id
                AND d.event_type = 'api_key.deleted'
                AND d.effective_at >= l.live_from
                AND (l.listed_from IS NULL OR d.effective_at < l.listed_from)
        ) AS deleted_at
    FROM lives AS l
),
spans AS (
    SELECT
        e.*,
        CASE
            WHEN e.deleted_at IS NOT NULL THEN e.deleted_at
            WHEN e.listed THEN e.listed_from
            WHEN c.crawled_at > e.live_from THEN c.crawled_at
        END AS live_to,
        CASE
            WHEN e.deleted_at IS NOT NULL THEN e.deleted_at
            WHEN NOT e.listed AND c.crawled_at > e.live_from THEN c.crawled_at
        END AS removed_from
    FROM ends AS e
    CROSS JOIN first_crawl AS c
),
versions AS (
    SELECT
        api_key_id, live_from AS valid_from, live_to AS valid_to, FALSE AS deleted
    FROM spans
    WHERE live_to IS NULL OR live_to > live_from
    UNION ALL
    SELECT
        api_key_id, removed_from, listed_from, TRUE
    FROM spans
    WHERE removed_from IS NOT NULL
        AND (listed_from IS NULL OR listed_from > removed_from)
)
SELECT
    CAST($organization_id AS VARCHAR) AS organization_id,
    v.api_key_id,
    CASE
        WHEN f.api_key_id IS NOT NULL THEN f.key_kind
        WHEN s.event_project_id IS NOT NULL THEN 'project'
        ELSE 'admin'
    END AS key_kind,
    coalesce(f.project_id, s.event_project_id) AS project_id,
    f.name,
    f.redacted_value,
    f.owner_type,
    f.owner_id,
    f.owner_email,
    f.owner_name,
    coalesce(f.created_at, s.created_event_at) AS created_at,
    CAST(NULL AS TIMESTAMP) AS last_used_at,
    v.valid_from,
    v.valid_to,
    v.deleted,
    'audit_log' AS source
FROM versions AS v
JOIN spans AS s
    ON s.api_key_id = v.api_key_id
LEFT JOIN first_listing AS f
    ON f.api_key_id = v.api_key_id
ORDER BY
    v.api_key_id,
    v.valid_from
