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

-- Registrations per counter and WIB day, kept by triggers in the same transaction as the
-- participant row, so the dashboard reads thousands of rows instead of scanning millions and
-- still agrees exactly with a direct count.
CREATE TABLE reach_daily (
    counter_id INTEGER NOT NULL,
    day DATE NOT NULL,
    registered BIGINT NOT NULL,
    PRIMARY KEY (counter_id, day)
);
INSERT INTO reach_daily (counter_id, day, registered)
    SELECT counter_id, date(created_at, '+7 hours'), COUNT(*) FROM participants
    WHERE counter_id IS NOT NULL GROUP BY counter_id, date(created_at, '+7 hours');
CREATE TRIGGER participants_reach_insert AFTER INSERT ON participants WHEN NEW.counter_id IS NOT NULL
BEGIN
    INSERT INTO reach_daily (counter_id, day, registered) VALUES (NEW.counter_id, date(NEW.created_at, '+7 hours'), 1)
    ON CONFLICT (counter_id, day) DO UPDATE SET registered = registered + 1;
END;
CREATE TRIGGER participants_reach_delete AFTER DELETE ON participants WHEN OLD.counter_id IS NOT NULL
BEGIN
    UPDATE reach_daily SET registered = registered - 1
    WHERE counter_id = OLD.counter_id AND day = date(OLD.created_at, '+7 hours');
END;
CREATE TRIGGER participants_reach_update_old AFTER UPDATE OF counter_id, created_at ON participants WHEN OLD.counter_id IS NOT NULL
BEGIN
    UPDATE reach_daily SET registered = registered - 1
    WHERE counter_id = OLD.counter_id AND day = date(OLD.created_at, '+7 hours');
END;
CREATE TRIGGER participants_reach_update_new AFTER UPDATE OF counter_id, created_at ON participants WHEN NEW.counter_id IS NOT NULL
BEGIN
    INSERT INTO reach_daily (counter_id, day, registered) VALUES (NEW.counter_id, date(NEW.created_at, '+7 hours'), 1)
    ON CONFLICT (counter_id, day) DO UPDATE SET registered = registered + 1;
END;

INSERT INTO targets (metric, scope_kind, scope_code, period_end, value) VALUES
    ('counters_operating', 'national', '', '2021-06-30', 5),
    ('counters_operating', 'national', '', '2021-12-31', 92),
    ('reached', 'national', '', '2021-12-31', 110000);
