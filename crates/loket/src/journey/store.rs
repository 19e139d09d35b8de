//! SQL for the journey. Events, sessions and contacts are only ever appended; the projection
//! row of a participant is rewritten in the same transaction, guarded by its version.

use chrono::{DateTime, NaiveDate, Utc};

use super::funnel::{RollupDelta, Tally};
use super::*;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::{with_db, with_db_typed};

const SCHEME_COLUMNS: &str = "id, code, name, starts_on, training_balance, incentive_amount, incentive_count, \
     survey_amount, survey_count, purchase_days, incentive_first_after_days, incentive_interval_days, \
     survey_first_after_days, survey_interval_days, grace_working_days, min_age, max_age, max_age_from_batch";

pub async fn schemes(db: &Db) -> Result<Vec<Scheme>> {
    let sql = format!("SELECT {SCHEME_COLUMNS} FROM journey_schemes ORDER BY starts_on, id");
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .fetch_all(pool)
        .await?))
}

pub async fn batches(db: &Db) -> Result<Vec<Batch>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT id, scheme_id, number, opens_on FROM journey_batches ORDER BY number"
    )
    .fetch_all(pool)
    .await?))
}

pub async fn rules(db: &Db) -> Result<Rules> {
    Ok(Rules::new(schemes(db).await?, batches(db).await?))
}

/// Adds a scheme; `code` is unique.
pub async fn insert_scheme(db: &Db, s: &Scheme) -> Result<i64> {
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO journey_schemes (code, name, starts_on, training_balance, incentive_amount, incentive_count, \
             survey_amount, survey_count, purchase_days, incentive_first_after_days, incentive_interval_days, \
             survey_first_after_days, survey_interval_days, grace_working_days, min_age, max_age, max_age_from_batch, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
        )
        .bind(&s.code)
        .bind(&s.name)
        .bind(s.starts_on)
        .bind(s.training_balance)
        .bind(s.incentive_amount)
        .bind(s.incentive_count)
        .bind(s.survey_amount)
        .bind(s.survey_count)
        .bind(s.purchase_days)
        .bind(s.incentive_first_after_days)
        .bind(s.incentive_interval_days)
        .bind(s.survey_first_after_days)
        .bind(s.survey_interval_days)
        .bind(s.grace_working_days)
        .bind(s.min_age)
        .bind(s.max_age)
        .bind(s.max_age_from_batch)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    match result {
        Ok(id) => Ok(id),
        Err(e) if crate::db::is_unique_violation(&e, "code") => Err(AppError::field(
            "code",
            "scheme_code_taken",
            "Kode skema ini sudah dipakai.",
            "This scheme code is already in use.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Adds a batch (gelombang); its number is unique across schemes.
pub async fn insert_batch(
    db: &Db,
    scheme_id: i64,
    number: i64,
    opens_on: NaiveDate,
) -> Result<i64> {
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO journey_batches (scheme_id, number, opens_on, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(scheme_id)
        .bind(number)
        .bind(opens_on)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    match result {
        Ok(id) => Ok(id),
        Err(e) if crate::db::is_unique_violation(&e, "number") => Err(AppError::field(
            "number",
            "batch_number_taken",
            "Nomor gelombang ini sudah ada.",
            "This batch number already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

const EVENT_COLUMNS: &str = "participant_id, stage, occurred_at, recorded_at, source, actor_id, counter_id, batch_id, \
     card_number, training_title, training_platform, amount, channel, detail, correction_of, voids, override_reason, eligibility_reason, correction_reason";

pub async fn events_of(db: &Db, participant_id: i64) -> Result<Vec<EventRow>> {
    let sql = format!(
        "SELECT id, {EVENT_COLUMNS} FROM journey_events WHERE participant_id = $1 ORDER BY id"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(participant_id)
        .fetch_all(pool)
        .await?))
}

/// What the journey needs to know about a participant, without opening sealed values.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub nik_index: Vec<u8>,
    pub kk_index: Option<Vec<u8>>,
    pub phone_index: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
}

pub async fn person(db: &Db, id: i64) -> Result<Option<Person>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
        "SELECT p.id, p.full_name, p.birth_date, p.nik_index, p.kk_index, p.phone_index, p.phone_enc, p.counter_id, \
         c.office_id, o.province_code FROM participants p LEFT JOIN counters c ON c.id = p.counter_id \
         LEFT JOIN offices o ON o.id = c.office_id WHERE p.id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    }))
}

/// A stored assistance session: its id, the session as recorded, and when it was recorded.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SessionRow {
    pub id: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    #[schema(inline)]
    pub session: NewSession,
    pub recorded_at: DateTime<Utc>,
}

/// A stored row reads as the session it stores (`s.started_at`, as the timeline does).
impl std::ops::Deref for SessionRow {
    type Target = NewSession;

    fn deref(&self) -> &NewSession {
        &self.session
    }
}

/// A stored contact attempt: its id and the contact as recorded.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ContactRow {
    pub id: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    #[schema(inline)]
    pub contact: NewContact,
}

/// A stored row reads as the contact it stores (`c.at`, `c.result`).
impl std::ops::Deref for ContactRow {
    type Target = NewContact;

    fn deref(&self) -> &NewContact {
        &self.contact
    }
}

pub async fn sessions_of(db: &Db, participant_id: i64) -> Result<Vec<SessionRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
        "SELECT id, participant_id, officer_id, counter_id, started_at, ended_at, channel, steps, outcome, \
         next_follow_up, notes, recorded_at FROM journey_sessions WHERE participant_id = $1 ORDER BY id"
    )
    .bind(participant_id)
    .fetch_all(pool)
    .await?
    }))
}

