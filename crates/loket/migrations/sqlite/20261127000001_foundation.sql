-- Foundation: offices, counters, accounts, participants (SQLite).
CREATE TABLE offices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('upt', 'p4mi', 'other')),
    province_code TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE counters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    office_id INTEGER NOT NULL REFERENCES offices(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned',
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'koordinator', 'petugas', 'mitra', 'auditor')),
    office_id INTEGER REFERENCES offices(id),
    counter_id INTEGER REFERENCES counters(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nik_enc BLOB NOT NULL,
    nik_index BLOB NOT NULL,
    full_name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date TEXT NOT NULL,
    birth_date_mismatch BOOLEAN NOT NULL,
    sex_mismatch BOOLEAN NOT NULL,
    kk_enc BLOB,
    kk_index BLOB,
    phone_enc BLOB,
    phone_index BLOB,
    email TEXT,
    province_code TEXT,
    regency_code TEXT,
    district_code TEXT,
    address TEXT,
    education TEXT,
    marital_status TEXT,
    destination_country TEXT,
    job_sector TEXT,
    departure_date TEXT,
    return_date TEXT,
    return_reason TEXT,
    training_interests TEXT,
    digital_literacy TEXT,
    has_smartphone BOOLEAN,
    consent_processing BOOLEAN NOT NULL,
    consent_sharing BOOLEAN NOT NULL,
    consent_method TEXT NOT NULL,
    consent_at TEXT NOT NULL,
    consent_by INTEGER REFERENCES users(id),
    counter_id INTEGER REFERENCES counters(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX participants_nik_index_key ON participants (nik_index);
CREATE INDEX participants_kk_index_idx ON participants (kk_index);
CREATE INDEX participants_phone_index_idx ON participants (phone_index);
CREATE INDEX participants_counter_idx ON participants (counter_id);
CREATE INDEX participants_name_idx ON participants (full_name COLLATE NOCASE);
