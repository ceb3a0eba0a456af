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
address_candidates AS (
    SELECT
        x.*,
        e.status,
        e.departed_on
    FROM email_matches AS x
    JOIN kscope.engineers AS e
        ON e.organization_id = x.organization_id
        AND e.engineer_id = x.engineer_id
),
dated_addresses AS (
    -- addresses matching an engineer with a departure day: their answer depends on the day
    SELECT DISTINCT
        organization_id,
        address
    FROM address_candidates
    WHERE departed_on IS NOT NULL
),
timeless_best AS (
    -- every other address has one answer for every day (computed once, not per day)
    SELECT
        c.organization_id,
        c.address,
        c.engineer_id,
        c.status AS engineer_status,
        c.match_rule
    FROM address_candidates AS c
    ANTI JOIN dated_addresses AS d
        ON d.organization_id = c.organization_id
        AND d.address = c.address
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY c.organization_id, c.address
        ORDER BY c.status = 'active' DESC, c.rule_rank, c.engineer_id
    ) = 1
),
dated_best AS (
    SELECT
        m.organization_id,
        m.day,
        m.user_id AS member_id,
        c.engineer_id,
        CASE
            WHEN c.departed_on IS NOT NULL THEN
                CASE WHEN m.day < c.departed_on THEN 'active' ELSE 'departed' END
            ELSE c.status
        END AS engineer_status,
        c.match_rule
    FROM daily_members AS m
    SEMI JOIN dated_addresses AS d
        ON d.organization_id = m.organization_id
        AND d.address = trim(m.email)
    JOIN address_candidates AS c
        ON c.organization_id = m.organization_id
        AND c.address = trim(m.email)
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY m.organization_id, m.day, m.user_id
        ORDER BY engineer_status = 'active' DESC, c.rule_rank, c.engineer_id
    ) = 1
),
best_matches AS (
    SELECT
        m.organization_id,
        m.day,
        m.user_id AS member_id,
        coalesce(d.engineer_id, t.engineer_id) AS engineer_id,
        coalesce(d.engineer_status, t.engineer_status) AS engineer_status,
        coalesce(d.match_rule, t.match_rule) AS match_rule
    FROM daily_members AS m
    LEFT JOIN timeless_best AS t
        ON t.organization_id = m.organization_id
        AND t.address = trim(m.email)
    LEFT JOIN dated_best AS d
        ON d.organization_id = m.organization_id
        AND d.day = m.day
        AND d.member_id = m.user_id
    WHERE t.engineer_id IS NOT NULL
        OR d.engineer_id IS NOT NULL
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
