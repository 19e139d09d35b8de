-- Reach definitions as data (PostgreSQL): a reach target names the definition it counts
-- (registered, accepted, training_bought, training_completed, incentive_paid, assisted), so
-- targets for several definitions of the same scope and period live side by side.
-- '' for metrics that are not reach; `card_received` always counts `accepted`.
ALTER TABLE targets ADD COLUMN definition TEXT NOT NULL DEFAULT ''
    CHECK (definition IN ('', 'registered', 'accepted', 'training_bought', 'training_completed', 'incentive_paid', 'assisted'));
UPDATE targets SET definition = CASE metric WHEN 'reached' THEN 'registered' WHEN 'card_received' THEN 'accepted' ELSE '' END;
ALTER TABLE targets DROP CONSTRAINT targets_metric_scope_kind_scope_code_period_end_key;
ALTER TABLE targets ADD CONSTRAINT targets_metric_definition_scope_period_key
    UNIQUE (metric, definition, scope_kind, scope_code, period_end);
-- The seed's 110,000 are Purna PMI accepted as card recipients ("110 ribu Purna PMI sebagai
-- penerima Kartu Prakerja"), not registrations: the seeded row says so.
UPDATE targets SET definition = 'accepted'
    WHERE metric = 'reached' AND scope_kind = 'national' AND period_end = '2021-12-31' AND value = 110000;
