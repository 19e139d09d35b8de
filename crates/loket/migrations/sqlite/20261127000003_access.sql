-- Access control, consent history, sessions, throttling, referrals, key rotation (SQLite).
CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    processing BOOLEAN NOT NULL,
    sharing BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX consent_events_participant_idx ON consent_events (participant_id);

ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE api_tokens ADD COLUMN grants TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_client_idx ON login_failures (client_addr, at);

CREATE TABLE referrals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    reason TEXT NOT NULL,
    referred_by INTEGER REFERENCES users(id),
    referred_at TEXT NOT NULL,
    UNIQUE (participant_id, counter_id)
);
CREATE INDEX referrals_counter_idx ON referrals (counter_id);

CREATE TABLE key_rotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_key INTEGER NOT NULL,
    to_key INTEGER NOT NULL,
    last_participant_id INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX participants_created_idx ON participants (created_at);
