-- kscope.engineers: the Kscope Asset Registry's engineers (who may hold OpenAI seats).
-- Grain: engineer_id. Unpartitioned.
-- aliases is a list of other e-mail addresses of the same person (empty list when none);
-- query with list_contains(aliases, ...) or UNNEST(aliases).
-- departed_on is the first UTC day the engineer no longer works here (NULL: still here, or
-- departed on a day nobody recorded): the daily seat sightline attributes members to an
-- engineer only on days before it. Optional in input files.
CREATE TABLE IF NOT EXISTS kscope.engineers (
    organization_id VARCHAR   NOT NULL,
    engineer_id     VARCHAR   NOT NULL,
    email           VARCHAR   NOT NULL,  -- primary address
    aliases         VARCHAR[] NOT NULL DEFAULT [],
    name            VARCHAR,
    team            VARCHAR,
    status          VARCHAR   NOT NULL,  -- 'active' or 'departed'
    departed_on     DATE                 -- first day gone; NULL when unknown or still here
);
-- Warehouses created before departed_on existed gain it here (appended, as in the DDL).
ALTER TABLE kscope.engineers ADD COLUMN IF NOT EXISTS departed_on DATE;
