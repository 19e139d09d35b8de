-- The programme-office exchange lives in one feature, `exchange`: its tables and indexes are
-- named for it. Renames only; every row stays. SQLite rewrites the foreign keys that name a
-- renamed table (exchange_rows.upload_id); no trigger or view names these tables. SQLite
-- cannot rename an index, so the three named indexes are made again under the new names.

ALTER TABLE reconcile_uploads RENAME TO exchange_uploads;
ALTER TABLE reconcile_rows RENAME TO exchange_rows;

DROP INDEX reconcile_rows_decision_idx;
DROP INDEX reconcile_rows_outreach_idx;
DROP INDEX reconcile_rows_nik_idx;
CREATE INDEX exchange_rows_decision_idx ON exchange_rows (upload_id, decision);
CREATE INDEX exchange_rows_outreach_idx ON exchange_rows (outreach_counter_id);
CREATE INDEX exchange_rows_nik_idx ON exchange_rows (nik_index);