pub async fn contacts_of(db: &Db, participant_id: i64) -> Result<Vec<ContactRow>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT id, participant_id, officer_id, counter_id, at, channel, result, note \
         FROM journey_contacts WHERE participant_id = $1 ORDER BY id"
    )
    .bind(participant_id)
    .fetch_all(pool)
    .await?))
}

/// Other participants on this family card who were accepted (card recipients).
pub async fn kk_recipients(db: &Db, kk_index: &[u8], except: i64) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM participants p JOIN journey_progress j ON j.participant_id = p.id \
         WHERE p.kk_index = $1 AND p.id <> $2 AND j.d_accepted IS NOT NULL"
    )
    .bind(kk_index)
    .bind(except)
    .fetch_one(pool)
    .await?
    }))
}

pub async fn is_barred(db: &Db, nik_index: &[u8]) -> Result<bool> {
    let found: Option<i64> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT participant_id FROM journey_barred WHERE nik_index = $1"
    )
    .bind(nik_index)
    .fetch_optional(pool)
    .await?);
    Ok(found.is_some())
}

/// The stored projection version, 0 when the participant has no journey yet.
pub async fn progress_version(db: &Db, participant_id: i64) -> Result<i64> {
    let v: Option<i64> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT version FROM journey_progress WHERE participant_id = $1"
    )
    .bind(participant_id)
    .fetch_optional(pool)
    .await?);
    Ok(v.unwrap_or(0))
}

/// An assistance session as recorded (the id and the recording time come from the database).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct NewSession {
    pub participant_id: i64,
    pub officer_id: i64,
    pub counter_id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub channel: SessionChannel,
    /// Checklist codes, comma-separated.
    pub steps: String,
    #[schema(value_type = String)]
    pub outcome: SessionOutcome,
    pub next_follow_up: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// A contact attempt as recorded (the id comes from the database).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct NewContact {
    pub participant_id: i64,
    pub officer_id: i64,
    pub counter_id: Option<i64>,
    pub at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub channel: SessionChannel,
    #[schema(value_type = String)]
    pub result: ContactResult,
    pub note: Option<String>,
}

