-- openai.organization: one row per crawled organization.
-- Grain: organization_id. Unpartitioned (replaced on every inventory refresh).
-- id and name come from pipeline config (no Admin API endpoint returns them); the other
-- columns are facts the crawl established.
CREATE TABLE IF NOT EXISTS openai.organization (
    organization_id         VARCHAR   NOT NULL,  -- 'org-...', from config
    name                    VARCHAR,             -- display name, from config
    source                  VARCHAR   NOT NULL,  -- 'openai' (real API) or 'sandbox' (synthetic org)
    earliest_key_created_at TIMESTAMP,           -- oldest API key creation seen; no usage can predate it
    uses_projects           BOOLEAN   NOT NULL,  -- TRUE when any non-default project exists
    crawled_at              TIMESTAMP NOT NULL   -- when this inventory was read (naive UTC)
);
