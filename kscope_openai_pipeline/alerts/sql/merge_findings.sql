-- Merge the findings a detection just made (TEMP table alert_findings) into
-- sightlines.alerts, as seen on $seen_date. $resolving_kinds are the kinds that detection
-- decided and that can resolve: an open row of one of them that it no longer sees is
-- resolved. Rows of other kinds are left alone (a kind switched off is neither found nor
-- resolved). Statements run in this order, in the caller's transaction.
--
-- 1. Resolve: open rows of $resolving_kinds the detection no longer sees get
--    resolved_date = $seen_date; the delivery state restarts (the resolution is a new
--    message with its own attempts).
UPDATE sightlines.alerts AS a
SET
    resolved_date = CAST($seen_date AS DATE),
    delivery_attempts = 0,
    next_attempt_at = NULL,
    last_delivery_error = NULL
WHERE a.resolved_date IS NULL
    AND list_contains(CAST($resolving_kinds AS VARCHAR[]), a.kind)
    AND NOT EXISTS (
        SELECT 1
        FROM alert_findings AS f
        WHERE f.organization_id = a.organization_id
            AND f.alert_id = a.alert_id
    );

-- 2. Reopen: resolved rows seen again. Once its resolution was announced (or if nothing
--    was ever announced), it is a new occurrence: first seen again, both marks cleared,
--    announced again. If the resolution was not announced yet, it simply stays open and
--    nothing is sent: the open finding was announced and is still open.
UPDATE sightlines.alerts AS a
SET
    resolved_date = NULL,
    first_seen_date = CASE
        WHEN a.resolved_notified_at IS NOT NULL OR a.notified_at IS NULL THEN f.first_seen_date
        ELSE a.first_seen_date
    END,
    notified_at = CASE WHEN a.resolved_notified_at IS NOT NULL THEN NULL ELSE a.notified_at END,
    resolved_notified_at = NULL,
    delivery_attempts = 0,
    next_attempt_at = NULL,
    last_delivery_error = NULL
FROM alert_findings AS f
WHERE f.organization_id = a.organization_id
    AND f.alert_id = a.alert_id
    AND a.resolved_date IS NOT NULL;

-- 3. Refresh: rows seen again (all open now) take the latest details and severity.
UPDATE sightlines.alerts AS a
SET
    last_seen_date = greatest(a.last_seen_date, CAST($seen_date AS DATE)),
    severity = f.severity,
    details = f.details
FROM alert_findings AS f
WHERE f.organization_id = a.organization_id
    AND f.alert_id = a.alert_id;

-- 4. Insert: findings seen for the first time, not announced yet.
INSERT INTO sightlines.alerts BY NAME
SELECT
    f.organization_id,
    f.alert_id,
    f.kind,
    f.subject,
    f.severity,
    f.first_seen_date,
    CAST($seen_date AS DATE) AS last_seen_date,
    CAST(NULL AS DATE) AS resolved_date,
    f.details,
    CAST(NULL AS TIMESTAMP) AS notified_at,
    CAST(NULL AS TIMESTAMP) AS resolved_notified_at,
    0 AS delivery_attempts,
    CAST(NULL AS TIMESTAMP) AS next_attempt_at,
    CAST(NULL AS VARCHAR) AS last_delivery_error
FROM alert_findings AS f
ANTI JOIN sightlines.alerts AS a
    ON a.organization_id = f.organization_id
    AND a.alert_id = f.alert_id;
