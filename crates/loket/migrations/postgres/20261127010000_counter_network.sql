-- The counter network: lifecycle, officers and ToT, targets as data, settings (PostgreSQL).
ALTER TABLE offices ADD COLUMN address TEXT;
ALTER TABLE offices ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

ALTER TABLE counters ADD COLUMN location_type TEXT NOT NULL DEFAULT 'office';
ALTER TABLE counters ADD COLUMN address TEXT;
ALTER TABLE counters ADD COLUMN region_code TEXT;
ALTER TABLE counters ADD COLUMN opening_hours TEXT;
ALTER TABLE counters ADD COLUMN services TEXT;
-- The date the rollout plan expects the counter to operate: "behind plan" is measured against it.
ALTER TABLE counters ADD COLUMN planned_open DATE;
ALTER TABLE counters ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Every status change with the day it took effect; the dashboard rebuilds any past day from it.
CREATE TABLE counter_status_events (
    id BIGSERIAL PRIMARY KEY,
    counter_id BIGINT NOT NULL REFERENCES counters(id),
    status TEXT NOT NULL CHECK (status IN ('planned', 'preparing', 'operating', 'paused', 'closed')),
    effective_on DATE NOT NULL,
    note TEXT,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX counter_status_events_counter_idx ON counter_status_events (counter_id, effective_on);

CREATE TABLE officers (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    full_name TEXT NOT NULL,
    cascade_role TEXT NOT NULL CHECK (cascade_role IN ('central_trainer', 'counter_officer')),
    created_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE tot_batches (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL CHECK (level IN ('central', 'counter')),
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    trainer_officer_id BIGINT REFERENCES officers(id),
    trainer_name TEXT NOT NULL,
    topics TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE tot_results (
    batch_id BIGINT NOT NULL REFERENCES tot_batches(id),
    officer_id BIGINT NOT NULL REFERENCES officers(id),
    attended BOOLEAN NOT NULL,
    score BIGINT,
    passed BOOLEAN NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, officer_id)
);

CREATE TABLE certifications (
    id BIGSERIAL PRIMARY KEY,
    officer_id BIGINT NOT NULL REFERENCES officers(id),
    batch_id BIGINT NOT NULL REFERENCES tot_batches(id),
    certified_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    revoked_on DATE,
    UNIQUE (officer_id, batch_id)
);
CREATE INDEX certifications_officer_idx ON certifications (officer_id, valid_until);

-- Targets are data: metric x scope x period end x value.
CREATE TABLE targets (
    id BIGSERIAL PRIMARY KEY,
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

-- Registrations per counter and WIB day, kept by statement triggers (one aggregate per
-- multi-row INSERT) in the same transaction as the participant rows, so the dashboard reads
-- thousands of rows instead of scanning millions and still agrees exactly with a direct count.
CREATE TABLE reach_daily (
    counter_id BIGINT NOT NULL,
    day DATE NOT NULL,
    registered BIGINT NOT NULL,
    PRIMARY KEY (counter_id, day)
);
INSERT INTO reach_daily (counter_id, day, registered)
    SELECT counter_id, (created_at AT TIME ZONE INTERVAL '+07:00')::date, COUNT(*) FROM participants
    WHERE counter_id IS NOT NULL GROUP BY 1, 2;

CREATE FUNCTION reach_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reach_daily (counter_id, day, registered)
        SELECT counter_id, (created_at AT TIME ZONE INTERVAL '+07:00')::date, COUNT(*) FROM new_rows
        WHERE counter_id IS NOT NULL GROUP BY 1, 2
    ON CONFLICT (counter_id, day) DO UPDATE SET registered = reach_daily.registered + excluded.registered;
    RETURN NULL;
END $$;

CREATE FUNCTION reach_daily_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reach_daily r SET registered = r.registered - o.n
    FROM (SELECT counter_id, (created_at AT TIME ZONE INTERVAL '+07:00')::date AS day, COUNT(*) AS n
          FROM old_rows WHERE counter_id IS NOT NULL GROUP BY 1, 2) o
    WHERE r.counter_id = o.counter_id AND r.day = o.day;
    RETURN NULL;
END $$;

CREATE FUNCTION reach_daily_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reach_daily r SET registered = r.registered - o.n
    FROM (SELECT counter_id, (created_at AT TIME ZONE INTERVAL '+07:00')::date AS day, COUNT(*) AS n
          FROM old_rows WHERE counter_id IS NOT NULL GROUP BY 1, 2) o
    WHERE r.counter_id = o.counter_id AND r.day = o.day;
    INSERT INTO reach_daily (counter_id, day, registered)
        SELECT counter_id, (created_at AT TIME ZONE INTERVAL '+07:00')::date, COUNT(*) FROM new_rows
        WHERE counter_id IS NOT NULL GROUP BY 1, 2
    ON CONFLICT (counter_id, day) DO UPDATE SET registered = reach_daily.registered + excluded.registered;
    RETURN NULL;
END $$;

CREATE TRIGGER participants_reach_insert AFTER INSERT ON participants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reach_daily_add();
CREATE TRIGGER participants_reach_delete AFTER DELETE ON participants
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reach_daily_remove();
CREATE TRIGGER participants_reach_update AFTER UPDATE ON participants
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reach_daily_move();

INSERT INTO targets (metric, scope_kind, scope_code, period_end, value) VALUES
    ('counters_operating', 'national', '', '2021-06-30', 5),
    ('counters_operating', 'national', '', '2021-12-31', 92),
    ('reached', 'national', '', '2021-12-31', 110000);
