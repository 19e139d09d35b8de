-- Funnel roll-up (SQLite): per started month and scope, how many people started and reached
-- each stage, and how many days they spent between the funnel's stages. Kept by triggers in
-- the same transaction as each journey_progress change, so the national funnel reads a few
-- thousand rows instead of scanning every participant, and still agrees exactly with a direct
-- count. Scopes are written as the funnel names them: `nation`, `province:32`, `office:5`,
-- `counter:7`; months as yyyymm of `started_day`.
CREATE TABLE journey_funnel_counts (
    scope TEXT NOT NULL,
    month INTEGER NOT NULL,
    cohort INTEGER NOT NULL,
    r_account_created INTEGER NOT NULL,
    r_profile_verified INTEGER NOT NULL,
    r_test_passed INTEGER NOT NULL,
    r_joined_batch INTEGER NOT NULL,
    r_accepted INTEGER NOT NULL,
    r_not_accepted INTEGER NOT NULL,
    r_payout_linked INTEGER NOT NULL,
    r_training_bought INTEGER NOT NULL,
    r_training_completed INTEGER NOT NULL,
    r_rated INTEGER NOT NULL,
    r_incentive_paid INTEGER NOT NULL,
    r_surveys_done INTEGER NOT NULL,
    r_finished INTEGER NOT NULL,
    r_revoked INTEGER NOT NULL,
    r_withdrawn INTEGER NOT NULL,
    PRIMARY KEY (scope, month)
);

-- People by days spent from `stage` to the next stage of the funnel.
CREATE TABLE journey_funnel_dwell (
    scope TEXT NOT NULL,
    month INTEGER NOT NULL,
    stage TEXT NOT NULL,
    days INTEGER NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (scope, month, stage, days)
);

-- Participants whose projection rows a bulk load is writing: the triggers leave them to the
-- loader, which adds them to the roll-up in one grouped statement (same transaction).
CREATE TABLE journey_rollup_pending (
    participant_id INTEGER PRIMARY KEY
);

-- One row per participant and scope they count in.
CREATE VIEW journey_funnel_count_rows AS
SELECT participant_id, scope, month, d_account_created, d_profile_verified, d_test_passed, d_joined_batch,
    d_accepted, d_not_accepted, d_payout_linked, d_training_bought, d_training_completed, d_rated,
    d_incentive_paid, d_surveys_done, d_finished, d_revoked, d_withdrawn
FROM (
    SELECT p.*,
        CASE l.level WHEN 0 THEN 'nation' WHEN 1 THEN 'province:' || p.province_code
            WHEN 2 THEN 'office:' || p.office_id ELSE 'counter:' || p.counter_id END AS scope,
        CAST(strftime('%Y%m', p.started_day * 86400, 'unixepoch') AS INTEGER) AS month
    FROM journey_progress p
    CROSS JOIN (SELECT 0 AS level UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) l
    WHERE p.started_day IS NOT NULL
)
WHERE scope IS NOT NULL;

-- One row per participant, scope and funnel step both of whose stages they reached.
CREATE VIEW journey_funnel_dwell_rows AS
SELECT participant_id, scope, month, stage, days
FROM (
    SELECT c.participant_id, c.scope, c.month, k.stage,
        CASE k.stage
            WHEN 'account_created' THEN c.d_profile_verified - c.d_account_created
            WHEN 'profile_verified' THEN c.d_test_passed - c.d_profile_verified
            WHEN 'test_passed' THEN c.d_joined_batch - c.d_test_passed
            WHEN 'joined_batch' THEN c.d_accepted - c.d_joined_batch
            WHEN 'accepted' THEN c.d_payout_linked - c.d_accepted
            WHEN 'payout_linked' THEN c.d_training_bought - c.d_payout_linked
            WHEN 'training_bought' THEN c.d_training_completed - c.d_training_bought
            WHEN 'training_completed' THEN c.d_rated - c.d_training_completed
            WHEN 'rated' THEN c.d_incentive_paid - c.d_rated
            WHEN 'incentive_paid' THEN c.d_surveys_done - c.d_incentive_paid
            WHEN 'surveys_done' THEN c.d_finished - c.d_surveys_done
        END AS days
    FROM journey_funnel_count_rows c
    CROSS JOIN (SELECT 'account_created' AS stage UNION ALL SELECT 'profile_verified' UNION ALL SELECT 'test_passed'
        UNION ALL SELECT 'joined_batch' UNION ALL SELECT 'accepted' UNION ALL SELECT 'payout_linked'
        UNION ALL SELECT 'training_bought' UNION ALL SELECT 'training_completed' UNION ALL SELECT 'rated'
        UNION ALL SELECT 'incentive_paid' UNION ALL SELECT 'surveys_done') k
)
WHERE days IS NOT NULL;

