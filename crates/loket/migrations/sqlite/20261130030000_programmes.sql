-- Partner agencies, their empowerment programmes (eligibility rules as data) and programme
-- referrals ("rujukan program") with their history; agency staff ('lembaga') are users linked
-- to an agency. SQLite cannot change the CHECK on users.role in place: the table is made again
-- with the same rows and ids. sqlx runs every SQLite migration in a transaction, where foreign
-- keys cannot be switched off; instead their checks wait (defer_foreign_keys) while the old
-- table is dropped and the new one takes its name, and the drop's count of orphans is cleared
-- by switching the deferral off again: every reference points at the same id as before. No
-- foreign key to users cascades, so the drop deletes nothing else.

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Two-digit province codes, comma-separated; empty means the whole country.
    provinces TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE programmes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Eligibility rules as data: a JSON list of rules (see programmes::model::Rule).
    rules TEXT NOT NULL DEFAULT '[]',
    -- What the agency needs from the person: field codes, comma-separated.
    needs TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '',
    quota INTEGER CHECK (quota IS NULL OR quota >= 0),
    -- Places taken by referrals sent and not declined or withdrawn (kept with the referrals).
    taken INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0),
    opens_on TEXT,
    closes_on TEXT,
    answer_days INTEGER NOT NULL DEFAULT 7,
    created_at TEXT NOT NULL
);
CREATE INDEX programmes_agency_idx ON programmes (agency_id);

CREATE TABLE programme_referrals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    programme_id INTEGER NOT NULL REFERENCES programmes(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    counter_id INTEGER REFERENCES counters(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    consent_at TEXT,
    consent_method TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    status_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX programme_referrals_programme_idx ON programme_referrals (programme_id, status);
CREATE INDEX programme_referrals_participant_idx ON programme_referrals (participant_id);

CREATE TABLE programme_referral_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES programme_referrals(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    actor_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL
);
CREATE INDEX programme_referral_events_referral_idx ON programme_referral_events (referral_id);

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'koordinator', 'petugas', 'mitra', 'auditor', 'lembaga')),
    office_id INTEGER REFERENCES offices(id),
    counter_id INTEGER REFERENCES counters(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id)
);
PRAGMA defer_foreign_keys = ON;
INSERT INTO users_new (id, username, password_hash, role, office_id, counter_id, active, created_at)
    SELECT id, username, password_hash, role, office_id, counter_id, active, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
PRAGMA defer_foreign_keys = OFF;
