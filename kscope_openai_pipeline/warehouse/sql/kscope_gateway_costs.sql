-- kscope.gateway_costs: what the Kscope gateway metered, per day, key, project and model.
-- Grain: (usage_date, provider_key_id, project_id, model), NULLs compared as values.
-- Partitioned by usage_date (UTC day).
CREATE TABLE IF NOT EXISTS kscope.gateway_costs (
    organization_id VARCHAR       NOT NULL,
    usage_date      DATE          NOT NULL,
    provider_key_id VARCHAR       NOT NULL,  -- the OpenAI 'key_...' id the traffic used
    project_id      VARCHAR,
    model           VARCHAR,
    requests        BIGINT        NOT NULL DEFAULT 0,
    input_tokens    BIGINT        NOT NULL DEFAULT 0,
    output_tokens   BIGINT        NOT NULL DEFAULT 0,
    cached_tokens   BIGINT        NOT NULL DEFAULT 0,
    cost_usd        DECIMAL(18,9) NOT NULL   -- cost as priced by the gateway
);
