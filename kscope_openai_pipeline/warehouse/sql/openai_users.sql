-- openai.users: organization members.
-- Grain: user_id. Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.users (
    organization_id VARCHAR   NOT NULL,
    user_id         VARCHAR   NOT NULL,  -- 'user-...'
    email           VARCHAR,
    name            VARCHAR,
    role            VARCHAR,             -- organization role: 'owner' or 'reader'
    added_at        TIMESTAMP NOT NULL   -- when the user joined the organization
);
