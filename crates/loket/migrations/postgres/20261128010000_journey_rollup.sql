-- Funnel roll-up (PostgreSQL): per started month and scope, how many people started and
-- reached each stage, and how many days they spent between the funnel's stages. Kept by triggers
-- in the same transaction as each journey_progress change, so the national funnel reads a few
-- thousand rows instead of scanning every participant, and still agrees exactly with a direct
-- count. Scopes are written as the funnel names them: `nation`, `province:32`, `office:5`,
-- `counter:7`; months as yyyymm of `started_day`.
CREATE TABLE journey_funnel_counts (
    scope TEXT NOT NULL,
    month BIGINT NOT NULL,
    cohort BIGINT NOT NULL,
    r_account_created BIGINT NOT NULL,
    r_profile_verified BIGINT NOT NULL,
    r_test_passed BIGINT NOT NULL,
    r_joined_batch BIGINT NOT NULL,
    r_accepted BIGINT NOT NULL,
    r_not_accepted BIGINT NOT NULL,
    r_payout_linked BIGINT NOT NULL,
    r_training_bought BIGINT NOT NULL,
    r_training_completed BIGINT NOT NULL,
    r_rated BIGINT NOT NULL,
    r_incentive_paid BIGINT NOT NULL,
    r_surveys_done BIGINT NOT NULL,
    r_finished BIGINT NOT NULL,
    r_revoked BIGINT NOT NULL,
    r_withdrawn BIGINT NOT NULL,
    PRIMARY KEY (scope, month)
);

-- People by days spent from `stage` to the next stage of the funnel.
CREATE TABLE journey_funnel_dwell (
    scope TEXT NOT NULL,
    month BIGINT NOT NULL,
    stage TEXT NOT NULL,
    days BIGINT NOT NULL,
    people BIGINT NOT NULL,
    PRIMARY KEY (scope, month, stage, days)
);

-- Participants whose projection rows a bulk load is writing: the triggers leave them to the
-- loader, which adds them to the roll-up in one grouped statement (same transaction).
CREATE TABLE journey_rollup_pending (
    participant_id BIGINT PRIMARY KEY
);

