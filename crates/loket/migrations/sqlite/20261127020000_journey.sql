-- The Prakerja journey (SQLite): scheme rules as data, batches, the event log, assistance
-- sessions, contact attempts, barred NIKs, and a per-participant projection of the events.

-- Rules differ by scheme year; they are rows, not constants, so a new scheme needs no release.
CREATE TABLE journey_schemes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    training_balance INTEGER NOT NULL CHECK (training_balance >= 0),
    incentive_amount INTEGER NOT NULL CHECK (incentive_amount >= 0),
    incentive_count INTEGER NOT NULL CHECK (incentive_count >= 0),
    survey_amount INTEGER NOT NULL CHECK (survey_amount >= 0),
    survey_count INTEGER NOT NULL CHECK (survey_count >= 0),
    purchase_days INTEGER NOT NULL CHECK (purchase_days > 0),
    incentive_first_after_days INTEGER NOT NULL,
    incentive_interval_days INTEGER NOT NULL,
    survey_first_after_days INTEGER NOT NULL,
    survey_interval_days INTEGER NOT NULL,
    grace_working_days INTEGER NOT NULL DEFAULT 5,
    min_age INTEGER NOT NULL DEFAULT 18,
    max_age INTEGER,
    max_age_from_batch INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE journey_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id INTEGER NOT NULL REFERENCES journey_schemes(id),
    number INTEGER NOT NULL UNIQUE CHECK (number > 0),
    opens_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only: a mistake is fixed by a later event whose correction_of names it.
CREATE TABLE journey_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    stage TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('counter', 'import', 'api')),
    actor_id INTEGER REFERENCES users(id),
    counter_id INTEGER REFERENCES counters(id),
    batch_id INTEGER REFERENCES journey_batches(id),
    card_number TEXT,
    training_title TEXT,
    training_platform TEXT,
    amount INTEGER,
    channel TEXT,
    detail TEXT,
    correction_of INTEGER REFERENCES journey_events(id),
    voids BOOLEAN NOT NULL DEFAULT 0,
    override_reason TEXT,
    eligibility_reason TEXT,
    correction_reason TEXT
);
CREATE INDEX journey_events_participant_idx ON journey_events (participant_id, id);

CREATE TABLE journey_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    officer_id INTEGER NOT NULL REFERENCES users(id),
    counter_id INTEGER REFERENCES counters(id),
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    steps TEXT NOT NULL,
    outcome TEXT NOT NULL,
    next_follow_up TEXT,
    notes TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX journey_sessions_participant_idx ON journey_sessions (participant_id, id);

CREATE TABLE journey_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    officer_id INTEGER NOT NULL REFERENCES users(id),
    counter_id INTEGER REFERENCES counters(id),
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    result TEXT NOT NULL,
    note TEXT
);
CREATE INDEX journey_contacts_participant_idx ON journey_contacts (participant_id, id);

-- A revoked card bars the NIK (by its blind index) from every later batch.
CREATE TABLE journey_barred (
    nik_index BLOB PRIMARY KEY,
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    since TEXT NOT NULL
);

-- One row per participant, rewritten from that participant's events, sessions and contacts in
-- the same transaction as each change (and rebuilt by `loket journey rebuild`). Days are
-- counted from 1970-01-01 so both engines subtract them alike.
CREATE TABLE journey_progress (
    participant_id INTEGER PRIMARY KEY REFERENCES participants(id),
    counter_id INTEGER,
    office_id INTEGER,
    province_code TEXT,
    owner_id INTEGER,
    scheme_id INTEGER,
    batch_number INTEGER,
    stage TEXT NOT NULL,
    stage_day INTEGER,
    started_day INTEGER,
    d_account_created INTEGER,
    d_profile_verified INTEGER,
    d_test_passed INTEGER,
    d_joined_batch INTEGER,
    d_accepted INTEGER,
    d_not_accepted INTEGER,
    d_payout_linked INTEGER,
    d_training_bought INTEGER,
    d_training_completed INTEGER,
    d_rated INTEGER,
    d_incentive_paid INTEGER,
    d_surveys_done INTEGER,
    d_finished INTEGER,
    d_revoked INTEGER,
    d_withdrawn INTEGER,
    spent INTEGER NOT NULL DEFAULT 0,
    incentives_paid INTEGER NOT NULL DEFAULT 0,
    surveys_paid INTEGER NOT NULL DEFAULT 0,
    purchase_deadline_day INTEGER,
    incentive_overdue_day INTEGER,
    survey_overdue_day INTEGER,
    last_contact_day INTEGER,
    next_follow_up_day INTEGER,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX journey_progress_counter_idx ON journey_progress (counter_id, stage);
CREATE INDEX journey_progress_owner_idx ON journey_progress (owner_id);
CREATE INDEX journey_progress_office_idx ON journey_progress (office_id);
CREATE INDEX journey_progress_province_idx ON journey_progress (province_code);
CREATE INDEX journey_progress_started_idx ON journey_progress (started_day);

INSERT INTO journey_schemes (code, name, starts_on, training_balance, incentive_amount, incentive_count,
    survey_amount, survey_count, purchase_days, incentive_first_after_days, incentive_interval_days,
    survey_first_after_days, survey_interval_days, grace_working_days, min_age, max_age, max_age_from_batch, created_at)
VALUES
    ('2020', 'Skema 2020–2021 (semi bansos)', '2020-04-01', 1000000, 600000, 4, 50000, 3, 30, 5, 30, 5, 30, 5, 18, 64, 18, '2020-04-01T00:00:00Z'),
    ('2023', 'Skema normal 2023–', '2023-03-01', 3500000, 600000, 1, 50000, 2, 15, 5, 30, 5, 30, 5, 18, 64, 1, '2023-03-01T00:00:00Z');
