-- openai.costs: daily billed cost by project and line item (the invoice-aligned source).
-- Grain: (cost_date, project_id, line_item), NULLs compared as values.
-- Partitioned by cost_date (UTC day). OpenAI restates recent days; the schedule re-pulls them.
CREATE TABLE IF NOT EXISTS openai.costs (
    organization_id VARCHAR        NOT NULL,
    cost_date       DATE           NOT NULL,  -- UTC day of the 1d bucket
    project_id      VARCHAR,                  -- NULL: organization-level line (e.g. seats)
    line_item       VARCHAR,                  -- free text, e.g. 'gpt-4o-2024-08-06, input'
    amount_usd      DECIMAL(18,9)  NOT NULL,  -- exact dollars as the API sent them
    currency        VARCHAR        NOT NULL,  -- lower-case ISO 4217; always 'usd'
    quantity        DOUBLE,                   -- billed quantity when the API gives one
    quantity_unit   VARCHAR                   -- e.g. 'tokens', '1000_tokens', 'images'
);
