-- sightlines.seat_governance: every organization member (openai.users) and pending invite
-- once, attributed to a Kscope Asset Registry engineer (kscope.engineers) by e-mail.
-- Reads sightlines.seat_allocation for each member's seat cost over the window of
-- $window_days days ending $as_of, and the TEMP table email_matches (email_matches.sql:
-- which engineers each address matches, under which rule).
--
-- Rules (e-mails are trimmed; "addresses" of an engineer = its email and its aliases):
--   1. exact            member email = engineer email (case-sensitive; email only)
--   2. case_insensitive equal after lower-casing (email only)
--   3. alias            lower-cased member email = a lower-cased alias
--   4. plus_address     (when $strip_plus_addresses) equal after lower-casing and dropping
--                       '+tag' from the local part, on both sides, against all addresses
--   5. domain_alias     as 4 (stripping only when enabled), then each side's domain mapped
--                       through the domain aliases ($alias_domains[i] -> $canonical_domains[i])
-- The first rule under which an ACTIVE engineer matches attributes the member (smallest
-- engineer_id on ties). Otherwise, if a departed engineer matches under some rule, the
-- reason is engineer_departed (engineer_id and match_rule of the first such match); else
-- no_registry_match.
-- keys_owned / last_key_used_at: listed keys (project and admin) the user owns.
WITH
window_bounds AS (
    SELECT
        CAST($as_of AS DATE) - (CAST($window_days AS INTEGER) - 1) AS window_start,
        CAST($as_of AS DATE) AS as_of
),
members AS (
    SELECT
        organization_id,
        user_id AS member_id,
        'user' AS member_type,
        email,
        name,
        role,
        added_at AS joined_at
    FROM openai.users
    UNION ALL
    SELECT
        organization_id,
        invite_id AS member_id,
        'invite' AS member_type,
        email,
        NULL AS name,
        role,
        created_at AS joined_at
    FROM openai.invites
    WHERE status = 'pending'
),
candidate_matches AS (
    SELECT
        m.organization_id,
        m.member_id,
        x.engineer_id,
        e.status AS engineer_status,
        x.rule_rank,
        x.match_rule
    FROM members AS m
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
        PARTITION BY organization_id, member_id
        ORDER BY engineer_status = 'active' DESC, rule_rank, engineer_id
    ) = 1
),
owned_keys AS (
    SELECT
        organization_id,
        owner_id AS member_id,
        COUNT(*) AS keys_owned,
        MAX(last_used_at) AS last_key_used_at
    FROM openai.api_keys
    WHERE owner_type = 'user'
    GROUP BY ALL
),
window_seat_costs AS (
    SELECT
        a.organization_id,
        a.user_id AS member_id,
        SUM(a.allocated_usd) AS allocated_seat_usd
    FROM sightlines.seat_allocation AS a
    JOIN window_bounds AS w
        ON a.cost_date BETWEEN w.window_start AND w.as_of
    WHERE a.user_id IS NOT NULL
    GROUP BY ALL
)
SELECT
    m.organization_id,
    m.member_id,
    m.member_type,
    m.email,
    m.name,
    m.role,
    m.joined_at,
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
    coalesce(k.keys_owned, 0) AS keys_owned,
    k.last_key_used_at,
    w.window_start,
    w.as_of,
    CAST(coalesce(s.allocated_seat_usd, 0) AS DECIMAL(18, 9)) AS allocated_seat_usd
FROM members AS m
CROSS JOIN window_bounds AS w
LEFT JOIN best_matches AS b
    ON b.organization_id = m.organization_id
    AND b.member_id = m.member_id
LEFT JOIN kscope.engineers AS e
    ON e.organization_id = b.organization_id
    AND e.engineer_id = b.engineer_id
LEFT JOIN owned_keys AS k
    ON k.organization_id = m.organization_id
    AND k.member_id = m.member_id
LEFT JOIN window_seat_costs AS s
    ON s.organization_id = m.organization_id
    AND s.member_id = m.member_id
ORDER BY
    m.organization_id,
    m.member_type DESC,
    m.member_id
