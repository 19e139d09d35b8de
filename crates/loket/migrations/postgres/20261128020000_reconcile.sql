-- Data exchange with the programme office (PostgreSQL): BP2MI's own master list of returned
-- migrant workers, and each programme-office file with its linkage results, review decisions
-- and what applying it did. NIKs and phones are sealed like the registry's.

CREATE TABLE master_imports (
    id BIGSERIAL PRIMARY KEY,
    file_name TEXT NOT NULL,
    file_sha256 BYTEA NOT NULL,
    rows BIGINT NOT NULL,
    imported_by BIGINT REFERENCES users(id),
    imported_at TIMESTAMPTZ NOT NULL
);

-- One row per person known to BP2MI; a later import replaces the row of the same NIK.
CREATE TABLE master_people (
    id BIGSERIAL PRIMARY KEY,
    import_id BIGINT NOT NULL REFERENCES master_imports(id),
    nik_enc BYTEA NOT NULL,
    nik_index BYTEA NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    birth_date DATE,
    sex TEXT,
    district_code TEXT NOT NULL,
    phone_enc BYTEA,
    destination_country TEXT,
    return_date DATE
);

CREATE TABLE reconcile_uploads (
    id BIGSERIAL PRIMARY KEY,
    file_name TEXT NOT NULL,
    file_sha256 BYTEA NOT NULL,
    rows BIGINT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at TIMESTAMPTZ NOT NULL,
    -- linking → review → applying → applied; failed keeps the reason in status_note.
    status TEXT NOT NULL CHECK (status IN ('linking', 'review', 'applying', 'applied', 'failed')),
    status_note TEXT,
    threshold DOUBLE PRECISION NOT NULL,
    review_floor DOUBLE PRECISION NOT NULL,
    summary TEXT,
    applied_rows BIGINT NOT NULL DEFAULT 0,
    events_created BIGINT NOT NULL DEFAULT 0,
    applied_by BIGINT REFERENCES users(id),
    applied_at TIMESTAMPTZ,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE reconcile_rows (
    id BIGSERIAL PRIMARY KEY,
    upload_id BIGINT NOT NULL REFERENCES reconcile_uploads(id),
    row_no BIGINT NOT NULL,
    nik_enc BYTEA NOT NULL,
    nik_index BYTEA NOT NULL,
    full_name TEXT NOT NULL,
    birth_date DATE,
    district_code TEXT NOT NULL,
    -- The journey facts of the file row (batch, dates, training, payments) as JSON.
    facts TEXT NOT NULL,
    participant_id BIGINT REFERENCES participants(id),
    probability DOUBLE PRECISION,
    explanation TEXT,
    master_id BIGINT REFERENCES master_people(id),
    master_probability DOUBLE PRECISION,
    decision TEXT NOT NULL CHECK (decision IN ('auto', 'review', 'accepted', 'rejected', 'unmatched')),
    decided_by BIGINT REFERENCES users(id),
    decided_at TIMESTAMPTZ,
    outreach_counter_id BIGINT REFERENCES counters(id),
    applied BOOLEAN NOT NULL DEFAULT FALSE,
    events_created BIGINT NOT NULL DEFAULT 0,
    apply_note TEXT,
    UNIQUE (upload_id, row_no)
);
CREATE INDEX reconcile_rows_decision_idx ON reconcile_rows (upload_id, decision);
CREATE INDEX reconcile_rows_outreach_idx ON reconcile_rows (outreach_counter_id);
CREATE INDEX reconcile_rows_nik_idx ON reconcile_rows (nik_index);
