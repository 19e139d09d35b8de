-- Reach definitions as data (SQLite): a reach target names the definition it counts
-- (registered, accepted, training_bought, training_completed, incentive_paid, assisted), so
-- targets for several definitions of the same scope and period live side by side. SQLite
-- cannot change a UNIQUE constraint in place, so the table is rebuilt with the same ids.
CREATE TABLE targets_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metric TEXT NOT NULL CHECK (metric IN ('counters_operating', 'officers_certified', 'reached', 'card_received')),
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('national', 'province', 'office', 'counter')),
    scope_code TEXT NOT NULL DEFAULT '',
    period_end DATE NOT NULL,
    value BIGINT NOT NULL CHECK (value >= 0),
    -- '' for metrics that are not reach; `card_received` always counts `accepted`.
    definition TEXT NOT NULL DEFAULT '' CHECK (definition IN ('', 'registered', 'accepted', 'training_bought', 'training_completed', 'incentive_paid', 'assisted')),
    UNIQUE (metric, definition, scope_kind, scope_code, period_end)
);
INSERT INTO targets_new (id, metric, scope_kind, scope_code, period_end, value, definition)
    SELECT id, metric, scope_kind, scope_code, period_end, value,
        CASE metric WHEN 'reached' THEN 'registered' WHEN 'card_received' THEN 'accepted' ELSE '' END
    FROM targets;
DROP TABLE targets;
ALTER TABLE targets_new RENAME TO targets;
-- The seed's 110,000 are Purna PMI accepted as card recipients ("110 ribu Purna PMI sebagai
-- penerima Kartu Prakerja"), not registrations: the seeded row says so.
UPDATE targets SET definition = 'accepted'
    WHERE metric = 'reached' AND scope_kind = 'national' AND period_end = '2021-12-31' AND value = 110000;
