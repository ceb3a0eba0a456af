-- openai.invites: organization invites in every status (pending, expired, accepted).
-- Grain: invite_id. Unpartitioned.
CREATE TABLE IF NOT EXISTS openai.invites (
    organization_id VARCHAR   NOT NULL,
    invite_id       VARCHAR   NOT NULL,  -- 'invite-...'
    email           VARCHAR   NOT NULL,
    role            VARCHAR,             -- 'owner' or 'reader'
    status          VARCHAR   NOT NULL,  -- 'pending', 'expired' or 'accepted'
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP,
    accepted_at     TIMESTAMP            -- NULL unless accepted
);
