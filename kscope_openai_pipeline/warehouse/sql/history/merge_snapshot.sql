-- Merge one inventory snapshot ({snapshot}, just replaced) into its history ({history}),
-- for one organization, at the crawl's time $crawled_at. A template: the braced names are
-- filled by warehouse/history.py with the table's names and columns; $params are values.
--
-- Rules:
-- - An object is compared with its current version (valid_to IS NULL) on every snapshot
--   column except the id columns, organization_id and the volatile ones ({volatile}: a
--   key's last_used_at changes daily; a version per day of use would bloat the table).
-- - Listed and new (no version yet): a version from $crawled_at.
-- - Listed and different (or its current version is a removal): the current version ends
--   at $crawled_at and the listed values start there.
-- - No longer listed (current version not a removal): the current version ends at
--   $crawled_at and a removal version (deleted = TRUE, the last known values) starts there.
-- - Listed and equal: nothing is added; the volatile columns of the current version take
--   the listed values. Re-running a crawl without changes therefore adds no row.
-- - Every version written here has source 'snapshot'.
-- Statements are separated by lines holding only ';'.
CREATE OR REPLACE TEMP TABLE history_changes AS
WITH
current_versions AS (
    SELECT *
    FROM {history}
    WHERE organization_id = $organization_id
        AND valid_to IS NULL
),
listed AS (
    SELECT *
    FROM {snapshot}
    WHERE organization_id = $organization_id
)
SELECT
    {key_coalesce},
    CASE
        WHEN c.{first_key} IS NULL THEN 'new'
        WHEN l.{first_key} IS NULL THEN 'gone'
        WHEN c.deleted THEN 'returned'
        ELSE 'changed'
    END AS change
FROM listed AS l
FULL JOIN current_versions AS c
    ON {key_join_lc}
WHERE (l.{first_key} IS NOT NULL AND (c.{first_key} IS NULL OR c.deleted OR {differs}))
    OR (l.{first_key} IS NULL AND NOT c.deleted)
;
CREATE OR REPLACE TEMP TABLE history_gone AS
SELECT
    h.*
FROM {history} AS h
SEMI JOIN history_changes AS x
    ON {key_join_hx}
    AND x.change = 'gone'
WHERE h.organization_id = $organization_id
    AND h.valid_to IS NULL
;
UPDATE {history} AS h
SET valid_to = $crawled_at
FROM history_changes AS x
WHERE h.organization_id = $organization_id
    AND h.valid_to IS NULL
    AND {key_join_hx}
    AND x.change <> 'new'
;
INSERT INTO {history} BY NAME
SELECT
    l.*,
    CAST($crawled_at AS TIMESTAMP) AS valid_from,
    CAST(NULL AS TIMESTAMP) AS valid_to,
    FALSE AS deleted,
    'snapshot' AS source
FROM {snapshot} AS l
SEMI JOIN history_changes AS x
    ON {key_join_lx}
    AND x.change IN ('new', 'changed', 'returned')
WHERE l.organization_id = $organization_id
;
INSERT INTO {history} BY NAME
SELECT
    g.* EXCLUDE (valid_from, valid_to, deleted, source),
    CAST($crawled_at AS TIMESTAMP) AS valid_from,
    CAST(NULL AS TIMESTAMP) AS valid_to,
    TRUE AS deleted,
    'snapshot' AS source
FROM history_gone AS g
;
UPDATE {history} AS h
SET {volatile_set}
FROM {snapshot} AS l
WHERE h.organization_id = $organization_id
    AND l.organization_id = $organization_id
    AND h.valid_to IS NULL
    AND NOT h.deleted
    AND {key_join_hl}
    AND ({volatile_differs})
