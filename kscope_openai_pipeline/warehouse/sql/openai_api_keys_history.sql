-- openai.*_history: what the inventory looked like at any moment. Each version of an
-- object is a row valid on [valid_from, valid_to) (naive UTC; valid_to NULL = the current
-- version); deleted = TRUE marks a version in which the object had left the listing (a
-- deleted key, a removed member). The other columns are the snapshot table's.
-- source = 'snapshot': recorded by an inventory run (valid_from = that crawl's time, or,
-- for a removal the audit log dates, the removal's time); 'audit_log': reconstructed for
-- the time before the object's first listing from the audit log (creations, deletions,
-- archivals) and the object's own creation time. Rules: warehouse/sql/history/*.sql.
-- Grain: (object id, valid_from). Unpartitioned.
-- "As of" a moment t:  WHERE valid_from <= t AND (valid_to IS NULL OR valid_to > t).
CREATE TABLE IF NOT EXISTS openai.api_keys_history (
    organization_id VARCHAR   NOT NULL,
    api_key_id      VARCHAR   NOT NULL,
    key_kind        VARCHAR,             -- 'project' or 'admin'
    project_id      VARCHAR,
    name            VARCHAR,
    redacted_value  VARCHAR,
    owner_type      VARCHAR,
    owner_id        VARCHAR,
    owner_email     VARCHAR,
    owner_name      VARCHAR,
    created_at      TIMESTAMP,           -- NULL only when no record says (audit-only keys)
    last_used_at    TIMESTAMP,           -- the latest crawl's value, not versioned
    valid_from      TIMESTAMP NOT NULL,
    valid_to        TIMESTAMP,
    deleted         BOOLEAN   NOT NULL,
    source          VARCHAR   NOT NULL   -- 'snapshot' or 'audit_log'
);
