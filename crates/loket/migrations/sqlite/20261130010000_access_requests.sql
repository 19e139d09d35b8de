-- Permintaan akses: an officer who finds a NIK registered at another counter asks that
-- counter (or its office) for access to the case, or to move it; the holder answers.
CREATE TABLE access_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    kind TEXT NOT NULL,
    from_counter_id INTEGER NOT NULL REFERENCES counters(id),
    holder_counter_id INTEGER REFERENCES counters(id),
    requested_by INTEGER NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    answer TEXT,
    answered_by INTEGER REFERENCES users(id),
    answered_at TEXT
);
CREATE INDEX access_requests_holder_idx ON access_requests (holder_counter_id, status);
CREATE INDEX access_requests_from_idx ON access_requests (from_counter_id, status);
CREATE INDEX access_requests_participant_idx ON access_requests (participant_id, status);
