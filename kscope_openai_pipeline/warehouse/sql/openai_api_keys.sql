-- openai.api_keys: every listed API key: project keys (owner_project_access=any) and admin keys.
-- Grain: api_key_id. Unpartitioned.
-- Deleted keys are not listed by the API but still appear in openai.usage / openai.costs by
-- id, so a usage api_key_id missing here is legitimate (an asset check counts them).
CREATE TABLE IF NOT EXISTS openai.api_keys (
    organization_id VARCHAR   NOT NULL,
    api_key_id      VARCHAR   NOT NULL,  -- 'key_...'; same id space as usage.api_key_id
    key_kind        VARCHAR   NOT NULL,  -- 'project' or 'admin'
    project_id      VARCHAR,             -- NULL for admin keys
    name            VARCHAR,
    redacted_value  VARCHAR,             -- e.g. 'sk-proj-****Zx9Q'; never the secret itself
    owner_type      VARCHAR,             -- 'user' or 'service_account'
    owner_id        VARCHAR,             -- 'user-...' or 'svc_acct_...'
    owner_email     VARCHAR,             -- NULL for service accounts
    owner_name      VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP            -- NULL when never used
);
