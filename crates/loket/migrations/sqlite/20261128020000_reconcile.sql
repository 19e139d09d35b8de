-- Data exchange with the programme office (SQLite): BP2MI's own master list of returned
-- migrant workers, and each programme-office file with its linkage results, review decisions
-- and what applying it did. NIKs and phones are sealed like the registry's.

CREATE TABLE master_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    file_sha256 BLOB NOT NULL,
    rows INTEGER NOT NULL,
    imported_by INTEGER REFERENCES users(id),
    imported_at TEXT NOT NULL
);

-- One row per person known to BP2MI; a later import replaces the row of the same NIK.
CREATE TABLE master_people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id INTEGER NOT NULL REFERENCES master_imports(id),
    nik_enc BLOB NOT NULL,
    nik_index BLOB NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    birth_date TEXT,
    sex TEXT,
    district_code TEXT NOT NULL,
    phone_enc BLOB,
    destination_country TEXT,
    return_date TEXT
);

CREATE TABLE reconcile_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    file_sha256 BLOB NOT NULL,
    rows INTEGER NOT NULL,
    uploaded_by INTEGER REFERENCES users(id),
    uploaded_at TEXT NOT NULL,
    -- linking → review → applying → applied; failed keeps the reason in status_note.
    status TEXT NOT NULL CHECK (status IN ('linking', 'review', 'applying', 'applied', 'failed')),
    status_note TEXT,
    threshold REAL NOT NULL,
    review_floor REAL NOT NULL,
    summary TEXT,
    applied_rows INTEGER NOT NULL DEFAULT 0,
    events_created INTEGER NOT NULL DEFAULT 0,
    applied_by INTEGER REFERENCES users(id),
    applied_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE reconcile_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id INTEGER NOT NULL REFERENCES reconcile_uploads(id),
    row_no INTEGER NOT NULL,
    nik_enc BLOB NOT NULL,
    nik_index BLOB NOT NULL,
    full_name TEXT NOT NULL,
    birth_date TEXT,
    district_code TEXT NOT NULL,
    -- The journey facts of the file row (batch, dates, training, payments) as JSON.
    facts TEXT NOT NULL,
    participant_id INTEGER REFERENCES participants(id),
    probability REAL,
    explanation TEXT,
    master_id INTEGER REFERENCES master_people(id),
    master_probability REAL,
    decision TEXT NOT NULL CHECK (decision IN ('auto', 'review', 'accepted', 'rejected', 'unmatched')),
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    outreach_counter_id INTEGER REFERENCES counters(id),
    applied BOOLEAN NOT NULL DEFAULT 0,
    events_created INTEGER NOT NULL DEFAULT 0,
    apply_note TEXT,
    UNIQUE (upload_id, row_no)
);
CREATE INDEX reconcile_rows_decision_idx ON reconcile_rows (upload_id, decision);
CREATE INDEX reconcile_rows_outreach_idx ON reconcile_rows (outreach_counter_id);
CREATE INDEX reconcile_rows_nik_idx ON reconcile_rows (nik_index);
