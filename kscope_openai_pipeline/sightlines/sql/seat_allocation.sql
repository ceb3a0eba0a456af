-- sightlines.seat_allocation: every subscription line item of openai.costs split across
-- the organization's members of that day, to the nano-dollar, summing exactly to the line.
--
-- Rules:
-- - Subscription line items: line_item ILIKE any of $subscription_patterns
--   (default '%seat%' only: 'ChatGPT%' would also match the chatgpt-4o-latest model's spend).
-- - Members of a day: the TEMP table daily_members (daily_members.sql: the users a version
--   of openai.users_history makes members at some moment of that UTC day, removed members
--   on the days before their removal included). Pending invites hold no seat yet.
-- - Each line (day, project, line item) is split evenly in whole nano-dollars: every member
--   gets amount_nanos / members truncated toward zero, and the residue (fewer nanos than
--   members) goes one nano-dollar each to the earliest members (added_at, then user_id;
--   a member whose added_at no record gives comes last).
-- - A line on a day without members stays whole on one row with user_id NULL, so the
--   allocation still sums to the source line items.
WITH
subscription_patterns AS (
    SELECT
        UNNEST(CAST($subscription_patterns AS VARCHAR[])) AS pattern
),
subscription_line_items AS (
    SELECT DISTINCT
        c.organization_id,
        c.line_item
    FROM openai.costs AS c
    JOIN subscription_patterns AS s
        ON c.line_item ILIKE s.pattern
),
subscription_lines AS (
    SELECT
        c.organization_id,
        c.cost_date,
        c.project_id,
        c.line_item,
        SUM(c.amount_usd) AS line_item_usd,
        CAST(CAST(SUM(c.amount_usd) AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS amount_nanos
    FROM openai.costs AS c
    SEMI JOIN subscription_line_items AS s
        ON s.organization_id = c.organization_id
        AND s.line_item = c.line_item
    GROUP BY ALL
),
line_members AS (
    -- daily_members carries each day's member count and order (no window per line here)
    SELECT
        l.*,
        u.user_id,
        u.email,
        coalesce(u.members, 0) AS members,
        coalesce(u.member_rank, 1) AS member_rank
    FROM subscription_lines AS l
    LEFT JOIN daily_members AS u
        ON u.organization_id = l.organization_id
        AND u.day = l.cost_date
),
member_shares AS (
    SELECT
        *,
        CASE
            WHEN members = 0 THEN amount_nanos
            ELSE amount_nanos // members
                + CASE
                    WHEN member_rank <= abs(amount_nanos - (amount_nanos // members) * members)
                        THEN sign(amount_nanos)
                    ELSE 0
                END
        END AS allocated_nanos
    FROM line_members
)
SELECT
    organization_id,
    cost_date,
    project_id,
    line_item,
    user_id,
    email,
    members,
    CAST(line_item_usd AS DECIMAL(18, 9)) AS line_item_usd,
    CAST(CAST(allocated_nanos AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(18, 9))
        AS DECIMAL(18, 9)) AS allocated_usd
FROM member_shares
ORDER BY
    organization_id,
    cost_date,
    line_item,
    project_id NULLS FIRST,
    user_id
