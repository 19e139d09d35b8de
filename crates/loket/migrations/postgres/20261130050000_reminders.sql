-- Reminders by WhatsApp/SMS and the person's status page (PostgreSQL).
-- Consent to be contacted, per channel; the registration's consent rows keep their meaning.
CREATE TABLE reminder_consents (
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    channel TEXT NOT NULL,
    given_at TIMESTAMPTZ NOT NULL,
    given_by BIGINT REFERENCES users(id),
    withdrawn_at TIMESTAMPTZ,
    withdrawn_how TEXT,
    PRIMARY KEY (participant_id, channel)
);
-- Who gets what and when: one row per reason, as data.
CREATE TABLE reminder_rules (
    reason TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    lead_days BIGINT NOT NULL,
    channels TEXT NOT NULL
);
INSERT INTO reminder_rules (reason, enabled, lead_days, channels) VALUES
    ('purchase_deadline_soon', TRUE, 5, 'whatsapp,sms'),
    ('training_not_finished', TRUE, 0, 'whatsapp,sms'),
    ('survey_due', TRUE, 0, 'whatsapp,sms'),
    ('incentive_overdue', TRUE, 0, 'whatsapp,sms'),
    ('incentive_received', TRUE, 0, 'whatsapp,sms'),
    ('visit_booked', TRUE, 0, 'whatsapp,sms'),
    ('referral_answered', TRUE, 0, 'whatsapp,sms');
-- The outbox: one message per person, reason and due day (a rerun never queues twice).
CREATE TABLE reminder_outbox (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    counter_id BIGINT REFERENCES counters(id),
    reason TEXT NOT NULL,
    due_on DATE NOT NULL,
    channel TEXT NOT NULL,
    phone_enc BYTEA NOT NULL,
    phone_index BYTEA NOT NULL,
    body TEXT NOT NULL,
    utc_offset_hours BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_id TEXT,
    lease_until TIMESTAMPTZ,
    provider_id TEXT,
    provider_answer TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (participant_id, reason, due_on)
);
CREATE INDEX reminder_outbox_due_idx ON reminder_outbox (status, next_attempt_at);
CREATE INDEX reminder_outbox_person_idx ON reminder_outbox (participant_id, created_at);
CREATE INDEX reminder_outbox_provider_idx ON reminder_outbox (provider_id);
-- Status-page links: only a hash of the code is kept.
CREATE TABLE status_links (
    id BIGSERIAL PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    created_at TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES users(id),
    revoked_at TIMESTAMPTZ,
    failures BIGINT NOT NULL DEFAULT 0,
    locked_until TIMESTAMPTZ
);
CREATE INDEX status_links_participant_idx ON status_links (participant_id);
