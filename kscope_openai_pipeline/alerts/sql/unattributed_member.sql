-- Findings of kind unattributed_member: organization members who, on the last day of
-- sightlines.seat_governance_daily, cannot be attributed to an active engineer of the
-- Kscope Asset Registry. Reads sightlines.seat_governance_daily (members, not invites).
--
-- Rules:
-- - Open: the member's row on the table's last day has attributed = FALSE. Resolved when
--   attributed (an engineer added) or no longer a member.
-- - first_seen_date: the day after the member's last attributed day, else the member's
--   first day in the table (unattributed since joining, or since the range began).
-- - details: e-mail, name, role, when they joined, the reason (no_registry_match or
--   engineer_departed) and the engineer matched, if departed.
WITH
last_days AS (
    SELECT
        organization_id,
        MAX(day) AS as_of
    FROM sightlines.seat_governance_daily
    GROUP BY ALL
),
unattributed_now AS (
    SELECT
        g.*
    FROM sightlines.seat_governance_daily AS g
    JOIN last_days AS l
        ON l.organization_id = g.organization_id
        AND l.as_of = g.day
    WHERE NOT g.attributed
),
history AS (
    SELECT
        g.organization_id,
        g.member_id,
        MAX(g.day) FILTER (WHERE g.attributed) AS last_attributed_day,
        MIN(g.day) AS first_day
    FROM sightlines.seat_governance_daily AS g
    SEMI JOIN unattributed_now AS u
        ON u.organization_id = g.organization_id
        AND u.member_id = g.member_id
    GROUP BY ALL
)
SELECT
    u.organization_id,
    u.member_id AS subject,
    coalesce(h.last_attributed_day + 1, h.first_day) AS first_seen_date,
    CAST(json_object(
        'member_id', u.member_id,
        'email', u.email,
        'name', u.name,
        'role', u.role,
        'joined_at', u.joined_at,
        'reason', u.reason,
        'engineer_id', u.engineer_id,
        'as_of', u.day
    ) AS VARCHAR) AS details
FROM unattributed_now AS u
JOIN history AS h
    ON h.organization_id = u.organization_id
    AND h.member_id = u.member_id
ORDER BY
    u.organization_id,
    subject
