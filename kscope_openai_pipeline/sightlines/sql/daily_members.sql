-- The organization's members on each day of [$start_date, $end_date] (both inclusive), from
-- openai.users_history: the building block of seat_allocation (each day's divisor) and
-- seat_governance_daily (each day's rows). Loaded into the TEMP table daily_members by
-- runner.py; not a warehouse table.
--
-- Rules:
-- - A user is a member on day D when a version that is not a removal (deleted = FALSE) is
--   valid at some moment of D: valid_from < D + 1 day and (valid_to IS NULL or
--   valid_to > D). A member removed at 10:00 held a seat that day; one added at 23:00 too.
-- - Several versions on one day (a role change): the day's latest one gives the values.
-- - Before the history's first version (audit logging off: before the first crawl) a day
--   has no members; nothing is guessed from today's list.
-- - members: how many members that day; member_rank: 1 for the earliest added (then by
--   user_id; a member whose added_at no record gives comes last), the order in which
--   seat_allocation hands out rounding residues.
WITH
days AS (
    SELECT
        CAST(UNNEST(generate_series(
            CAST($start_date AS TIMESTAMP), CAST($end_date AS TIMESTAMP), INTERVAL 1 DAY
        )) AS DATE) AS day
),
member_versions AS (
    SELECT
        *
    FROM openai.users_history
    WHERE NOT deleted
),
day_versions AS (
    SELECT
        v.organization_id,
        d.day,
        v.user_id,
        v.email,
        v.name,
        v.role,
        v.added_at,
        v.source
    FROM days AS d
    JOIN member_versions AS v
        ON v.valid_from < CAST(d.day AS TIMESTAMP) + INTERVAL 1 DAY
        AND (v.valid_to IS NULL OR v.valid_to > CAST(d.day AS TIMESTAMP))
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY v.organization_id, d.day, v.user_id
        ORDER BY v.valid_from DESC
    ) = 1
)
SELECT
    *,
    COUNT(*) OVER member_day AS members,
    ROW_NUMBER() OVER (member_day ORDER BY added_at NULLS LAST, user_id) AS member_rank
FROM day_versions
WINDOW member_day AS (PARTITION BY organization_id, day)
