-- The schemas of the Kscope warehouse (README, Tables).
--   openai     : what the OpenAI Admin API says (inventory, daily usage, daily costs)
--   kscope     : inputs written by other Kscope crawlers (dev tokens, gateway costs, engineers)
--   sightlines : the joined views computed in DuckDB from the two above
-- Conventions for every table: organization_id on every row; timestamps are naive UTC
-- TIMESTAMP; partition columns are DATE (UTC day); money is DECIMAL(18,9) USD; tokens and
-- counts are BIGINT; names are snake_case and stable (a rename breaks analysts' queries).
-- Grains are documented per table and enforced by the pipeline (pandera before every write,
-- a blocking asset check after), not by PRIMARY KEY constraints: dimension columns may be
-- NULL (NULL is a real "unassigned" group) and a key index would slow every partition write.
CREATE SCHEMA IF NOT EXISTS openai;
CREATE SCHEMA IF NOT EXISTS kscope;
CREATE SCHEMA IF NOT EXISTS sightlines;
