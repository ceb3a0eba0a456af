-- sightlines.seat_governance_daily: every organization member on every day of
-- [$start_date, $end_date], attributed to a Kscope engineer as the Asset Registry stood
-- THAT day. Reads the TEMP tables daily_members (daily_members.sql: who was a member that
-- day, with that day's e-mail) and email_matches (email_matches.sql: the match rules), and
-- sightlines.seat_allocation for each member's seat cost that day.
--
-- Rules:
-- - Rows: the day's members (removed members on the days before their removal included;
--   pending invites hold no seat and are in seat_governance only).
-- - An engineer is active on day D when departed_on is after D, or, without departed_on,
--   when their status is 'active' (a departed engineer with no recorded day is departed
--   on every day).
-- - As in seat_governance: the first rule under which an engineer active that day matches
--   attributes the member (smallest engineer_id on ties); otherwise the first match of an
--   engineer departed by then gives reason engineer_departed; else no_registry_match.
-- - seat_usd: the member's seat_allocation rows of that day (0 when none).
WITH
candidate_matches AS (
    SELECT
        m.organization_id,
        m.day,
        m.user_id AS member_id,
        x.engineer_id,
        CASE
            WHEN e.departed_on IS NOT NULL THEN
                CASE WHEN m.day < e.departed_on THEN 'active' ELSE 'departed' END
            ELSE e.status
        END AS engineer_status,
        x.rule_rank,
        x.match_rule
    FROM daily_members AS m
    JOIN email_matches AS x
        ON x.organization_id = m.organization_id
        AND x.address = trim(m.email)
    JOIN kscope.engineers AS e
        ON e.organization_id = x.organization_id
        AND e.engineer_id = x.engineer_id
),
best_matches AS (
    SELECT
        *
    FROM candidate_matches
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY organization_id, day, member_id
        ORDER BY engineer_status = 'active' DESC, rule_rank, engineer_id
    ) = 1
),
day_seat_costs AS (
    SELECT
        organization_id,
        cost_date AS day,
        user_id AS member_id,
        SUM(allocated_usd) AS seat_usd
    FROM sightlines.seat_allocation
    WHERE user_id IS NOT NULL
        AND cost_date BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
    GROUP BY ALL
)
SELECT
    m.organization_id,
    m.day,
    m.user_id AS member_id,
    m.email,
    m.name,
    m.role,
    m.added_at AS joined_at,
    coalesce(b.engineer_status = 'active', FALSE) AS attributed,
    b.engineer_id,
    e.email AS engineer_email,
    b.engineer_status,
    e.team,
    b.match_rule,
    CASE
        WHEN b.engineer_status = 'active' THEN NULL
        WHEN b.engineer_id IS NOT NULL THEN 'engineer_departed'
        ELSE 'no_registry_match'
    END AS reason,
    CAST(coalesce(s.seat_usd, 0) AS DECIMAL(18, 9)) AS seat_usd,
    m.source AS membership_source
FROM daily_members AS m
LEFT JOIN best_matches AS b
    ON b.organization_id = m.organization_id
    AND b.day = m.day
    AND b.member_id = m.user_id
LEFT JOIN kscope.engineers AS e
    ON e.organization_id = b.organization_id
    AND e.engineer_id = b.engineer_id
LEFT JOIN day_seat_costs AS s
    ON s.organization_id = m.organization_id
    AND s.day = m.day
    AND s.member_id = m.user_id
WHERE m.day BETWEEN CAST($start_date AS DATE) AND CAST($end_date AS DATE)
ORDER BY
    m.organization_id,
    m.day,
    m.user_id
