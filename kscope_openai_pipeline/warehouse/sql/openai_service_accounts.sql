-- openai.service_accounts: project service accounts (owners of non-human project keys).
-- Grain: service_account_id. Unpartitioned. Archived projects cannot be listed by the API.
CREATE TABLE IF NOT EXISTS openai.service_accounts (
    organization_id    VARCHAR   NOT NULL,
    service_account_id VARCHAR   NOT NULL,  -- 'svc_acct_...'
    project_id         VARCHAR   NOT NULL,  -- the project the account belongs to
    name               VARCHAR,
    role               VARCHAR,             -- project role: 'owner', 'member' or 'none'
    created_at         TIMESTAMP NOT NULL
);
