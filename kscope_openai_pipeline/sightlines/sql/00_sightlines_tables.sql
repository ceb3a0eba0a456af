-- The sightlines: OpenAI's view joined to Kscope's own records, computed in DuckDB by the
-- SELECTs beside this file (gateway_bypass.sql, billing_reconciliation.sql,
-- seat_allocation.sql, seat_governance.sql). Each table is replaced as a whole, in one
-- transaction, every time its sightline runs. Conventions as in the openai.* tables:
-- organization_id on every row, naive UTC TIMESTAMPs, DATE days, money DECIMAL(18,9) USD.
CREATE SCHEMA IF NOT EXISTS sightlines;

-- sightlines.gateway_bypass: every listed non-admin (project) API key once, with whether a
-- Kscope Dev Token registers it and what it used and cost over the trailing window
-- [window_start, as_of] (both inclusive).
-- Grain: (organization_id, api_key_id).
CREATE TABLE IF NOT EXISTS sightlines.gateway_bypass (
    organization_id    VARCHAR       NOT NULL,
    api_key_id         VARCHAR       NOT NULL,  -- 'key_...'
    key_name           VARCHAR,
    redacted_value     VARCHAR,                 -- e.g. 'sk-proj-****Zx9Q'
    project_id         VARCHAR,
    project_name       VARCHAR,
    owner_type         VARCHAR,                 -- 'user' or 'service_account'
    owner_id           VARCHAR,
    owner_email        VARCHAR,
    owner_name         VARCHAR,
    created_at         TIMESTAMP     NOT NULL,
    last_used_at       TIMESTAMP,
    registered         BOOLEAN       NOT NULL,  -- an ACTIVE dev token registers the key
    dev_token_id       VARCHAR,                 -- the matched token (active preferred)
    dev_token_status   VARCHAR,                 -- 'active' or 'revoked'
    token_match_rule   VARCHAR,                 -- 'provider_key_id' or 'provider_key_redacted'
    status             VARCHAR       NOT NULL,  -- registered | registered_revoked | bypass_active | bypass_dormant
    window_start       DATE          NOT NULL,  -- first day of the trailing window
    as_of              DATE          NOT NULL,  -- last day of the trailing window
    input_tokens       BIGINT        NOT NULL,  -- window totals from openai.usage
    output_tokens      BIGINT        NOT NULL,
    requests           BIGINT        NOT NULL,  -- num_model_requests + num_requests
    last_usage_date    DATE,                    -- last day in the window with usage rows
    cost_usd           DECIMAL(18,9) NOT NULL,  -- window cost (see cost_basis)
    cost_basis         VARCHAR       NOT NULL   -- billed_per_key | allocated_by_token_share | mixed
);

-- sightlines.billing_reconciliation: billed (openai.costs, subscriptions excluded) versus
-- metered (kscope.gateway_costs) per day and project, plus one organization row per day.
-- Grain: (organization_id, recon_date, scope, project_id), NULL project_id compared as a
-- value: scope 'organization' rows have project_id NULL; a scope 'project' row with NULL
-- project_id holds spend OpenAI attributes to no project.
CREATE TABLE IF NOT EXISTS sightlines.billing_reconciliation (
    organization_id      VARCHAR       NOT NULL,
    recon_date           DATE          NOT NULL,
    scope                VARCHAR       NOT NULL,  -- 'project' or 'organization'
    project_id           VARCHAR,
    project_name         VARCHAR,
    billed_usd           DECIMAL(18,9) NOT NULL,  -- Costs API, subscription line items excluded
    metered_usd          DECIMAL(18,9) NOT NULL,  -- what the gateway metered
    gap_usd              DECIMAL(18,9) NOT NULL,  -- billed_usd - metered_usd, exactly
    coverage_ratio       DOUBLE,                  -- metered / billed; NULL when billed is 0
    bypass_explained_usd DECIMAL(18,9) NOT NULL,  -- billed spend of unregistered keys
    tolerance_usd        DECIMAL(18,9) NOT NULL,  -- max(tolerance_pct x billed, tolerance floor)
    status               VARCHAR       NOT NULL   -- matched | spend_outside_gateway | over_metered | gateway_not_deployed | gateway_data_missing
);

-- sightlines.seat_allocation: each subscription (seat) line item of openai.costs split
-- evenly across that day's organization members, to the nano-dollar, the rounding residue
-- going one nano-dollar at a time to the earliest members; parts sum exactly to the line.
-- Grain: (organization_id, cost_date, project_id, line_item, user_id); user_id is NULL only
-- on a line of a day without members (kept whole, so sums still match).
CREATE TABLE IF NOT EXISTS sightlines.seat_allocation (
    organization_id VARCHAR       NOT NULL,
    cost_date       DATE          NOT NULL,
    project_id      VARCHAR,                  -- of the source line (NULL for org-level seats)
    line_item       VARCHAR       NOT NULL,
    user_id         VARCHAR,
    email           VARCHAR,
    members         BIGINT        NOT NULL,   -- members that day (the divisor)
    line_item_usd   DECIMAL(18,9) NOT NULL,   -- the whole source line
    allocated_usd   DECIMAL(18,9) NOT NULL    -- this member's part
);

