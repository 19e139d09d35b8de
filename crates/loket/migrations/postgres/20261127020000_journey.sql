-- The Prakerja journey (PostgreSQL): scheme rules as data, batches, the event log, assistance
-- sessions, contact attempts, barred NIKs, and a per-participant projection of the events.

-- Rules differ by scheme year; they are rows, not constants, so a new scheme needs no release.
CREATE TABLE journey_schemes (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    starts_on DATE NOT NULL,
    training_balance BIGINT NOT NULL CHECK (training_balance >= 0),
    incentive_amount BIGINT NOT NULL CHECK (incentive_amount >= 0),
    incentive_count BIGINT NOT NULL CHECK (incentive_count >= 0),
    survey_amount BIGINT NOT NULL CHECK (survey_amount >= 0),
    survey_count BIGINT NOT NULL CHECK (survey_count >= 0),
    purchase_days BIGINT NOT NULL CHECK (purchase_days > 0),
    incentive_first_after_days BIGINT NOT NULL,
    incentive_interval_days BIGINT NOT NULL,
    survey_first_after_days BIGINT NOT NULL,
    survey_interval_days BIGINT NOT NULL,
    grace_working_days BIGINT NOT NULL DEFAULT 5,
    min_age BIGINT NOT NULL DEFAULT 18,
    max_age BIGINT,
    max_age_from_batch BIGINT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE journey_batches (
    id BIGSERIAL PRIMARY KEY,
    scheme_id BIGINT NOT NULL REFERENCES journey_schemes(id),
    number BIGINT NOT NULL UNIQUE CHECK (number > 0),
    opens_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Append-only: a mistake is fixed by a later event whose correction_of names it.
CREATE TABLE journey_events (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    stage TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('counter', 'import', 'api')),
    actor_id BIGINT REFERENCES users(id),
    counter_id BIGINT REFERENCES counters(id),
    batch_id BIGINT REFERENCES journey_batches(id),
    card_number TEXT,
    training_title TEXT,
    training_platform TEXT,
    amount BIGINT,
    channel TEXT,
    detail TEXT,
    correction_of BIGINT REFERENCES journey_events(id),
    voids BOOLEAN NOT NULL DEFAULT FALSE,
    override_reason TEXT,
    eligibility_reason TEXT,
    correction_reason TEXT
);
CREATE INDEX journey_events_participant_idx ON journey_events (participant_id, id);

CREATE TABLE journey_sessions (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    officer_id BIGINT NOT NULL REFERENCES users(id),
    counter_id BIGINT REFERENCES counters(id),
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    channel TEXT NOT NULL,
    steps TEXT NOT NULL,
    outcome TEXT NOT NULL,
    next_follow_up DATE,
    notes TEXT,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX journey_sessions_participant_idx ON journey_sessions (participant_id, id);

CREATE TABLE journey_contacts (
    id BIGSERIAL PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    officer_id BIGINT NOT NULL REFERENCES users(id),
    counter_id BIGINT REFERENCES counters(id),
    at TIMESTAMPTZ NOT NULL,
    channel TEXT NOT NULL,
    result TEXT NOT NULL,
    note TEXT
);
CREATE INDEX journey_contacts_participant_idx ON journey_contacts (participant_id, id);

-- A revoked card bars the NIK (by its blind index) from every later batch.
CREATE TABLE journey_barred (
    nik_index BYTEA PRIMARY KEY,
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    since TIMESTAMPTZ NOT NULL
);

-- One row per participant, rewritten from that participant's events, sessions and contacts in
-- the same transaction as each change (and rebuilt by `loket journey rebuild`). Days are
-- counted from 1970-01-01 so both engines subtract them alike.
CREATE TABLE journey_progress (
    participant_id BIGINT PRIMARY KEY REFERENCES participants(id),
    counter_id BIGINT,
    office_id BIGINT,
    province_code TEXT,
    owner_id BIGINT,
    scheme_id BIGINT,
    batch_number BIGINT,
    stage TEXT NOT NULL,
    stage_day BIGINT,
    started_day BIGINT,
    d_account_created BIGINT,
    d_profile_verified BIGINT,
    d_test_passed BIGINT,
    d_joined_batch BIGINT,
    d_accepted BIGINT,
    d_not_accepted BIGINT,
    d_payout_linked BIGINT,
    d_training_bought BIGINT,
    d_training_completed BIGINT,
    d_rated BIGINT,
    d_incentive_paid BIGINT,
    d_surveys_done BIGINT,
    d_finished BIGINT,
    d_revoked BIGINT,
    d_withdrawn BIGINT,
    spent BIGINT NOT NULL DEFAULT 0,
    incentives_paid BIGINT NOT NULL DEFAULT 0,
    surveys_paid BIGINT NOT NULL DEFAULT 0,
    purchase_deadline_day BIGINT,
    incentive_overdue_day BIGINT,
    survey_overdue_day BIGINT,
    last_contact_day BIGINT,
    next_follow_up_day BIGINT,
    version BIGINT NOT NULL DEFAULT 1
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
    ('2020', 'Skema 2020–2021 (semi bansos)', '2020-04-01', 1000000, 600000, 4, 50000, 3, 30, 5, 30, 5, 30, 5, 18, 64, 18, '2020-04-01T00:00:00Z'::timestamptz),
    ('2023', 'Skema normal 2023–', '2023-03-01', 3500000, 600000, 1, 50000, 2, 15, 5, 30, 5, 30, 5, 18, 64, 1, '2023-03-01T00:00:00Z');