-- The scopes a projection row counts in, with its started month.
CREATE FUNCTION journey_funnel_scopes(p journey_progress) RETURNS TABLE (scope TEXT, month BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT s.scope, CAST(to_char(DATE '1970-01-01' + CAST(p.started_day AS INTEGER), 'YYYYMM') AS BIGINT)
    FROM unnest(ARRAY['nation', 'province:' || p.province_code, 'office:' || p.office_id,
                      'counter:' || p.counter_id]) AS s(scope)
    WHERE s.scope IS NOT NULL AND p.started_day IS NOT NULL
$$;

-- Days from each funnel stage to the next, where both were reached.
CREATE FUNCTION journey_funnel_steps(p journey_progress) RETURNS TABLE (stage TEXT, days BIGINT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT d.stage, d.days FROM unnest(
        ARRAY['account_created', 'profile_verified', 'test_passed', 'joined_batch', 'accepted', 'payout_linked', 'training_bought', 'training_completed', 'rated', 'incentive_paid', 'surveys_done'],
        ARRAY[
            p.d_profile_verified - p.d_account_created,
            p.d_test_passed - p.d_profile_verified,
            p.d_joined_batch - p.d_test_passed,
            p.d_accepted - p.d_joined_batch,
            p.d_payout_linked - p.d_accepted,
            p.d_training_bought - p.d_payout_linked,
            p.d_training_completed - p.d_training_bought,
            p.d_rated - p.d_training_completed,
            p.d_incentive_paid - p.d_rated,
            p.d_surveys_done - p.d_incentive_paid,
            p.d_finished - p.d_surveys_done
        ]) AS d(stage, days)
    WHERE d.days IS NOT NULL
$$;

-- One row per participant and scope they count in.
CREATE VIEW journey_funnel_count_rows AS
SELECT p.participant_id, s.scope, s.month, p.d_account_created, p.d_profile_verified, p.d_test_passed, p.d_joined_batch, p.d_accepted, p.d_not_accepted, p.d_payout_linked, p.d_training_bought, p.d_training_completed, p.d_rated, p.d_incentive_paid, p.d_surveys_done, p.d_finished, p.d_revoked, p.d_withdrawn
FROM journey_progress p CROSS JOIN LATERAL journey_funnel_scopes(p) s;

-- One row per participant, scope and funnel step both of whose stages they reached.
CREATE VIEW journey_funnel_dwell_rows AS
SELECT p.participant_id, s.scope, s.month, d.stage, d.days
FROM journey_progress p CROSS JOIN LATERAL journey_funnel_scopes(p) s CROSS JOIN LATERAL journey_funnel_steps(p) d;

INSERT INTO journey_funnel_counts
SELECT scope, month, COUNT(*), COUNT(d_account_created), COUNT(d_profile_verified), COUNT(d_test_passed), COUNT(d_joined_batch), COUNT(d_accepted), COUNT(d_not_accepted), COUNT(d_payout_linked), COUNT(d_training_bought), COUNT(d_training_completed), COUNT(d_rated), COUNT(d_incentive_paid), COUNT(d_surveys_done), COUNT(d_finished), COUNT(d_revoked), COUNT(d_withdrawn)
FROM journey_funnel_count_rows GROUP BY scope, month;
INSERT INTO journey_funnel_dwell
SELECT scope, month, stage, days, COUNT(*) FROM journey_funnel_dwell_rows GROUP BY scope, month, stage, days;

-- One statement's net change: old rows out, new rows in, rows that did not move left alone,
-- in key order so that concurrent writers take the roll-up's row locks in the same order.
CREATE FUNCTION journey_funnel_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, CAST(ROW(n.*) AS journey_progress) AS p FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, CAST(ROW(o.*) AS journey_progress) AS p FROM old_rows o'
        ELSE 'SELECT -1 AS sign, CAST(ROW(o.*) AS journey_progress) AS p FROM old_rows o UNION ALL SELECT 1, CAST(ROW(n.*) AS journey_progress) FROM new_rows n' END;
BEGIN
    EXECUTE format($q$
        INSERT INTO journey_funnel_counts
        SELECT s.scope, s.month, SUM(c.sign), SUM(CASE WHEN (c.p).d_account_created IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_profile_verified IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_test_passed IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_joined_batch IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_accepted IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_not_accepted IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_payout_linked IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_training_bought IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_training_completed IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_rated IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_incentive_paid IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_surveys_done IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_finished IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_revoked IS NOT NULL THEN c.sign ELSE 0 END), SUM(CASE WHEN (c.p).d_withdrawn IS NOT NULL THEN c.sign ELSE 0 END)
        FROM (%s) c CROSS JOIN LATERAL journey_funnel_scopes(c.p) s
        WHERE NOT EXISTS (SELECT 1 FROM journey_rollup_pending q WHERE q.participant_id = (c.p).participant_id)
        GROUP BY s.scope, s.month
        HAVING SUM(c.sign) <> 0 OR SUM(CASE WHEN (c.p).d_account_created IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_profile_verified IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_test_passed IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_joined_batch IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_accepted IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_not_accepted IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_payout_linked IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_training_bought IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_training_completed IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_rated IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_incentive_paid IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_surveys_done IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_finished IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_revoked IS NOT NULL THEN c.sign ELSE 0 END) <> 0 OR SUM(CASE WHEN (c.p).d_withdrawn IS NOT NULL THEN c.sign ELSE 0 END) <> 0
        ORDER BY s.scope, s.month
        ON CONFLICT (scope, month) DO UPDATE SET
        cohort = journey_funnel_counts.cohort + excluded.cohort,
        r_account_created = journey_funnel_counts.r_account_created + excluded.r_account_created,
        r_profile_verified = journey_funnel_counts.r_profile_verified + excluded.r_profile_verified,
        r_test_passed = journey_funnel_counts.r_test_passed + excluded.r_test_passed,
        r_joined_batch = journey_funnel_counts.r_joined_batch + excluded.r_joined_batch,
        r_accepted = journey_funnel_counts.r_accepted + excluded.r_accepted,
        r_not_accepted = journey_funnel_counts.r_not_accepted + excluded.r_not_accepted,
        r_payout_linked = journey_funnel_counts.r_payout_linked + excluded.r_payout_linked,
        r_training_bought = journey_funnel_counts.r_training_bought + excluded.r_training_bought,
        r_training_completed = journey_funnel_counts.r_training_completed + excluded.r_training_completed,
        r_rated = journey_funnel_counts.r_rated + excluded.r_rated,
        r_incentive_paid = journey_funnel_counts.r_incentive_paid + excluded.r_incentive_paid,
        r_surveys_done = journey_funnel_counts.r_surveys_done + excluded.r_surveys_done,
        r_finished = journey_funnel_counts.r_finished + excluded.r_finished,
        r_revoked = journey_funnel_counts.r_revoked + excluded.r_revoked,
        r_withdrawn = journey_funnel_counts.r_withdrawn + excluded.r_withdrawn
    $q$, changed);
    EXECUTE format($q$
        INSERT INTO journey_funnel_dwell
        SELECT s.scope, s.month, d.stage, d.days, SUM(c.sign)
        FROM (%s) c CROSS JOIN LATERAL journey_funnel_scopes(c.p) s CROSS JOIN LATERAL journey_funnel_steps(c.p) d
        WHERE NOT EXISTS (SELECT 1 FROM journey_rollup_pending q WHERE q.participant_id = (c.p).participant_id)
        GROUP BY s.scope, s.month, d.stage, d.days
        HAVING SUM(c.sign) <> 0
        ORDER BY s.scope, s.month, d.stage, d.days
        ON CONFLICT (scope, month, stage, days) DO UPDATE SET people = journey_funnel_dwell.people + excluded.people
    $q$, changed);
    RETURN NULL;
END $fn$;

CREATE TRIGGER journey_progress_rollup_insert AFTER INSERT ON journey_progress
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION journey_funnel_apply();
CREATE TRIGGER journey_progress_rollup_update AFTER UPDATE ON journey_progress
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION journey_funnel_apply();
CREATE TRIGGER journey_progress_rollup_delete AFTER DELETE ON journey_progress
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION journey_funnel_apply();

-- The follow-up list ranks a counter's active people by what makes them due; this index holds
-- every column the ranking reads, so it never visits the table for the thousands it passes over.
CREATE INDEX journey_progress_due_idx ON journey_progress (counter_id, owner_id, stage, purchase_deadline_day,
    incentive_overdue_day, survey_overdue_day, next_follow_up_day, last_contact_day, started_day, participant_id)
    WHERE stage NOT IN ('finished', 'revoked', 'withdrawn', 'not_registered');
