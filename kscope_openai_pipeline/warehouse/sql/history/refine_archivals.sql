-- Date the archivals an inventory run noticed (openai.projects_history) by the project's
-- own archived_at: a crawl sees a project archived only at its own time, the project says
-- when.
--
-- Rules:
-- - A 'snapshot' version with status 'archived' that follows an 'active' version of the
--   same project (valid_to = its valid_from) moves, with the active version's end, to
--   its archived_at when previous.valid_from < archived_at < its valid_from.
-- - Idempotent: afterwards archived_at equals the boundary, and nothing moves again.
-- Statements are separated by lines holding only ';'.
CREATE OR REPLACE TEMP TABLE history_archival_times AS
SELECT
    a.project_id,
    a.valid_from AS noticed_at,
    a.archived_at
FROM openai.projects_history AS a
JOIN openai.projects_history AS p
    ON p.organization_id = a.organization_id
    AND p.project_id = a.project_id
    AND p.valid_to = a.valid_from
WHERE a.organization_id = $organization_id
    AND a.source = 'snapshot'
    AND a.status = 'archived'
    AND p.status = 'active'
    AND a.archived_at > p.valid_from
    AND a.archived_at < a.valid_from
;
UPDATE openai.projects_history AS h
SET valid_to = t.archived_at
FROM history_archival_times AS t
WHERE h.organization_id = $organization_id
    AND h.project_id = t.project_id
    AND h.valid_to = t.noticed_at
;
UPDATE openai.projects_history AS h
SET valid_from = t.archived_at
FROM history_archival_times AS t
WHERE h.organization_id = $organization_id
    AND h.project_id = t.project_id
    AND h.valid_from = t.noticed_at
    AND h.source = 'snapshot'
