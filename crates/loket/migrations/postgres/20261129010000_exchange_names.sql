-- The programme-office exchange lives in one feature, `exchange`: its tables, indexes,
-- constraints and sequences are named for it. Renames only; every row stays.

ALTER TABLE reconcile_uploads RENAME TO exchange_uploads;
ALTER TABLE reconcile_rows RENAME TO exchange_rows;

ALTER SEQUENCE reconcile_uploads_id_seq RENAME TO exchange_uploads_id_seq;
ALTER SEQUENCE reconcile_rows_id_seq RENAME TO exchange_rows_id_seq;

-- Renaming the index behind a primary key or unique constraint renames the constraint too.
ALTER INDEX reconcile_uploads_pkey RENAME TO exchange_uploads_pkey;
ALTER INDEX reconcile_rows_pkey RENAME TO exchange_rows_pkey;
ALTER INDEX reconcile_rows_upload_id_row_no_key RENAME TO exchange_rows_upload_id_row_no_key;
ALTER INDEX reconcile_rows_decision_idx RENAME TO exchange_rows_decision_idx;
ALTER INDEX reconcile_rows_outreach_idx RENAME TO exchange_rows_outreach_idx;
ALTER INDEX reconcile_rows_nik_idx RENAME TO exchange_rows_nik_idx;

ALTER TABLE exchange_uploads RENAME CONSTRAINT reconcile_uploads_status_check TO exchange_uploads_status_check;
ALTER TABLE exchange_uploads RENAME CONSTRAINT reconcile_uploads_uploaded_by_fkey TO exchange_uploads_uploaded_by_fkey;
ALTER TABLE exchange_uploads RENAME CONSTRAINT reconcile_uploads_applied_by_fkey TO exchange_uploads_applied_by_fkey;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_decision_check TO exchange_rows_decision_check;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_upload_id_fkey TO exchange_rows_upload_id_fkey;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_participant_id_fkey TO exchange_rows_participant_id_fkey;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_master_id_fkey TO exchange_rows_master_id_fkey;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_decided_by_fkey TO exchange_rows_decided_by_fkey;
ALTER TABLE exchange_rows RENAME CONSTRAINT reconcile_rows_outreach_counter_id_fkey TO exchange_rows_outreach_counter_id_fkey;
