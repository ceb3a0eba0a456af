-- kscope.dev_tokens: Kscope Dev Tokens (written by the Kscope gateway crawler, or loaded
-- with `kscope-openai load-inputs`). A dev token registers one provider API key with the
-- gateway; OpenAI keys without one bypass gateway metering.
-- Grain: dev_token_id. Unpartitioned.
-- Matching to openai.api_keys: provider_key_id = api_key_id, falling back to
-- provider_key_redacted = redacted_value when the token carries no key id.
CREATE TABLE IF NOT EXISTS kscope.dev_tokens (
    organization_id       VARCHAR   NOT NULL,
    dev_token_id          VARCHAR   NOT NULL,
    provider              VARCHAR   NOT NULL,  -- 'openai'
    provider_key_id       VARCHAR,             -- the OpenAI 'key_...' id, when known
    provider_key_redacted VARCHAR,             -- the OpenAI redacted value, e.g. 'sk-proj-****Zx9Q'
    owner_email           VARCHAR,
    status                VARCHAR   NOT NULL,  -- 'active' or 'revoked'
    created_at            TIMESTAMP NOT NULL,
    revoked_at            TIMESTAMP            -- NULL unless revoked
);