/// One appended fact; the projection is rewritten with it.
pub enum Change<'a> {
    Event {
        event: &'a NewEvent,
        bar_nik_index: Option<&'a [u8]>,
    },
    Session(&'a NewSession),
    Contact(&'a NewContact),
}

pub const PROGRESS_COLUMNS: &[&str] = &[
    "participant_id",
    "counter_id",
    "office_id",
    "province_code",
    "owner_id",
    "scheme_id",
    "batch_number",
    "stage",
    "stage_day",
    "started_day",
    "d_account_created",
    "d_profile_verified",
    "d_test_passed",
    "d_joined_batch",
    "d_accepted",
    "d_not_accepted",
    "d_payout_linked",
    "d_training_bought",
    "d_training_completed",
    "d_rated",
    "d_incentive_paid",
    "d_surveys_done",
    "d_finished",
    "d_revoked",
    "d_withdrawn",
    "spent",
    "incentives_paid",
    "surveys_paid",
    "purchase_deadline_day",
    "incentive_overdue_day",
    "survey_overdue_day",
    "last_contact_day",
    "next_follow_up_day",
];

/// Binds a `Progress` in `PROGRESS_COLUMNS` order (`bind` or `push_bind`).
macro_rules! bind_progress {
    ($q:expr, $bind:ident, $p:expr) => {{
        let mut q = $q
            .$bind($p.participant_id)
            .$bind($p.counter_id)
            .$bind($p.office_id)
            .$bind($p.province_code.clone())
            .$bind($p.owner_id)
            .$bind($p.scheme_id)
            .$bind($p.batch_number)
            .$bind($p.stage)
            .$bind($p.stage_day)
            .$bind($p.started_day);
        for i in 0..TRACKED.len() {
            q = q.$bind($p.days.get(i).copied().flatten());
        }
        q.$bind($p.spent)
            .$bind($p.incentives_paid)
            .$bind($p.surveys_paid)
            .$bind($p.purchase_deadline_day)
            .$bind($p.incentive_overdue_day)
            .$bind($p.survey_overdue_day)
            .$bind($p.last_contact_day)
            .$bind($p.next_follow_up_day)
    }};
}

fn insert_progress_sql() -> String {
    let params: Vec<String> = (1..=PROGRESS_COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect();
    format!(
        "INSERT INTO journey_progress ({}, version) VALUES ({}, 1) ON CONFLICT (participant_id) DO NOTHING RETURNING version",
        PROGRESS_COLUMNS.join(", "),
        params.join(", ")
    )
}

fn update_progress_sql() -> String {
    let sets: Vec<String> = PROGRESS_COLUMNS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let n = PROGRESS_COLUMNS.len();
    format!(
        "UPDATE journey_progress SET {}, version = version + 1 WHERE participant_id = $1 AND version = ${} RETURNING version",
        sets.join(", "),
        n + 1
    )
}

/// Binds a `NewEvent` in `EVENT_COLUMNS` order (`bind` or `push_bind`).
macro_rules! bind_event {
    ($q:expr, $bind:ident, $e:expr) => {
        $q.$bind($e.participant_id)
            .$bind($e.stage)
            .$bind($e.occurred_at)
            .$bind($e.recorded_at)
            .$bind($e.source)
            .$bind($e.actor_id)
            .$bind($e.counter_id)
            .$bind($e.batch_id)
            .$bind($e.fields.card_number.clone())
            .$bind($e.fields.training_title.clone())
            .$bind($e.fields.training_platform.clone())
            .$bind($e.fields.amount)
            .$bind($e.fields.channel.clone())
            .$bind($e.fields.detail.clone())
            .$bind($e.correction_of)
            .$bind($e.voids)
            .$bind($e.fields.override_reason.clone())
            .$bind($e.eligibility_reason.clone())
            .$bind($e.correction_reason.clone())
    };
}

/// Appends `change` and writes `progress`, if the projection is still at `expected_version`
/// (0: no row yet), with the audit entries `audited` makes from the new row's id in the same
/// transaction. Returns the new row id (event, session or contact).
pub async fn write(
    db: &Db,
    change: Change<'_>,
    progress: &Progress,
    expected_version: i64,
    audited: impl FnOnce(i64) -> crate::audit::Batch + Send,
) -> Result<i64> {
    let event_sql = format!(
        "INSERT INTO journey_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id"
    );
    let (insert_sql, update_sql) = (insert_progress_sql(), update_progress_sql());
    let written: Option<i64> = with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let id: i64 = match &change {
            Change::Event { event, bar_nik_index } => {
                let id = bind_event!(sqlx::query_scalar(&event_sql), bind, event)
                    .fetch_one(&mut *tx)
                    .await?;
                if let Some(index) = bar_nik_index {
                    sqlx::query(
                        "INSERT INTO journey_barred (nik_index, participant_id, since) VALUES ($1, $2, $3) \
                         ON CONFLICT (nik_index) DO NOTHING",
                    )
                    .bind(*index)
                    .bind(event.participant_id)
                    .bind(event.recorded_at)
                    .execute(&mut *tx)
                    .await?;
                }
                id
            }
            Change::Session(s) => {
                sqlx::query_scalar(
                    "INSERT INTO journey_sessions (participant_id, officer_id, counter_id, started_at, ended_at, channel, \
                     steps, outcome, next_follow_up, notes, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(s.participant_id)
                .bind(s.officer_id)
                .bind(s.counter_id)
                .bind(s.started_at)
                .bind(s.ended_at)
                .bind(s.channel)
                .bind(&s.steps)
                .bind(s.outcome)
                .bind(s.next_follow_up)
                .bind(&s.notes)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?
            }
            Change::Contact(c) => {
                sqlx::query_scalar(
                    "INSERT INTO journey_contacts (participant_id, officer_id, counter_id, at, channel, result, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(c.participant_id)
                .bind(c.officer_id)
                .bind(c.counter_id)
                .bind(c.at)
                .bind(c.channel)
                .bind(c.result)
                .bind(&c.note)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let version: Option<i64> = if expected_version == 0 {
            bind_progress!(sqlx::query_scalar(&insert_sql), bind, progress)
                .fetch_optional(&mut *tx)
                .await?
        } else {
            bind_progress!(sqlx::query_scalar(&update_sql), bind, progress)
                .bind(expected_version)
                .fetch_optional(&mut *tx)
                .await?
        };
        if version.is_some() {
            crate::audit::append(&mut *tx, audited(id)).await?;
            tx.commit().await?;
            Some(id)
        } else {
            tx.rollback().await?;
            None
        }
    });
    match written {
        Some(id) => Ok(id),
        None => Err(AppError::VersionConflict {
            current: progress_version(db, progress.participant_id).await?,
        }),
    }
}

/// Rewrites the projection of one participant without a version check (rebuild).
pub async fn put_progress(db: &Db, progress: &Progress) -> Result<()> {
    let params: Vec<String> = (1..=PROGRESS_COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect();
    let updates: Vec<String> = PROGRESS_COLUMNS
        .iter()
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO journey_progress ({}, version) VALUES ({}, 1) ON CONFLICT (participant_id) DO UPDATE SET {}, \
         version = journey_progress.version + 1",
        PROGRESS_COLUMNS.join(", "),
        params.join(", "),
        updates.join(", ")
    );
    with_db!(db, |pool| {
        bind_progress!(sqlx::query(&sql), bind, progress)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Bulk load for demo data and benchmarks: events and projection rows in multi-row INSERTs
/// inside one transaction per call. The funnel roll-up is added to once for the whole call,
/// grouped in memory, not row by row: the rows are listed as pending, which the triggers skip.
pub async fn insert_bulk(db: &Db, events: &[NewEvent], progress: &[Progress]) -> Result<()> {
    // Both engines cap bound parameters per statement (SQLite 32766, PostgreSQL 65535).
    const EVENT_ROWS: usize = 1500;
    const PROGRESS_ROWS: usize = 900;
    const PENDING_ROWS: usize = 10_000;
    let event_head = format!("INSERT INTO journey_events ({EVENT_COLUMNS}) ");
    let progress_head = format!(
        "INSERT INTO journey_progress ({}) ",
        PROGRESS_COLUMNS.join(", ")
    );
    // Grouping in memory is far cheaper than letting the database sort a row per participant,
    // scope and funnel step.
    let delta = RollupDelta::of(progress);
    let counts: Vec<_> = delta.counts.iter().collect();
    let dwell: Vec<_> = delta.dwell.iter().collect();
    let count_columns: Vec<String> = TRACKED
        .iter()
        .map(|s| format!(", r_{}", s.code()))
        .collect();
    let counts_head = format!(
        "INSERT INTO journey_funnel_counts (scope, month, cohort{}) ",
        count_columns.concat()
    );
    let counts_tail = counts_upsert_sql();
    with_db_typed!(db, |pool, DB| {
        let mut tx = pool.begin().await?;
        for chunk in progress.chunks(PENDING_ROWS) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO journey_rollup_pending (participant_id) ",
            );
            qb.push_values(chunk, |mut b, p| {
                b.push_bind(p.participant_id);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in events.chunks(EVENT_ROWS) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(&event_head);
            qb.push_values(chunk, |mut b, e| {
                bind_event!(b, push_bind, e);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in progress.chunks(PROGRESS_ROWS) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(&progress_head);
            qb.push_values(chunk, |mut b, p| {
                bind_progress!(b, push_bind, p);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in counts.chunks(PROGRESS_ROWS) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(&counts_head);
            qb.push_values(chunk, |mut b, ((scope, month), n)| {
                b.push_bind(scope.clone()).push_bind(*month);
                for v in *n {
                    b.push_bind(*v);
                }
            });
            qb.push(&counts_tail);
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in dwell.chunks(EVENT_ROWS) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO journey_funnel_dwell (scope, month, stage, days, people) ",
            );
            qb.push_values(chunk, |mut b, ((scope, month, stage, days), people)| {
                b.push_bind(scope.clone())
                    .push_bind(*month)
                    .push_bind(*stage)
                    .push_bind(*days)
                    .push_bind(**people);
            });
            qb.push(DWELL_UPSERT_SQL);
            qb.build().execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM journey_rollup_pending")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Adds to existing roll-up counts rather than replacing them.
fn counts_upsert_sql() -> String {
    let sets: Vec<String> = TRACKED
        .iter()
        .map(|s| {
            format!(
                ", r_{c} = journey_funnel_counts.r_{c} + excluded.r_{c}",
                c = s.code()
            )
        })
        .collect();
    format!(
        " ON CONFLICT (scope, month) DO UPDATE SET cohort = journey_funnel_counts.cohort + excluded.cohort{}",
        sets.concat()
    )
}

const DWELL_UPSERT_SQL: &str = " ON CONFLICT (scope, month, stage, days) \
     DO UPDATE SET people = journey_funnel_dwell.people + excluded.people";

/// Adds the projection rows matching `filter` to the roll-up's counts (grouped, one statement).
fn add_counts_sql(filter: &str) -> String {
    let counts: Vec<String> = TRACKED
        .iter()
        .map(|s| format!(", COUNT(d_{})", s.code()))
        .collect();
    format!(
        "INSERT INTO journey_funnel_counts SELECT scope, month, COUNT(*){} FROM journey_funnel_count_rows \
         WHERE {filter} GROUP BY scope, month{}",
        counts.concat(),
        counts_upsert_sql()
    )
}

/// Adds the projection rows matching `filter` to the roll-up's dwell histograms.
fn add_dwell_sql(filter: &str) -> String {
    format!(
        "INSERT INTO journey_funnel_dwell SELECT scope, month, stage, days, COUNT(*) FROM journey_funnel_dwell_rows \
         WHERE {filter} GROUP BY scope, month, stage, days{DWELL_UPSERT_SQL}"
    )
}

/// Recomputes the whole funnel roll-up from the projection (after a restore, or to repair it).
pub async fn refill_rollup(db: &Db) -> Result<()> {
    let (add_counts, add_dwell) = (add_counts_sql("1 = 1"), add_dwell_sql("1 = 1"));
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        if matches!(db, Db::Postgres(_)) {
            // Writers wait, so that none adds to rows this is about to replace.
            sqlx::query("LOCK TABLE journey_progress IN SHARE MODE")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM journey_funnel_counts")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM journey_funnel_dwell")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&add_counts).execute(&mut *tx).await?;
        sqlx::query(&add_dwell).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// (participant, counter, office, province)
pub type SeatRow = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    chrono::DateTime<chrono::Utc>,
);

/// Participants who have no journey yet, with where they are served (for the demo data).
pub async fn participants_without_journey(db: &Db) -> Result<Vec<SeatRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.counter_id, c.office_id, o.province_code, p.created_at FROM participants p \
             LEFT JOIN counters c ON c.id = p.counter_id LEFT JOIN offices o ON o.id = c.office_id \
             WHERE NOT EXISTS (SELECT 1 FROM journey_progress j WHERE j.participant_id = p.id) ORDER BY p.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Every participant id, for a rebuild of the projection.
pub async fn participant_ids(db: &Db, after: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM participants WHERE id > $1 ORDER BY id LIMIT $2"
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?))
}

/// A projection row as the follow-up list reads it, with the name and sealed phone.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FollowUpRow {
    pub participant_id: i64,
    pub full_name: String,
    pub phone_enc: Option<Vec<u8>>,
    pub stage: Stage,
    pub stage_day: Option<i64>,
    pub started_day: Option<i64>,
    pub incentives_paid: i64,
    pub surveys_paid: i64,
    pub purchase_deadline_day: Option<i64>,
    pub incentive_overdue_day: Option<i64>,
    pub survey_overdue_day: Option<i64>,
    pub last_contact_day: Option<i64>,
    pub next_follow_up_day: Option<i64>,
}

/// Who is due at a counter (and, if given, for one officer) on `today`: deadlines within
/// `horizon` days, overdue payments, follow-up dates due, and no contact for `quiet_days`.
/// Returns how many are due and the `limit` most urgent, most urgent first: purchase deadlines
/// still ahead, then the earliest day that makes a person due, then the participant id (the
/// order `super::follow_up_items` gives). Ranking happens in SQL over the counter's active
/// rows (a covering partial index), so only `limit` rows are joined to names and phones.
pub async fn follow_up(
    db: &Db,
    counter_id: i64,
    officer_id: Option<i64>,
    today: i64,
    horizon: i64,
    quiet_days: i64,
    limit: usize,
) -> Result<(i64, Vec<FollowUpRow>)> {
    // With no rows the window total is lost, so at least one row is always asked for.
    let fetch = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let rows: Vec<(i64, FollowUpRow)> = with_db!(db, |pool| {
        let rows = sqlx::query(FOLLOW_UP_SQL)
            .bind(counter_id)
            .bind(officer_id)
            .bind(today)
            .bind(today + horizon)
            .bind(today - quiet_days)
            .bind(fetch)
            .fetch_all(pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let total: i64 = sqlx::Row::try_get(&row, "total")?;
            out.push((total, sqlx::FromRow::from_row(&row)?));
        }
        out
    });
    let total = rows.first().map(|(t, _)| *t).unwrap_or(0);
    Ok((
        total,
        rows.into_iter().take(limit).map(|(_, r)| r).collect(),
    ))
}

/// `$1` counter, `$2` officer or NULL, `$3` today, `$4` today + horizon, `$5` the last day that
/// counts as quiet, `$6` how many. The earliest reason day is the smallest of the days that
/// make the row due; the engines share no LEAST, and a subquery per row costs PostgreSQL more
/// than the whole scan, so it is a ladder of pairwise minimums over days (NULL as far future).
const FOLLOW_UP_SQL: &str = "WITH due AS (\
     SELECT participant_id, later, \
        CASE WHEN d12 <= d345 THEN d12 ELSE d345 END AS earliest \
     FROM (SELECT participant_id, later, \
            CASE WHEN d1 <= d2 THEN d1 ELSE d2 END AS d12, \
            CASE WHEN d3 <= d4 AND d3 <= d5 THEN d3 WHEN d4 <= d5 THEN d4 ELSE d5 END AS d345 \
        FROM (SELECT participant_id, \
                CASE WHEN purchase_deadline_day BETWEEN $3 AND $4 THEN 0 ELSE 1 END AS later, \
                COALESCE(CASE WHEN purchase_deadline_day <= $4 THEN purchase_deadline_day END, 99999999) AS d1, \
                COALESCE(CASE WHEN incentive_overdue_day <= $3 THEN incentive_overdue_day END, 99999999) AS d2, \
                COALESCE(CASE WHEN survey_overdue_day <= $3 THEN survey_overdue_day END, 99999999) AS d3, \
                COALESCE(CASE WHEN next_follow_up_day <= $3 THEN next_follow_up_day END, 99999999) AS d4, \
                COALESCE(CASE WHEN COALESCE(last_contact_day, started_day) <= $5 \
                    THEN COALESCE(last_contact_day, started_day) END, 99999999) AS d5 \
            FROM journey_progress \
            WHERE counter_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR owner_id = $2) \
            AND stage NOT IN ('finished', 'revoked', 'withdrawn', 'not_registered') \
            AND (purchase_deadline_day <= $4 OR incentive_overdue_day <= $3 OR survey_overdue_day <= $3 \
                 OR next_follow_up_day <= $3 OR COALESCE(last_contact_day, started_day) <= $5)\
        ) AS reasons\
     ) AS pairs\
 ), top AS (\
     SELECT participant_id, later, earliest, COUNT(*) OVER () AS total FROM due \
     ORDER BY later, earliest, participant_id LIMIT $6\
 ) \
 SELECT t.total, j.participant_id, p.full_name, p.phone_enc, j.stage, j.stage_day, j.started_day, j.incentives_paid, \
    j.surveys_paid, j.purchase_deadline_day, j.incentive_overdue_day, j.survey_overdue_day, j.last_contact_day, \
    j.next_follow_up_day \
 FROM top t JOIN journey_progress j ON j.participant_id = t.participant_id JOIN participants p ON p.id = j.participant_id \
 ORDER BY t.later, t.earliest, t.participant_id";

/// Which rows a funnel counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunnelScope {
    Nation,
    Office(i64),
    Counter(i64),
    Province(String),
}

impl FunnelScope {
    fn filter(&self) -> &'static str {
        match self {
            FunnelScope::Nation => "CAST($3 AS TEXT) IS NULL",
            FunnelScope::Office(_) => "office_id = CAST($3 AS BIGINT)",
            FunnelScope::Counter(_) => "counter_id = CAST($3 AS BIGINT)",
            FunnelScope::Province(_) => "province_code = $3",
        }
    }

    /// The scope as the roll-up (and the funnel page) names it.
    pub fn key(&self) -> String {
        match self {
            FunnelScope::Nation => "nation".into(),
            FunnelScope::Office(id) => format!("office:{id}"),
            FunnelScope::Counter(id) => format!("counter:{id}"),
            FunnelScope::Province(code) => format!("province:{code}"),
        }
    }

    fn param(&self) -> Option<String> {
        match self {
            FunnelScope::Nation => None,
            FunnelScope::Office(id) | FunnelScope::Counter(id) => Some(id.to_string()),
            FunnelScope::Province(code) => Some(code.clone()),
        }
    }
}

/// Binds the scope parameter as `$3`.
macro_rules! bind_scope {
    ($q:expr, $scope:expr, $param:expr) => {
        match $scope {
            FunnelScope::Office(id) | FunnelScope::Counter(id) => $q.bind(*id),
            _ => $q.bind($param.clone()),
        }
    };
}

/// The cohort range is written `+started_day` so neither engine walks the date index row by
/// row for a wide range (a sequential scan is far cheaper); the scope's own index still serves.
///
/// Counts of the cohort (people whose journey started between `from` and `to`) that reached
/// each tracked stage, in `TRACKED` order, after the cohort size.
pub async fn funnel_counts(db: &Db, scope: &FunnelScope, from: i64, to: i64) -> Result<Vec<i64>> {
    let counts: Vec<String> = TRACKED
        .iter()
        .map(|s| format!(", CAST(COUNT(d_{}) AS BIGINT)", s.code()))
        .collect();
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT){} FROM journey_progress WHERE +started_day BETWEEN $1 AND $2 AND {}",
        counts.concat(),
        scope.filter()
    );
    let (from, to, param) = (from, to, scope.param());
    let values: Vec<i64> = with_db!(db, |pool| {
        let row = bind_scope!(sqlx::query(&sql).bind(from).bind(to), scope, param)
            .fetch_one(pool)
            .await?;
        let mut out = Vec::with_capacity(TRACKED.len() + 1);
        for i in 0..=TRACKED.len() {
            out.push(sqlx::Row::try_get::<i64, _>(&row, i)?);
        }
        out
    });
    Ok(values)
}

/// Days spent between reaching `from_stage` and `to_stage`, as (days, people) pairs.
pub async fn dwell_histogram(
    db: &Db,
    scope: &FunnelScope,
    from: i64,
    to: i64,
    from_stage: Stage,
    to_stage: Stage,
) -> Result<Vec<(i64, i64)>> {
    let (a, b) = (from_stage.code(), to_stage.code());
    let sql = format!(
        "SELECT d_{b} - d_{a} AS dwell, CAST(COUNT(*) AS BIGINT) FROM journey_progress \
         WHERE +started_day BETWEEN $1 AND $2 AND {} AND d_{a} IS NOT NULL AND d_{b} IS NOT NULL \
         GROUP BY d_{b} - d_{a}",
        scope.filter()
    );
    let param = scope.param();
    Ok(with_db!(db, |pool| {
        let rows = bind_scope!(sqlx::query(&sql).bind(from).bind(to), scope, param)
            .fetch_all(pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((
                sqlx::Row::try_get::<i64, _>(&row, 0)?,
                sqlx::Row::try_get::<i64, _>(&row, 1)?,
            ));
        }
        out
    }))
}

/// The roll-up's tally of a scope's people who started in the yyyymm months `from..=to`.
pub async fn rollup_tally(db: &Db, scope: &FunnelScope, from: i64, to: i64) -> Result<Tally> {
    let sums: Vec<String> = TRACKED
        .iter()
        .map(|s| format!(", CAST(COALESCE(SUM(r_{}), 0) AS BIGINT)", s.code()))
        .collect();
    let counts_sql = format!(
        "SELECT CAST(COALESCE(SUM(cohort), 0) AS BIGINT){} FROM journey_funnel_counts \
         WHERE scope = $1 AND month BETWEEN $2 AND $3",
        sums.concat()
    );
    let dwell_sql = "SELECT stage, days, CAST(SUM(people) AS BIGINT) FROM journey_funnel_dwell \
                     WHERE scope = $1 AND month BETWEEN $2 AND $3 GROUP BY stage, days";
    let key = scope.key();
    let mut tally = Tally::default();
    with_db!(db, |pool| {
        let row = sqlx::query(&counts_sql)
            .bind(&key)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?;
        tally.cohort = sqlx::Row::try_get(&row, 0)?;
        for (i, n) in tally.reached.iter_mut().enumerate() {
            *n = sqlx::Row::try_get(&row, i + 1)?;
        }
        let rows = sqlx::query(dwell_sql)
            .bind(&key)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
        for row in rows {
            let stage: String = sqlx::Row::try_get(&row, 0)?;
            let Some(step) = FUNNEL.iter().position(|s| s.code() == stage) else {
                continue;
            };
            let (days, people): (i64, i64) =
                (sqlx::Row::try_get(&row, 1)?, sqlx::Row::try_get(&row, 2)?);
            if people != 0 {
                if let Some(bars) = tally.dwell.get_mut(step) {
                    bars.insert(days, people);
                }
            }
        }
    });
    Ok(tally)
}

/// The tally of a scope's people who started on the days `from..=to`, counted from their
/// projection rows (for the edges of a range, which the monthly roll-up cannot split).
pub async fn direct_tally(db: &Db, scope: &FunnelScope, from: i64, to: i64) -> Result<Tally> {
    let days: Vec<String> = TRACKED.iter().map(|s| format!("d_{}", s.code())).collect();
    let sql = format!(
        "SELECT {} FROM journey_progress WHERE started_day BETWEEN $1 AND $2 AND {}",
        days.join(", "),
        scope.filter()
    );
    let param = scope.param();
    let mut tally = Tally::default();
    with_db!(db, |pool| {
        let rows = bind_scope!(sqlx::query(&sql).bind(from).bind(to), scope, param)
            .fetch_all(pool)
            .await?;
        let mut days = Vec::with_capacity(TRACKED.len());
        for row in rows {
            days.clear();
            for i in 0..TRACKED.len() {
                days.push(sqlx::Row::try_get::<Option<i64>, _>(&row, i)?);
            }
            tally.count_row(&days);
        }
    });
    Ok(tally)
}

/// People (any scope) who started on the days `from..=to`, counted up to `cap`: what a direct
/// count of those days would read, at a cost bounded by the cap.
pub async fn started_between(db: &Db, from: i64, to: i64, cap: i64) -> Result<i64> {
    Ok(with_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 AS one FROM journey_progress \
         WHERE started_day BETWEEN $1 AND $2 LIMIT $3) AS probe"
    )
    .bind(from)
    .bind(to)
    .bind(cap)
    .fetch_one(pool)
    .await?))
}

/// (counter, first day of the stage, people) from the projection: one text per stage, the
/// column named in the text (never bound from input).
fn stage_reach_sql(stage: Stage) -> Option<&'static str> {
    Some(match stage {
        Stage::Accepted => "SELECT counter_id, d_accepted, CAST(COUNT(*) AS BIGINT) FROM journey_progress \
             WHERE counter_id IS NOT NULL AND d_accepted IS NOT NULL AND d_accepted <= $1 GROUP BY counter_id, d_accepted",
        Stage::TrainingBought => "SELECT counter_id, d_training_bought, CAST(COUNT(*) AS BIGINT) FROM journey_progress \
             WHERE counter_id IS NOT NULL AND d_training_bought IS NOT NULL AND d_training_bought <= $1 GROUP BY counter_id, d_training_bought",
        Stage::TrainingCompleted => "SELECT counter_id, d_training_completed, CAST(COUNT(*) AS BIGINT) FROM journey_progress \
             WHERE counter_id IS NOT NULL AND d_training_completed IS NOT NULL AND d_training_completed <= $1 GROUP BY counter_id, d_training_completed",
        Stage::IncentivePaid => "SELECT counter_id, d_incentive_paid, CAST(COUNT(*) AS BIGINT) FROM journey_progress \
             WHERE counter_id IS NOT NULL AND d_incentive_paid IS NOT NULL AND d_incentive_paid <= $1 GROUP BY counter_id, d_incentive_paid",
        _ => return None,
    })
}

/// People of a counter by the day they first reached `stage`, up to day number `until`.
pub async fn reach_by_stage(db: &Db, stage: Stage, until: i64) -> Result<Vec<(i64, i64, i64)>> {
    let Some(sql) = stage_reach_sql(stage) else {
        return Ok(Vec::new());
    };
    Ok(with_db!(db, |pool| sqlx::query_as::<_, (i64, i64, i64)>(
        sql
    )
    .bind(until)
    .fetch_all(pool)
    .await?))
}

/// Each assisted person's counter (where they are registered) and their first session.
pub async fn first_sessions(db: &Db) -> Result<Vec<(i64, DateTime<Utc>)>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, (i64, DateTime<Utc>)>(
            "SELECT p.counter_id, MIN(s.started_at) FROM journey_sessions s \
         JOIN participants p ON p.id = s.participant_id \
         WHERE p.counter_id IS NOT NULL GROUP BY s.participant_id, p.counter_id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Makes the sessions recorded for `participant_id` at `counter_id` between `from` and `until`
/// (and not yet in a visit) part of the counter-floor visit `visit_id`.
pub async fn link_sessions_to_visit(
    db: &Db,
    participant_id: i64,
    counter_id: i64,
    from: chrono::DateTime<Utc>,
    until: chrono::DateTime<Utc>,
    visit_id: i64,
) -> Result<u64> {
    Ok(with_db!(db, |pool| {
        sqlx::query(
            "UPDATE journey_sessions SET visit_id = $1 WHERE participant_id = $2 AND counter_id = $3 \
             AND visit_id IS NULL AND recorded_at >= $4 AND recorded_at <= $5",
        )
        .bind(visit_id)
        .bind(participant_id)
        .bind(counter_id)
        .bind(from)
        .bind(until)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// The counter-floor visit a session belongs to, if any.
pub async fn session_visit(db: &Db, session_id: i64) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT visit_id FROM journey_sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(pool)
            .await?
            .flatten()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_sql_binds_every_column() {
        assert_eq!(
            PROGRESS_COLUMNS.len(),
            10 + TRACKED.len() + 8,
            "columns and bind_progress! must agree"
        );
        assert_eq!(
            insert_progress_sql().matches('$').count(),
            PROGRESS_COLUMNS.len()
        );
        // …and the expected version.
        assert_eq!(
            update_progress_sql().matches('$').count(),
            PROGRESS_COLUMNS.len() + 1
        );
        for (i, stage) in TRACKED.iter().enumerate() {
            assert_eq!(PROGRESS_COLUMNS[10 + i], format!("d_{}", stage.code()));
        }
    }
}
