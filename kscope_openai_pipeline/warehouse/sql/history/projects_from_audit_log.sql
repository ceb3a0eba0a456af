-- openai.projects_history before each project's first listing, from the audit log (the
-- rows with source 'audit_log', recomputed from what is stored every time).
--
-- Rules:
-- - Nothing at all when the organization has no audit log stored.
-- - Projects: those of project.created / project.archived events, and every listed one
--   (projects are never deleted; the crawl lists archived ones too).
-- - A project exists from its project.created event, else its own created_at, else the
--   first day the log covers; it is 'active' until its archival (the project.archived
--   event, else its own archived_at) and 'archived' from then on, up to its first
--   listing (or current, for a project no crawl has listed yet).
-- - Values: the first listed version's name and created_at, else the created event's
--   data.name; archived_at is set on the archived version only.
WITH
coverage AS (
    SELECT
        CAST(MIN(event_date) AS TIMESTAMP) AS first_moment
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
),
events AS (
    SELECT
        target_id AS project_id,
        event_type,
        effective_at,
        json_extract_string(details, '$.data.name') AS name
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
        AND event_type IN ('project.created', 'project.archived')
        AND target_id IS NOT NULL
),
first_listing AS (
    SELECT
        *
    FROM openai.projects_history
    WHERE organization_id = $organization_id
        AND source = 'snapshot'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY valid_from) = 1
),
event_facts AS (
    SELECT
        project_id,
        MIN(effective_at) FILTER (WHERE event_type = 'project.created') AS created_event_at,
        ARG_MIN(name, effective_at) FILTER (WHERE event_type = 'project.created') AS name,
        MIN(effective_at) FILTER (WHERE event_type = 'project.archived') AS archived_event_at
    FROM events
    GROUP BY ALL
),
projects AS (
    SELECT project_id FROM events
    UNION
    SELECT project_id FROM first_listing
),
spans AS (
    SELECT
        p.project_id,
        f.valid_from AS listed_from,
        coalesce(e.created_event_at, f.created_at, v.first_moment) AS live_from,
        coalesce(e.archived_event_at, f.archived_at) AS archived_at,
        coalesce(f.created_at, e.created_event_at) AS created_at,
        coalesce(f.name, e.name) AS name
    FROM projects AS p
    CROSS JOIN coverage AS v
    LEFT JOIN first_listing AS f
        ON f.project_id = p.project_id
    LEFT JOIN event_facts AS e
        ON e.project_id = p.project_id
    WHERE v.first_moment IS NOT NULL
),
bounded AS (
    SELECT
        *,
        CASE
            WHEN archived_at IS NOT NULL
                AND archived_at >= live_from
                AND (listed_from IS NULL OR archived_at < listed_from)
                THEN archived_at
        END AS archived_from
    FROM spans
),
versions AS (
    SELECT
        project_id,
        live_from AS valid_from,
        coalesce(archived_from, listed_from) AS valid_to,
        'active' AS status,
        CAST(NULL AS TIMESTAMP) AS archived_at
    FROM bounded
    WHERE coalesce(archived_from, listed_from) IS NULL
        OR coalesce(archived_from, listed_from) > live_from
    UNION ALL
    SELECT
        project_id,
        archived_from,
        listed_from,
        'archived',
        archived_from
    FROM bounded
    WHERE archived_from IS NOT NULL
        AND (listed_from IS NULL OR listed_from > archived_from)
)
SELECT
    CAST($organization_id AS VARCHAR) AS organization_id,
    v.project_id,
    b.name,
    v.status,
    b.created_at,
    v.archived_at,
    v.valid_from,
    v.valid_to,
    FALSE AS deleted,
    'audit_log' AS source
FROM versions AS v
JOIN bounded AS b
    ON b.project_id = v.project_id
ORDER BY
    v.project_id,
    v.valid_from
