-- Permintaan akses: an officer who finds a NIK registered at another counter asks that
-- counter (or its office) for access to the case, or to move it; the holder answers.
CREATE TABLE access_requests (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    kind TEXT NOT NULL,
    from_counter_id BIGINT NOT NULL REFERENCES counters(id),
    holder_counter_id BIGINT REFERENCES counters(id),
    requested_by BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    answer TEXT,
    answered_by BIGINT REFERENCES users(id),
    answered_at TIMESTAMPTZ
);
CREATE INDEX access_requests_holder_idx ON access_requests (holder_counter_id, status);
CREATE INDEX access_requests_from_idx ON access_requests (from_counter_id, status);
CREATE INDEX access_requests_participant_idx ON access_requests (participant_id, status);