-- sightlines.seat_governance: every organization member and every pending invite once,
-- attributed to a Kscope Asset Registry engineer by e-mail, or with the reason why not.
-- Grain: (organization_id, member_id).
CREATE TABLE IF NOT EXISTS sightlines.seat_governance (
    organization_id    VARCHAR       NOT NULL,
    member_id          VARCHAR       NOT NULL,  -- 'user-...' or 'invite-...'
    member_type        VARCHAR       NOT NULL,  -- 'user' or 'invite'
    email              VARCHAR,
    name               VARCHAR,
    role               VARCHAR,                 -- organization role
    joined_at          TIMESTAMP,               -- users: added_at; invites: created_at
    attributed         BOOLEAN       NOT NULL,
    engineer_id        VARCHAR,                 -- matched engineer (also when departed)
    engineer_email     VARCHAR,
    engineer_status    VARCHAR,                 -- 'active' or 'departed'
    team               VARCHAR,
    match_rule         VARCHAR,                 -- exact | case_insensitive | alias | plus_address | domain_alias
    reason             VARCHAR,                 -- NULL when attributed; no_registry_match | engineer_departed
    keys_owned         BIGINT        NOT NULL,  -- listed project keys the user owns
    last_key_used_at   TIMESTAMP,               -- latest last_used_at of those keys
    window_start       DATE          NOT NULL,
    as_of              DATE          NOT NULL,
    allocated_seat_usd DECIMAL(18,9) NOT NULL   -- seat_allocation over [window_start, as_of]
);

-- sightlines.gateway_bypass_daily: the daily ledger of key traffic, exact for each day: one
-- row per key and day with usage or cost, with the key's Dev Token status ON THAT DAY,
-- who owned and created the key. Answers "since when has this key bypassed the gateway,
-- and what did that cost on each day?" (gateway_bypass is the "now" view).
-- Grain: (organization_id, usage_date, api_key_id). Partitioned by usage_date.
CREATE TABLE IF NOT EXISTS sightlines.gateway_bypass_daily (
    organization_id VARCHAR       NOT NULL,
    usage_date      DATE          NOT NULL,
    api_key_id      VARCHAR       NOT NULL,  -- deleted keys included
    key_kind        VARCHAR,                 -- 'project' or 'admin'
    project_id      VARCHAR,
    project_name    VARCHAR,                 -- as named that day
    owner_type      VARCHAR,                 -- NULL: never listed (audit log only)
    owner_id        VARCHAR,
    owner_email     VARCHAR,
    input_tokens    BIGINT        NOT NULL,
    output_tokens   BIGINT        NOT NULL,
    requests        BIGINT        NOT NULL,  -- num_model_requests
    cost_usd        DECIMAL(18,9) NOT NULL,  -- the key's cost that day (see cost_basis)
    cost_basis      VARCHAR       NOT NULL,  -- billed_per_key | allocated_by_token_share
    token_status    VARCHAR       NOT NULL,  -- registered | registered_revoked | unregistered (that day)
    bypass          BOOLEAN       NOT NULL,  -- token_status <> 'registered'
    dev_token_id    VARCHAR,                 -- the token active that day (else the latest existing)
    key_created_at  TIMESTAMP,
    key_created_by  VARCHAR                  -- api_key.created actor: e-mail, else service account
);

-- sightlines.seat_governance_daily: every organization member on every day, attributed to
-- a Kscope engineer as the registry stood that day (an engineer attributes members only
-- before their departed_on), with that day's seat cost. Answers "who held a seat that no
-- known engineer accounts for, on each day?" (seat_governance is the "now" view).
-- Grain: (organization_id, day, member_id). Partitioned by day.
CREATE TABLE IF NOT EXISTS sightlines.seat_governance_daily (
    organization_id   VARCHAR       NOT NULL,
    day               DATE          NOT NULL,
    member_id         VARCHAR       NOT NULL,  -- 'user-...' (members, not invites)
    email             VARCHAR,
    name              VARCHAR,
    role              VARCHAR,
    joined_at         TIMESTAMP,               -- added_at
    attributed        BOOLEAN       NOT NULL,
    engineer_id       VARCHAR,
    engineer_email    VARCHAR,
    engineer_status   VARCHAR,                 -- 'active' or 'departed' ON THAT DAY
    team              VARCHAR,
    match_rule        VARCHAR,
    reason            VARCHAR,                 -- NULL when attributed; no_registry_match | engineer_departed
    seat_usd          DECIMAL(18,9) NOT NULL,  -- sightlines.seat_allocation of the member that day
    membership_source VARCHAR       NOT NULL   -- 'snapshot' or 'audit_log' (openai.users_history)
);