INSERT INTO journey_funnel_counts
SELECT scope, month, COUNT(*), COUNT(d_account_created), COUNT(d_profile_verified), COUNT(d_test_passed),
    COUNT(d_joined_batch), COUNT(d_accepted), COUNT(d_not_accepted), COUNT(d_payout_linked),
    COUNT(d_training_bought), COUNT(d_training_completed), COUNT(d_rated), COUNT(d_incentive_paid),
    COUNT(d_surveys_done), COUNT(d_finished), COUNT(d_revoked), COUNT(d_withdrawn)
FROM journey_funnel_count_rows GROUP BY scope, month;
INSERT INTO journey_funnel_dwell
SELECT scope, month, stage, days, COUNT(*) FROM journey_funnel_dwell_rows GROUP BY scope, month, stage, days;

-- SQLite triggers run per row: the old row is taken out before the change (it is still in the
-- table then) and the new one added after it.
CREATE TRIGGER journey_progress_rollup_delete BEFORE DELETE ON journey_progress
WHEN NOT EXISTS (SELECT 1 FROM journey_rollup_pending WHERE participant_id = OLD.participant_id)
BEGIN
    INSERT INTO journey_funnel_counts
    SELECT scope, month, -COUNT(*), -COUNT(d_account_created), -COUNT(d_profile_verified), -COUNT(d_test_passed), -COUNT(d_joined_batch), -COUNT(d_accepted), -COUNT(d_not_accepted), -COUNT(d_payout_linked), -COUNT(d_training_bought), -COUNT(d_training_completed), -COUNT(d_rated), -COUNT(d_incentive_paid), -COUNT(d_surveys_done), -COUNT(d_finished), -COUNT(d_revoked), -COUNT(d_withdrawn)
    FROM journey_funnel_count_rows WHERE participant_id = OLD.participant_id GROUP BY scope, month
    ON CONFLICT (scope, month) DO UPDATE SET
        cohort = cohort + excluded.cohort,
        r_account_created = r_account_created + excluded.r_account_created,
        r_profile_verified = r_profile_verified + excluded.r_profile_verified,
        r_test_passed = r_test_passed + excluded.r_test_passed,
        r_joined_batch = r_joined_batch + excluded.r_joined_batch,
        r_accepted = r_accepted + excluded.r_accepted,
        r_not_accepted = r_not_accepted + excluded.r_not_accepted,
        r_payout_linked = r_payout_linked + excluded.r_payout_linked,
        r_training_bought = r_training_bought + excluded.r_training_bought,
        r_training_completed = r_training_completed + excluded.r_training_completed,
        r_rated = r_rated + excluded.r_rated,
        r_incentive_paid = r_incentive_paid + excluded.r_incentive_paid,
        r_surveys_done = r_surveys_done + excluded.r_surveys_done,
        r_finished = r_finished + excluded.r_finished,
        r_revoked = r_revoked + excluded.r_revoked,
        r_withdrawn = r_withdrawn + excluded.r_withdrawn;
    INSERT INTO journey_funnel_dwell
    SELECT scope, month, stage, days, -COUNT(*) FROM journey_funnel_dwell_rows
    WHERE participant_id = OLD.participant_id GROUP BY scope, month, stage, days
    ON CONFLICT (scope, month, stage, days) DO UPDATE SET people = people + excluded.people;
