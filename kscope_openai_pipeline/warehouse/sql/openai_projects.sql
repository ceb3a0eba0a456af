-- openai.projects: every project, archived ones included (include_archived=true).
-- Grain: project_id. Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.projects (
    organization_id VARCHAR   NOT NULL,
    project_id      VARCHAR   NOT NULL,  -- 'proj_...'; the same id usage and costs carry
    name            VARCHAR,
    status          VARCHAR,             -- 'active' or 'archived'
    created_at      TIMESTAMP NOT NULL,
    archived_at     TIMESTAMP            -- NULL while active
);
