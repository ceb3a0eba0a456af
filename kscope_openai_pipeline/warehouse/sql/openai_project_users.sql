-- openai.project_users: which organization member belongs to which project, with what role.
-- Grain: (project_id, user_id). Unpartitioned. Archived projects cannot be listed by the API.
CREATE TABLE IF NOT EXISTS openai.project_users (
    organization_id VARCHAR   NOT NULL,
    project_id      VARCHAR   NOT NULL,
    user_id         VARCHAR   NOT NULL,
    email           VARCHAR,
    name            VARCHAR,
    role            VARCHAR,             -- project role: 'owner' or 'member'
    added_at        TIMESTAMP NOT NULL   -- when the user was added to the project
);