END;
CREATE TRIGGER journey_progress_rollup_update_out BEFORE UPDATE ON journey_progress
WHEN NOT EXISTS (SELECT 1 FROM journey_rollup_pending WHERE participant_id = OLD.participant_id)
BEGIN
    INSERT INTO journey_funnel_counts
    SELECT scope, month, -COUNT(*), -COUNT(d_account_created), -COUNT(d_profile_verified), -COUNT(d_test_passed), -COUNT(d_joined_batch), -COUNT(d_accepted), -COUNT(d_not_accepted), -COUNT(d_payout_linked), -COUNT(d_training_bought), -COUNT(d_training_completed), -COUNT(d_rated), -COUNT(d_incentive_paid), -COUNT(d_surveys_done), -COUNT(d_finished), -COUNT(d_revoked), -COUNT(d_withdrawn)
    FROM journey_funnel_count_rows WHERE participant_id = OLD.participant_id GROUP BY scope, month
    ON CONFLICT (scope, month) DO UPDATE SET
        cohort = cohort + excluded.cohort,
        r_account_created = r_account_created + excluded.r_account_created,
        r_profile_verified = r_profile_verified + excluded.r_profile_verified,
        r_test_passed = r_test_passed + excluded.r_test_passed,
        r_joined_batch = r_joined_batch + excluded.r_joined_batch,
        r_accepted = r_accepted + excluded.r_accepted,
        r_not_accepted = r_not_accepted + excluded.r_not_accepted,
        r_payout_linked = r_payout_linked + excluded.r_payout_linked,
        r_training_bought = r_training_bought + excluded.r_training_bought,
        r_training_completed = r_training_completed + excluded.r_training_completed,
        r_rated = r_rated + excluded.r_rated,
        r_incentive_paid = r_incentive_paid + excluded.r_incentive_paid,
        r_surveys_done = r_surveys_done + excluded.r_surveys_done,
        r_finished = r_finished + excluded.r_finished,
        r_revoked = r_revoked + excluded.r_revoked,
        r_withdrawn = r_withdrawn + excluded.r_withdrawn;
    INSERT INTO journey_funnel_dwell
    SELECT scope, month, stage, days, -COUNT(*) FROM journey_funnel_dwell_rows
    WHERE participant_id = OLD.participant_id GROUP BY scope, month, stage, days
    ON CONFLICT (scope, month, stage, days) DO UPDATE SET people = people + excluded.people;
END;
CREATE TRIGGER journey_progress_rollup_update_in AFTER UPDATE ON journey_progress
WHEN NOT EXISTS (SELECT 1 FROM journey_rollup_pending WHERE participant_id = NEW.participant_id)
BEGIN
    INSERT INTO journey_funnel_counts
    SELECT scope, month, COUNT(*), COUNT(d_account_created), COUNT(d_profile_verified), COUNT(d_test_passed), COUNT(d_joined_batch), COUNT(d_accepted), COUNT(d_not_accepted), COUNT(d_payout_linked), COUNT(d_training_bought), COUNT(d_training_completed), COUNT(d_rated), COUNT(d_incentive_paid), COUNT(d_surveys_done), COUNT(d_finished), COUNT(d_revoked), COUNT(d_withdrawn)
    FROM journey_funnel_count_rows WHERE participant_id = NEW.participant_id GROUP BY scope, month
    ON CONFLICT (scope, month) DO UPDATE SET
        cohort = cohort + excluded.cohort,
        r_account_created = r_account_created + excluded.r_account_created,
        r_profile_verified = r_profile_verified + excluded.r_profile_verified,
        r_test_passed = r_test_passed + excluded.r_test_passed,
        r_joined_batch = r_joined_batch + excluded.r_joined_batch,
        r_accepted = r_accepted + excluded.r_accepted,
        r_not_accepted = r_not_accepted + excluded.r_not_accepted,
        r_payout_linked = r_payout_linked + excluded.r_payout_linked,
        r_training_bought = r_training_bought + excluded.r_training_bought,
        r_training_completed = r_training_completed + excluded.r_training_completed,
        r_rated = r_rated + excluded.r_rated,
        r_incentive_paid = r_incentive_paid + excluded.r_incentive_paid,
        r_surveys_done = r_surveys_done + excluded.r_surveys_done,
        r_finished = r_finished + excluded.r_finished,
        r_revoked = r_revoked + excluded.r_revoked,
        r_withdrawn = r_withdrawn + excluded.r_withdrawn;
    INSERT INTO journey_funnel_dwell
    SELECT scope, month, stage, days, COUNT(*) FROM journey_funnel_dwell_rows
    WHERE participant_id = NEW.participant_id GROUP BY scope, month, stage, days
    ON CONFLICT (scope, month, stage, days) DO UPDATE SET people = people + excluded.people;
