-- kscope.engineers: the Kscope Asset Registry's engineers (who may hold OpenAI seats).
-- Grain: engineer_id. Unpartitioned.
-- aliases is a list of other e-mail addresses of the same person (empty list when none);
-- query with list_contains(aliases, ...) or UNNEST(aliases).
CREATE TABLE IF NOT EXISTS kscope.engineers (
    organization_id VARCHAR   NOT NULL,
    engineer_id     VARCHAR   NOT NULL,
    email           VARCHAR   NOT NULL,  -- primary address
    aliases         VARCHAR[] NOT NULL DEFAULT [],
    name            VARCHAR,
    team            VARCHAR,
    status          VARCHAR   NOT NULL   -- 'active' or 'departed'
);
