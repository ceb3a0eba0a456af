-- Date the removals an inventory run noticed ({history}: api_keys or users) by the audit
-- log: a crawl sees a key or member gone only at its own time, the audit log says when.
--
-- Rules:
-- - A removal version (source 'snapshot', deleted) and the version it follows (same object,
--   valid_to = the removal's valid_from) move to the earliest {event_type} event of that
--   object with  previous.valid_from < effective_at <= removal.valid_from.
-- - Running it again finds the same event at the new boundary: idempotent; whichever of
--   the inventory and the audit log is written first, the result is the same.
-- Statements are separated by lines holding only ';'.
CREATE OR REPLACE TEMP TABLE history_removal_times AS
WITH
removals AS (
    SELECT
        r.{id_column},
        r.valid_from AS noticed_at,
        p.valid_from AS previous_from
    FROM {history} AS r
    JOIN {history} AS p
        ON p.organization_id = r.organization_id
        AND p.{id_column} = r.{id_column}
        AND p.valid_to = r.valid_from
    WHERE r.organization_id = $organization_id
        AND r.source = 'snapshot'
        AND r.deleted
        AND NOT p.deleted
)
SELECT
    r.{id_column},
    r.noticed_at,
    MIN(e.effective_at) AS removed_at
FROM removals AS r
JOIN openai.audit_logs AS e
    ON e.organization_id = $organization_id
    AND e.event_type = '{event_type}'
    AND e.target_id = r.{id_column}
    AND e.effective_at > r.previous_from
    AND e.effective_at <= r.noticed_at
GROUP BY ALL
HAVING MIN(e.effective_at) < r.noticed_at
;
UPDATE {history} AS h
SET valid_to = t.removed_at
FROM history_removal_times AS t
WHERE h.organization_id = $organization_id
    AND h.{id_column} = t.{id_column}
    AND h.valid_to = t.noticed_at
    AND NOT h.deleted
;
UPDATE {history} AS h
SET valid_from = t.removed_at
FROM history_removal_times AS t
WHERE h.organization_id = $organization_id
    AND h.{id_column} = t.{id_column}
    AND h.valid_from = t.noticed_at
    AND h.deleted
    AND h.source = 'snapshot'
