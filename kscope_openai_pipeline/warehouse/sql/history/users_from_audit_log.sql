-- openai.users_history before each member's first listing, from the audit log (the rows
-- with source 'audit_log', recomputed from what is stored every time, like the keys').
--
-- Rules:
-- - Nothing at all when the organization has no audit log stored (history then starts
--   at the first crawl).
-- - Members: those of user.added / user.deleted events, and every listed member.
-- - A member exists from their user.added event, else (listed) their own added_at, else
--   (only a removal is stored) the first day the log covers; and ends at their first
--   listing, or at a user.deleted event before it (then a removal version follows, up to
--   the first listing or current), or, never listed nor seen removed but a member before
--   the first crawl, at the first crawl.
-- - Values: the first listed version's, else: email = the e-mail the log's events carry
--   for that user as actor (the latest one), role = the user.added event's data.role
--   ('owner' or 'member', the log's words), added_at = the user.added event, no name.
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
    FROM openai.users_history
    WHERE organization_id = $organization_id
        AND source = 'snapshot'
),
events AS (
    SELECT
        target_id AS user_id,
        event_type,
        effective_at,
        json_extract_string(details, '$.data.role') AS role
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
        AND event_type IN ('user.added', 'user.deleted')
        AND target_id IS NOT NULL
),
actor_emails AS (
    SELECT
        actor_user_id AS user_id,
        ARG_MAX(actor_email, effective_at) AS email
    FROM openai.audit_logs
    WHERE organization_id = $organization_id
        AND actor_user_id IS NOT NULL
        AND actor_email IS NOT NULL
        AND actor_email <> ''
    GROUP BY ALL
),
first_listing AS (
    SELECT
        *
    FROM openai.users_history
    WHERE organization_id = $organization_id
        AND source = 'snapshot'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY valid_from) = 1
),
event_facts AS (
    SELECT
        user_id,
        MIN(effective_at) FILTER (WHERE event_type = 'user.added') AS added_event_at,
        ARG_MIN(role, effective_at) FILTER (WHERE event_type = 'user.added') AS added_role
    FROM events
    GROUP BY ALL
),
members AS (
    SELECT user_id FROM events
    UNION
    SELECT user_id FROM first_listing
),
lives AS (
    SELECT
        m.user_id,
        f.valid_from AS listed_from,
        coalesce(e.added_event_at, f.added_at, v.first_moment) AS live_from,
        e.added_event_at,
        e.added_role,
        f.user_id IS NOT NULL AS listed
    FROM members AS m
    CROSS JOIN coverage AS v
    LEFT JOIN first_listing AS f
        ON f.user_id = m.user_id
    LEFT JOIN event_facts AS e
        ON e.user_id = m.user_id
    WHERE v.first_moment IS NOT NULL
),
ends AS (
    SELECT
        l.*,
        (
            SELECT MIN(d.effective_at)
            FROM events AS d
            WHERE d.user_id = l.user_id
                AND d.event_type = 'user.deleted'
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
        user_id, live_from AS valid_from, live_to AS valid_to, FALSE AS deleted
    FROM spans
    WHERE live_to IS NULL OR live_to > live_from
    UNION ALL
    SELECT
        user_id, removed_from, listed_from, TRUE
    FROM spans
    WHERE removed_from IS NOT NULL
        AND (listed_from IS NULL OR listed_from > removed_from)
)
SELECT
    CAST($organization_id AS VARCHAR) AS organization_id,
    v.user_id,
    coalesce(f.email, a.email) AS email,
    f.name,
    CASE WHEN f.user_id IS NOT NULL THEN f.role ELSE s.added_role END AS role,
    coalesce(f.added_at, s.added_event_at) AS added_at,
    v.valid_from,
    v.valid_to,
    v.deleted,
    'audit_log' AS source
FROM versions AS v
JOIN spans AS s
    ON s.user_id = v.user_id
LEFT JOIN first_listing AS f
    ON f.user_id = v.user_id
LEFT JOIN actor_emails AS a
    ON a.user_id = v.user_id
ORDER BY
    v.user_id,
    v.valid_from
