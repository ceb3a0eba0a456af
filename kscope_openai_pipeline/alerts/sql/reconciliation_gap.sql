-- Findings of kind reconciliation_gap: projects whose billed spend exceeded what the
-- gateway metered, beyond tolerance, on at least $gap_days consecutive days up to the last
-- reconciled day. Reads sightlines.billing_reconciliation.
--
-- Rules:
-- - A project's day counts when its status is 'spend_outside_gateway' (the gap is over the
--   reconciliation's own tolerance; days without gateway data, or before the gateway was
--   deployed, have other statuses and never count) AND gap_usd > $gap_tolerance_usd.
-- - The streak is the run of consecutive calendar days of counting days that ends on the
--   organization's last reconciled day; a project without a row that day has no streak.
-- - subject: the project id; '(no project)' for spend OpenAI attributes to no project.
-- - first_seen_date: the day the streak reached $gap_days days.
-- - details: the last day's billed, metered and gap, the streak's length, start and total.
WITH
last_days AS (
    SELECT
        organization_id,
        MAX(recon_date) AS as_of
    FROM sightlines.billing_reconciliation
    GROUP BY ALL
),
counting_days AS (
    SELECT
        r.organization_id,
        r.project_id,
        r.project_name,
        r.recon_date,
        r.billed_usd,
        r.metered_usd,
        r.gap_usd,
        r.recon_date - CAST(
            ROW_NUMBER() OVER (
                PARTITION BY r.organization_id, r.project_id
                ORDER BY r.recon_date
            ) AS INTEGER
        ) AS streak_key
    FROM sightlines.billing_reconciliation AS r
    WHERE r.scope = 'project'
        AND r.status = 'spend_outside_gateway'
        AND r.gap_usd > CAST($gap_tolerance_usd AS DECIMAL(18, 9))
),
streaks AS (
    SELECT
        organization_id,
        project_id,
        arg_max(project_name, recon_date) AS project_name,
        MIN(recon_date) AS streak_start,
        MAX(recon_date) AS streak_end,
        COUNT(*) AS days,
        SUM(gap_usd) AS streak_gap_usd,
        arg_max(billed_usd, recon_date) AS billed_usd,
        arg_max(metered_usd, recon_date) AS metered_usd,
        arg_max(gap_usd, recon_date) AS gap_usd
    FROM counting_days
    GROUP BY organization_id, project_id, streak_key
)
SELECT
    s.organization_id,
    coalesce(s.project_id, '(no project)') AS subject,
    s.streak_start + (CAST($gap_days AS INTEGER) - 1) AS first_seen_date,
    CAST(json_object(
        'project_id', s.project_id,
        'project_name', s.project_name,
        'as_of', s.streak_end,
        'days', s.days,
        'streak_start', s.streak_start,
        'streak_gap_usd', s.streak_gap_usd,
        'billed_usd', s.billed_usd,
        'metered_usd', s.metered_usd,
        'gap_usd', s.gap_usd,
        'tolerance_usd', CAST($gap_tolerance_usd AS DECIMAL(18, 9))
    ) AS VARCHAR) AS details
FROM streaks AS s
JOIN last_days AS l
    ON l.organization_id = s.organization_id
    AND l.as_of = s.streak_end
WHERE s.days >= CAST($gap_days AS INTEGER)
ORDER BY
    s.organization_id,
    subject
