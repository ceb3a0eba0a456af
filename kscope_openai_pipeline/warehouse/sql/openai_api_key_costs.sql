-- openai.api_key_costs: daily billed cost by API key.
-- Grain: (cost_date, api_key_id), NULL api_key_id = cost no key carries (e.g. seats).
-- Partitioned by cost_date. The API allows this grouping only from 2025-12-06 on; earlier
-- days have no rows (not zero cost: unknown).
CREATE TABLE IF NOT EXISTS openai.api_key_costs (
    organization_id VARCHAR        NOT NULL,
    cost_date       DATE           NOT NULL,
    api_key_id      VARCHAR,
    amount_usd      DECIMAL(18,9)  NOT NULL,
    currency        VARCHAR        NOT NULL   -- always 'usd'
);
