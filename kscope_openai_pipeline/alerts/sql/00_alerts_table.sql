-- sightlines.alerts: the findings of the sightlines (and of the pipeline's own health) that
-- need a person, one row per finding for its whole life. Written by the alerts code only
-- (kscope_openai_pipeline/alerts/store.py, outbox.py): a finding is inserted the first time
-- it is seen, refreshed while it stays open, resolved when a detection no longer sees it,
-- and its messages are marked once the webhook acknowledged them. Never replaced as a
-- whole: the delivery marks are what keep a message from being sent twice.
-- Grain: (organization_id, alert_id).
CREATE SCHEMA IF NOT EXISTS sightlines;

CREATE TABLE IF NOT EXISTS sightlines.alerts (
    organization_id      VARCHAR   NOT NULL,
    alert_id             VARCHAR   NOT NULL,  -- hash of kind and subject
    kind                 VARCHAR   NOT NULL,  -- new_bypass_key | bypass_spend | reconciliation_gap | unattributed_member | access_lost | stale_data | run_failed
    subject              VARCHAR   NOT NULL,  -- key id, project id, member id, permission, asset key, run id
    severity             VARCHAR   NOT NULL,  -- high | warning
    first_seen_date      DATE      NOT NULL,
    last_seen_date       DATE      NOT NULL,
    resolved_date        DATE,                -- NULL while open
    details              JSON      NOT NULL,
    notified_at          TIMESTAMP,           -- the finding's message acknowledged (2xx)
    resolved_notified_at TIMESTAMP,           -- the resolution's message acknowledged (2xx)
    delivery_attempts    BIGINT    NOT NULL,  -- failed attempts of the pending message
    next_attempt_at      TIMESTAMP,           -- backoff: not retried before
    last_delivery_error  VARCHAR              -- 'HTTP 500', 'timeout', ...; never the URL
);
