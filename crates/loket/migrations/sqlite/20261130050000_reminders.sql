-- Reminders by WhatsApp/SMS and the person's status page (SQLite).
-- Consent to be contacted, per channel; the registration's consent rows keep their meaning.
CREATE TABLE reminder_consents (
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    channel TEXT NOT NULL,
    given_at TEXT NOT NULL,
    given_by INTEGER REFERENCES users(id),
    withdrawn_at TEXT,
    withdrawn_how TEXT,
    PRIMARY KEY (participant_id, channel)
);
-- Who gets what and when: one row per reason, as data.
CREATE TABLE reminder_rules (
    reason TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    lead_days INTEGER NOT NULL,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    counter_id INTEGER REFERENCES counters(id),
    reason TEXT NOT NULL,
    due_on TEXT NOT NULL,
    channel TEXT NOT NULL,
    phone_enc BLOB NOT NULL,
    phone_index BLOB NOT NULL,
    body TEXT NOT NULL,
    utc_offset_hours INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_id TEXT,
    lease_until TEXT,
    provider_id TEXT,
    provider_answer TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (participant_id, reason, due_on)
);
CREATE INDEX reminder_outbox_due_idx ON reminder_outbox (status, next_attempt_at);
CREATE INDEX reminder_outbox_person_idx ON reminder_outbox (participant_id, created_at);
CREATE INDEX reminder_outbox_provider_idx ON reminder_outbox (provider_id);
-- Status-page links: only a hash of the code is kept.
CREATE TABLE status_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    revoked_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
CREATE INDEX status_links_participant_idx ON status_links (participant_id);
