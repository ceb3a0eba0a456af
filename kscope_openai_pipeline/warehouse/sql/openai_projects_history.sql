-- openai.projects_history: every version of openai.projects; the rules of all history
-- tables are in openai_api_keys_history.sql.
-- Grain: (project_id, valid_from). Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.projects_history (
    organization_id VARCHAR   NOT NULL,
    project_id      VARCHAR   NOT NULL,
    name            VARCHAR,
    status          VARCHAR,             -- 'active' or 'archived' during the version
    created_at      TIMESTAMP,
    archived_at     TIMESTAMP,
    valid_from      TIMESTAMP NOT NULL,
    valid_to        TIMESTAMP,
    deleted         BOOLEAN   NOT NULL,
    source          VARCHAR   NOT NULL
);
