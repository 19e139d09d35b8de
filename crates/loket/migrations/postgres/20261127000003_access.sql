-- Access control, consent history, sessions, throttling, referrals, key rotation (PostgreSQL).
CREATE TABLE consent_events (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    processing BOOLEAN NOT NULL,
    sharing BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMPTZ NOT NULL,
    note TEXT
);
CREATE INDEX consent_events_participant_idx ON consent_events (participant_id);

ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN grants TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMPTZ;

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_client_idx ON login_failures (client_addr, at);

CREATE TABLE referrals (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    counter_id BIGINT NOT NULL REFERENCES counters(id),
    reason TEXT NOT NULL,
    referred_by BIGINT REFERENCES users(id),
    referred_at TIMESTAMPTZ NOT NULL,
    UNIQUE (participant_id, counter_id)
);
CREATE INDEX referrals_counter_idx ON referrals (counter_id);

CREATE TABLE key_rotations (
    id BIGSERIAL PRIMARY KEY,
    from_key BIGINT NOT NULL,
    to_key BIGINT NOT NULL,
    last_participant_id BIGINT NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX participants_created_idx ON participants (created_at);
