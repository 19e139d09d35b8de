-- The counter network: lifecycle, officers and ToT, targets as data, settings (SQLite).
ALTER TABLE offices ADD COLUMN address TEXT;
ALTER TABLE offices ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

ALTER TABLE counters ADD COLUMN location_type TEXT NOT NULL DEFAULT 'office';
ALTER TABLE counters ADD COLUMN address TEXT;
ALTER TABLE counters ADD COLUMN region_code TEXT;
ALTER TABLE counters ADD COLUMN opening_hours TEXT;
ALTER TABLE counters ADD COLUMN services TEXT;
-- The date the rollout plan expects the counter to operate: "behind plan" is measured against it.
ALTER TABLE counters ADD COLUMN planned_open DATE;
ALTER TABLE counters ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Every status change with the day it took effect; the dashboard rebuilds any past day from it.
CREATE TABLE counter_status_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    status TEXT NOT NULL CHECK (status IN ('planned', 'preparing', 'operating', 'paused', 'closed')),
    effective_on DATE NOT NULL,
    note TEXT,
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX counter_status_events_counter_idx ON counter_status_events (counter_id, effective_on);

CREATE TABLE officers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id),
    full_name TEXT NOT NULL,
    cascade_role TEXT NOT NULL CHECK (cascade_role IN ('central_trainer', 'counter_officer')),
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE tot_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL CHECK (level IN ('central', 'counter')),
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    trainer_officer_id INTEGER REFERENCES officers(id),
    trainer_name TEXT NOT NULL,
    topics TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE tot_results (
    batch_id INTEGER NOT NULL REFERENCES tot_batches(id),
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    attended BOOLEAN NOT NULL,
    score INTEGER,
    passed BOOLEAN NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (batch_id, officer_id)
);

CREATE TABLE certifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    batch_id INTEGER NOT NULL REFERENCES tot_batches(id),
    certified_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    revoked_on DATE,
    UNIQUE (officer_id, batch_id)
);
CREATE INDEX certifications_officer_idx ON certifications (officer_id, valid_until);

-- Targets are data: metric x scope x period end x value.
CREATE TABLE targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metric TEXT NOT NULL CHECK (metric IN ('counters_operating', 'officers_certified', 'reached', 'card_received')),
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('national', 'province', 'office', 'counter')),
    scope_code TEXT NOT NULL DEFAULT '',
    period_end DATE NOT NULL,
    value BIGINT NOT NULL CHECK (value >= 0),
    UNIQUE (metric, scope_kind, scope_code, period_end)
);

CREATE TABLE network_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The registration day in WIB, so reach per day is one index scan on both engines.
ALTER TABLE participants ADD COLUMN reg_day DATE GENERATED ALWAYS AS (date(created_at, '+7 hours')) VIRTUAL;
CREATE INDEX participants_counter_day_idx ON participants (counter_id, reg_day);

INSERT INTO targets (metric, scope_kind, scope_code, period_end, value) VALUES
    ('counters_operating', 'national', '', '2021-06-30', 5),
    ('counters_operating', 'national', '', '2021-12-31', 92),
    ('reached', 'national', '', '2021-12-31', 110000);
