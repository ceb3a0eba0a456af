-- Which Asset Registry engineers (kscope.engineers) each member e-mail address matches, and
-- under which rule: the building block of seat_governance (today's members and pending
-- invites) and seat_governance_daily (each day's members, TEMP table daily_members).
-- Loaded into the TEMP table email_matches by runner.py; not a warehouse table. Whether a
-- match attributes the member depends on the engineer's status, which each sightline
-- takes as of its own day.
--
-- Rules (e-mails are trimmed; "addresses" of an engineer = its email and its aliases):
--   1. exact            member email = engineer email (case-sensitive; email only)
--   2. case_insensitive equal after lower-casing (email only)
--   3. alias            lower-cased member email = a lower-cased alias
--   4. plus_address     (when $strip_plus_addresses) equal after lower-casing and dropping
--                       '+tag' from the local part, on both sides, against all addresses
--   5. domain_alias     as 4 (stripping only when enabled), then each side's domain mapped
--                       through the domain aliases ($alias_domains[i] -> $canonical_domains[i])
-- One row per (address, engineer, rule); `address` is the trimmed member e-mail.
WITH
domain_alias_pairs AS (
    SELECT
        UNNEST(CAST($alias_domains AS VARCHAR[])) AS alias_domain,
        UNNEST(CAST($canonical_domains AS VARCHAR[])) AS canonical_domain
),
domain_aliases AS (
    SELECT DISTINCT
        lower(trim(alias_domain)) AS alias_domain,
        lower(trim(canonical_domain)) AS canonical_domain
    FROM domain_alias_pairs
),
registry_addresses AS (
    SELECT
        organization_id,
        engineer_id,
        trim(email) AS address,
        TRUE AS is_primary
    FROM kscope.engineers
    UNION ALL
    SELECT
        organization_id,
        engineer_id,
        trim(UNNEST(aliases)) AS address,
        FALSE AS is_primary
    FROM kscope.engineers
),
member_addresses AS (
    SELECT organization_id, trim(email) AS address
    FROM openai.users
    WHERE email IS NOT NULL
    UNION
    SELECT organization_id, trim(email)
    FROM openai.invites
    WHERE status = 'pending'
        AND email IS NOT NULL
    UNION
    SELECT organization_id, trim(email)
    FROM daily_members
    WHERE email IS NOT NULL
),
all_addresses AS (
    SELECT
        organization_id,
        'member' AS side,
        address AS owner_id,
        TRUE AS is_primary,
        address
    FROM member_addresses
    UNION ALL
    SELECT
        organization_id,
        'registry' AS side,
        engineer_id AS owner_id,
        is_primary,
        address
    FROM registry_addresses
    WHERE address <> ''
),
lowered_addresses AS (
    SELECT
        *,
        lower(address) AS lowered,
        CASE
            WHEN CAST($strip_plus_addresses AS BOOLEAN)
                THEN regexp_replace(lower(address), '\+[^@]*@', '@')
            ELSE lower(address)
        END AS plus_stripped
    FROM all_addresses
),
normalized_addresses AS (
    SELECT
        a.*,
        CASE
            WHEN strpos(a.plus_stripped, '@') = 0 THEN a.plus_stripped
            ELSE substr(a.plus_stripped, 1, strpos(a.plus_stripped, '@'))
                || coalesce(d.canonical_domain, substr(a.plus_stripped, strpos(a.plus_stripped, '@') + 1))
        END AS domain_mapped
    FROM lowered_addresses AS a
    LEFT JOIN domain_aliases AS d
        ON strpos(a.plus_stripped, '@') > 0
        AND d.alias_domain = substr(a.plus_stripped, strpos(a.plus_stripped, '@') + 1)
),
match_keys AS (
    SELECT organization_id, side, owner_id, 1 AS rule_rank, 'exact' AS match_rule,
        address AS match_key
    FROM normalized_addresses
    WHERE is_primary
    UNION ALL
    SELECT organization_id, side, owner_id, 2, 'case_insensitive', lowered
    FROM normalized_addresses
    WHERE is_primary
    UNION ALL
    SELECT organization_id, side, owner_id, 3, 'alias', lowered
    FROM normalized_addresses
    WHERE side = 'member' OR NOT is_primary
    UNION ALL
    SELECT organization_id, side, owner_id, 4, 'plus_address', plus_stripped
    FROM normalized_addresses
    WHERE CAST($strip_plus_addresses AS BOOLEAN)
    UNION ALL
    SELECT organization_id, side, owner_id, 5, 'domain_alias', domain_mapped
    FROM normalized_addresses
)
SELECT DISTINCT
    m.organization_id,
    m.owner_id AS address,
    r.owner_id AS engineer_id,
    m.rule_rank,
    m.match_rule
FROM match_keys AS m
JOIN match_keys AS r
    ON r.organization_id = m.organization_id
    AND r.rule_rank = m.rule_rank
    AND r.match_key = m.match_key
WHERE m.side = 'member'
    AND r.side = 'registry'
