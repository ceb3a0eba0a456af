-- openai.project_users_history: every version of openai.project_users; the rules of all history
-- tables are in openai_api_keys_history.sql.
-- Grain: (project_id, user_id, valid_from). Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.project_users_history (
    organization_id VARCHAR   NOT NULL,
    project_id      VARCHAR   NOT NULL,
    user_id         VARCHAR   NOT NULL,
    email           VARCHAR,
    name            VARCHAR,
    role            VARCHAR,
    added_at        TIMESTAMP,
    valid_from      TIMESTAMP NOT NULL,
    valid_to        TIMESTAMP,
    deleted         BOOLEAN   NOT NULL,
    source          VARCHAR   NOT NULL
);
