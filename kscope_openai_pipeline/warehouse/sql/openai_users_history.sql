-- openai.users_history: every version of openai.users; the rules of all history
-- tables are in openai_api_keys_history.sql.
-- Grain: (user_id, valid_from). Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.users_history (
    organization_id VARCHAR   NOT NULL,
    user_id         VARCHAR   NOT NULL,
    email           VARCHAR,
    name            VARCHAR,
    role            VARCHAR,             -- audit-only members: the user.added event's role
    added_at        TIMESTAMP,
    valid_from      TIMESTAMP NOT NULL,
    valid_to        TIMESTAMP,
    deleted         BOOLEAN   NOT NULL,
    source          VARCHAR   NOT NULL
);