END;
CREATE TRIGGER journey_progress_rollup_insert AFTER INSERT ON journey_progress
WHEN NOT EXISTS (SELECT 1 FROM journey_rollup_pending WHERE participant_id = NEW.participant_id)
BEGIN
    INSERT INTO journey_funnel_counts
    SELECT scope, month, COUNT(*), COUNT(d_account_created), COUNT(d_profile_verified), COUNT(d_test_passed), COUNT(d_joined_batch), COUNT(d_accepted), COUNT(d_not_accepted), COUNT(d_payout_linked), COUNT(d_training_bought), COUNT(d_training_completed), COUNT(d_rated), COUNT(d_incentive_paid), COUNT(d_surveys_done), COUNT(d_finished), COUNT(d_revoked), COUNT(d_withdrawn)
    FROM journey_funnel_count_rows WHERE participant_id = NEW.participant_id GROUP BY scope, month
    ON CONFLICT (scope, month) DO UPDATE SET
        cohort = cohort + excluded.cohort,
        r_account_created = r_account_created + excluded.r_account_created,
        r_profile_verified = r_profile_verified + excluded.r_profile_verified,
        r_test_passed = r_test_passed + excluded.r_test_passed,
        r_joined_batch = r_joined_batch + excluded.r_joined_batch,
        r_accepted = r_accepted + excluded.r_accepted,
        r_not_accepted = r_not_accepted + excluded.r_not_accepted,
        r_payout_linked = r_payout_linked + excluded.r_payout_linked,
        r_training_bought = r_training_bought + excluded.r_training_bought,
        r_training_completed = r_training_completed + excluded.r_training_completed,
        r_rated = r_rated + excluded.r_rated,
        r_incentive_paid = r_incentive_paid + excluded.r_incentive_paid,
        r_surveys_done = r_surveys_done + excluded.r_surveys_done,
        r_finished = r_finished + excluded.r_finished,
        r_revoked = r_revoked + excluded.r_revoked,
        r_withdrawn = r_withdrawn + excluded.r_withdrawn;
    INSERT INTO journey_funnel_dwell
    SELECT scope, month, stage, days, COUNT(*) FROM journey_funnel_dwell_rows
    WHERE participant_id = NEW.participant_id GROUP BY scope, month, stage, days
    ON CONFLICT (scope, month, stage, days) DO UPDATE SET people = people + excluded.people;
END;

-- The follow-up list ranks a counter's active people by what makes them due; this index holds
-- every column the ranking reads, so it never visits the table for the thousands it passes over.
CREATE INDEX journey_progress_due_idx ON journey_progress (counter_id, owner_id, stage, purchase_deadline_day,
    incentive_overdue_day, survey_overdue_day, next_follow_up_day, last_contact_day, started_day, participant_id)
    WHERE stage NOT IN ('finished', 'revoked', 'withdrawn', 'not_registered');
