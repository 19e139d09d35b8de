-- Foundation: offices, counters, accounts, participants (PostgreSQL).
CREATE TABLE offices (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('upt', 'p4mi', 'other')),
    province_code TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE counters (
    id BIGSERIAL PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'koordinator', 'petugas', 'mitra', 'auditor')),
    office_id BIGINT REFERENCES offices(id),
    counter_id BIGINT REFERENCES counters(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash BYTEA NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE sessions (
    id_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE participants (
    id BIGSERIAL PRIMARY KEY,
    nik_enc BYTEA NOT NULL,
    nik_index BYTEA NOT NULL,
    full_name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date DATE NOT NULL,
    birth_date_mismatch BOOLEAN NOT NULL,
    sex_mismatch BOOLEAN NOT NULL,
    kk_enc BYTEA,
    kk_index BYTEA,
    phone_enc BYTEA,
    phone_index BYTEA,
    email TEXT,
    province_code TEXT,
    regency_code TEXT,
    district_code TEXT,
    address TEXT,
    education TEXT,
    marital_status TEXT,
    destination_country TEXT,
    job_sector TEXT,
    departure_date DATE,
    return_date DATE,
    return_reason TEXT,
    training_interests TEXT,
    digital_literacy TEXT,
    has_smartphone BOOLEAN,
    consent_processing BOOLEAN NOT NULL,
    consent_sharing BOOLEAN NOT NULL,
    consent_method TEXT NOT NULL,
    consent_at TIMESTAMPTZ NOT NULL,
    consent_by BIGINT REFERENCES users(id),
    counter_id BIGINT REFERENCES counters(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX participants_nik_index_key ON participants (nik_index);
CREATE INDEX participants_kk_index_idx ON participants (kk_index);
CREATE INDEX participants_phone_index_idx ON participants (phone_index);
CREATE INDEX participants_counter_idx ON participants (counter_id);
CREATE INDEX participants_name_idx ON participants (lower(full_name) text_pattern_ops);
