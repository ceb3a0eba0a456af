-- openai.audit_logs: the organization's audit log (GET /organization/audit_logs, every event
-- type), one row per event. Empty when the organization has audit logging switched off (the
-- openai/audit_logs asset then warns and says how to switch it on).
-- Grain: audit_log_id. Partitioned by event_date (UTC day of effective_at).
-- The actor is a session of a user, or an API key owned by a user or a service account:
-- actor_type says which, and the ids/e-mail fill the matching columns (NULL otherwise).
-- details is the event's detail object (the key named like the event type) as JSON text
-- with sorted keys; read it with e.g. json_extract_string(details, '$.data.role').
CREATE TABLE IF NOT EXISTS openai.audit_logs (
    organization_id          VARCHAR   NOT NULL,
    audit_log_id             VARCHAR   NOT NULL,  -- 'audit_log-...'
    event_type               VARCHAR   NOT NULL,  -- e.g. 'api_key.created', 'user.deleted'
    effective_at             TIMESTAMP NOT NULL,  -- when it happened (UTC)
    event_date               DATE      NOT NULL,  -- UTC day of effective_at (the partition)
    project_id               VARCHAR,             -- the project it was scoped to, if any
    actor_type               VARCHAR,             -- 'session' or 'api_key'; NULL: no actor
    actor_user_id            VARCHAR,             -- the session's user, or the key's owner
    actor_email              VARCHAR,
    actor_api_key_id         VARCHAR,             -- the key used (api_key actors)
    actor_service_account_id VARCHAR,             -- the key's owner when a service account
    target_id                VARCHAR,             -- the object acted on (details' id)
    details                  VARCHAR              -- the detail object, JSON text
);
