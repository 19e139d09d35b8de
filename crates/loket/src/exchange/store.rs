//! SQL of the exchange: the BP2MI master list, uploads and their rows, review decisions,
//! outreach and the consented status export. One SQL text per query, on both engines.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{Decision, UploadStatus};
use crate::db::Db;
use crate::error::Result;
use crate::{with_db, with_db_typed};

/// Rows per multi-row INSERT (SQLite allows 32,766 bound values; 12 columns × 1,000 fits).
const CHUNK: usize = 1000;

/// A master-list person, sealed for storage.
pub struct NewMasterPerson {
    pub nik_enc: Vec<u8>,
    pub nik_index: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<String>,
    pub district_code: String,
    pub phone_enc: Option<Vec<u8>>,
    pub destination_country: Option<String>,
    pub return_date: Option<NaiveDate>,
}

/// Stores a master list in one transaction; a person already known (same NIK) is replaced,
/// so importing next month's full export refreshes the list.
pub async fn insert_master(
    db: &Db,
    file_name: &str,
    sha256: &[u8],
    user_id: i64,
    people: &[NewMasterPerson],
) -> Result<i64> {
    Ok(with_db_typed!(db, |pool, DB| {
        let mut tx = pool.begin().await?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO master_imports (file_name, file_sha256, rows, imported_by, imported_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(file_name)
        .bind(sha256)
        .bind(people.len() as i64)
        .bind(user_id)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        for chunk in people.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO master_people (import_id, nik_enc, nik_index, full_name, birth_date, sex, \
                 district_code, phone_enc, destination_country, return_date) ",
            );
            qb.push_values(chunk, |mut b, p| {
                b.push_bind(import_id)
                    .push_bind(&p.nik_enc)
                    .push_bind(&p.nik_index)
                    .push_bind(&p.full_name)
                    .push_bind(p.birth_date)
                    .push_bind(&p.sex)
                    .push_bind(&p.district_code)
                    .push_bind(&p.phone_enc)
                    .push_bind(&p.destination_country)
                    .push_bind(p.return_date);
            });
            qb.push(
                " ON CONFLICT (nik_index) DO UPDATE SET import_id = excluded.import_id, \
                 nik_enc = excluded.nik_enc, full_name = excluded.full_name, \
                 birth_date = excluded.birth_date, sex = excluded.sex, \
                 district_code = excluded.district_code, phone_enc = excluded.phone_enc, \
                 destination_country = excluded.destination_country, return_date = excluded.return_date",
            );
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        import_id
    }))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MasterImport {
    pub id: i64,
    pub file_name: String,
    pub rows: i64,
    pub imported_at: DateTime<Utc>,
}

pub async fn master_imports(db: &Db) -> Result<Vec<MasterImport>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT id, file_name, rows, imported_at FROM master_imports ORDER BY id DESC LIMIT 20"
    )
    .fetch_all(pool)
    .await?))
}

pub async fn master_count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM master_people"
    )
    .fetch_one(pool)
    .await?))
}

/// A person as linkage reads them: id, sealed NIK, name, birth date, home district.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkSubject {
    pub id: i64,
    pub nik_enc: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub district_code: Option<String>,
}

/// Everyone in the registry, as linkage reads them.
pub async fn registry_subjects(db: &Db) -> Result<Vec<LinkSubject>> {
    subjects(
        db,
        "SELECT id, nik_enc, full_name, birth_date, district_code FROM participants ORDER BY id",
    )
    .await
}

/// Everyone on BP2MI's master list, as linkage reads them.
pub async fn master_subjects(db: &Db) -> Result<Vec<LinkSubject>> {
    subjects(
        db,
        "SELECT id, nik_enc, full_name, birth_date, district_code FROM master_people ORDER BY id",
    )
    .await
}

async fn subjects(db: &Db, sql: &'static str) -> Result<Vec<LinkSubject>> {
    Ok(with_db!(db, |pool| sqlx::query_as(sql)
        .fetch_all(pool)
        .await?))
}

/// A programme-office row, sealed for storage.
pub struct NewUploadRow {
    pub row_no: i64,
    pub nik_enc: Vec<u8>,
    pub nik_index: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub district_code: String,
    pub facts: String,
}

/// Stores an upload and all its rows in one transaction, status `linking`.
pub async fn insert_upload(
    db: &Db,
    file_name: &str,
    sha256: &[u8],
    user_id: i64,
    threshold: f64,
    review_floor: f64,
    rows: &[NewUploadRow],
) -> Result<i64> {
    Ok(with_db_typed!(db, |pool, DB| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO exchange_uploads (file_name, file_sha256, rows, uploaded_by, uploaded_at, status, threshold, review_floor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(file_name)
        .bind(sha256)
        .bind(rows.len() as i64)
        .bind(user_id)
        .bind(Utc::now())
        .bind(UploadStatus::Linking.code())
        .bind(threshold)
        .bind(review_floor)
        .fetch_one(&mut *tx)
        .await?;
        for chunk in rows.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO exchange_rows (upload_id, row_no, nik_enc, nik_index, full_name, birth_date, district_code, facts, decision) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(id)
                    .push_bind(r.row_no)
                    .push_bind(&r.nik_enc)
                    .push_bind(&r.nik_index)
                    .push_bind(&r.full_name)
                    .push_bind(r.birth_date)
                    .push_bind(&r.district_code)
                    .push_bind(&r.facts)
                    .push_bind(Decision::Unmatched.code());
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        id
    }))
}

/// An earlier upload of the very same file, if any.
pub async fn upload_by_sha(db: &Db, sha256: &[u8]) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM exchange_uploads WHERE file_sha256 = $1 ORDER BY id LIMIT 1"
    )
    .bind(sha256)
    .fetch_optional(pool)
    .await?))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Upload {
    pub id: i64,
    pub file_name: String,
    pub rows: i64,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
    pub status: String,
    pub status_note: Option<String>,
    pub threshold: f64,
    pub review_floor: f64,
    pub summary: Option<String>,
    pub applied_rows: i64,
    pub events_created: i64,
    pub applied_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Upload {
    pub fn status(&self) -> UploadStatus {
        UploadStatus::parse(&self.status).unwrap_or(UploadStatus::Failed)
    }
}

const UPLOAD_COLUMNS: &str =
    "id, file_name, rows, uploaded_by, uploaded_at, status, status_note, threshold, \
     review_floor, summary, applied_rows, events_created, applied_at, version";

pub async fn upload(db: &Db, id: i64) -> Result<Option<Upload>> {
    let sql = format!("SELECT {UPLOAD_COLUMNS} FROM exchange_uploads WHERE id = $1");
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

pub async fn uploads(db: &Db) -> Result<Vec<Upload>> {
    let sql = format!("SELECT {UPLOAD_COLUMNS} FROM exchange_uploads ORDER BY id DESC LIMIT 50");
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .fetch_all(pool)
        .await?))
}

/// The uploads in one of `statuses`, oldest first.
pub async fn upload_ids_with(db: &Db, statuses: &[UploadStatus]) -> Result<Vec<i64>> {
    let codes: Vec<&str> = statuses.iter().map(|s| s.code()).collect();
    // The list of statuses is our own codes, never user input.
    let sql = format!(
        "SELECT id FROM exchange_uploads WHERE status IN ('{}') ORDER BY id",
        codes.join("', '")
    );
    Ok(with_db!(db, |pool| sqlx::query_scalar(&sql)
        .fetch_all(pool)
        .await?))
}

/// Moves an upload from `from` to `to`; false when another request moved it first.
pub async fn move_status(
    db: &Db,
    id: i64,
    from: &[UploadStatus],
    to: UploadStatus,
    note: Option<&str>,
) -> Result<bool> {
    let allowed: Vec<&str> = from.iter().map(|s| s.code()).collect();
    // The list of statuses is our own codes, never user input.
    let sql = format!(
        "UPDATE exchange_uploads SET status = $1, status_note = $2, version = version + 1 \
         WHERE id = $3 AND status IN ('{}')",
        allowed.join("', '")
    );
    let done = with_db!(db, |pool| sqlx::query(&sql)
        .bind(to.code())
        .bind(note)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// A row as linking reads it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingRow {
    pub id: i64,
    pub nik_enc: Vec<u8>,
    pub nik_index: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub district_code: String,
}

pub async fn pending_rows(db: &Db, upload_id: i64) -> Result<Vec<PendingRow>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT id, nik_enc, nik_index, full_name, birth_date, district_code FROM exchange_rows \
         WHERE upload_id = $1 ORDER BY row_no"
    )
    .bind(upload_id)
    .fetch_all(pool)
    .await?))
}

/// What linking found for a row.
#[derive(Clone, Debug, Default)]
pub struct LinkOutcome {
    pub row_id: i64,
    pub participant_id: Option<i64>,
    pub probability: Option<f64>,
    pub explanation: Option<String>,
    pub master_id: Option<i64>,
    pub master_probability: Option<f64>,
    pub decision: Option<Decision>,
    pub outreach_counter_id: Option<i64>,
}

/// Writes every row's linkage result and moves the upload to review, in one transaction.
/// Rows go in batches (`UPDATE … FROM (VALUES …)`, both engines name the columns
/// `column1…`): one statement per row costs a round trip each on PostgreSQL.
pub async fn save_links(
    db: &Db,
    upload_id: i64,
    outcomes: &[LinkOutcome],
    summary: &str,
) -> Result<()> {
    with_db_typed!(db, |pool, DB| {
        let mut tx = pool.begin().await?;
        // Only a run whose upload is still linking writes (one marked failed meanwhile may be
        // linking again in another run).
        let still_linking = sqlx::query(
            "UPDATE exchange_uploads SET status = $1, summary = $4, version = version + 1 WHERE id = $2 AND status = $3",
        )
        .bind(UploadStatus::Review.code())
        .bind(upload_id)
        .bind(UploadStatus::Linking.code())
        .bind(summary)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !still_linking {
            tx.rollback().await?;
            return Ok(());
        }
        for chunk in outcomes.chunks(CHUNK / 2) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "UPDATE exchange_rows SET participant_id = v.column2, probability = v.column3, \
                 explanation = v.column4, master_id = v.column5, master_probability = v.column6, \
                 decision = v.column7, outreach_counter_id = v.column8 FROM (",
            );
            qb.push_values(chunk, |mut b, o| {
                b.push_bind(o.row_id)
                    .push_bind(o.participant_id)
                    .push_bind(o.probability)
                    .push_bind(&o.explanation)
                    .push_bind(o.master_id)
                    .push_bind(o.master_probability)
                    .push_bind(o.decision.unwrap_or(Decision::Unmatched).code())
                    .push_bind(o.outreach_counter_id);
            });
            qb.push(") AS v WHERE exchange_rows.id = v.column1 AND exchange_rows.upload_id = ");
            qb.push_bind(upload_id);
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A row as the review page and applying read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UploadRow {
    pub id: i64,
    pub upload_id: i64,
    pub row_no: i64,
    pub nik_enc: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub district_code: String,
    pub facts: String,
    pub participant_id: Option<i64>,
    pub probability: Option<f64>,
    pub explanation: Option<String>,
    pub master_id: Option<i64>,
    pub master_probability: Option<f64>,
    pub decision: String,
    pub decided_by: Option<i64>,
    pub outreach_counter_id: Option<i64>,
    pub applied: bool,
    pub events_created: i64,
    pub apply_note: Option<String>,
    /// The matched registry person's NIK (sealed), name and birth date, for the reviewer to
    /// compare.
    pub participant_nik_enc: Option<Vec<u8>>,
    pub participant_name: Option<String>,
    pub participant_birth_date: Option<NaiveDate>,
}

impl UploadRow {
    pub fn decision(&self) -> Decision {
        Decision::parse(&self.decision).unwrap_or(Decision::Unmatched)
    }
}

const ROW_SELECT: &str =
    "SELECT r.id, r.upload_id, r.row_no, r.nik_enc, r.full_name, r.birth_date, \
     r.district_code, r.facts, r.participant_id, r.probability, r.explanation, r.master_id, \
     r.master_probability, r.decision, r.decided_by, r.outreach_counter_id, r.applied, \
     r.events_created, r.apply_note, p.nik_enc AS participant_nik_enc, p.full_name AS participant_name, \
     p.birth_date AS participant_birth_date \
     FROM exchange_rows r LEFT JOIN participants p ON p.id = r.participant_id";

/// An upload's rows with one decision (all when `None`), by row number, a page at a time.
pub async fn rows_of(
    db: &Db,
    upload_id: i64,
    decision: Option<Decision>,
    after_row: i64,
    limit: i64,
) -> Result<Vec<UploadRow>> {
    let sql = format!(
        "{ROW_SELECT} WHERE r.upload_id = $1 AND (CAST($2 AS TEXT) IS NULL OR r.decision = $2) \
         AND r.row_no > $3 ORDER BY r.row_no LIMIT $4"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(upload_id)
        .bind(decision.map(Decision::code))
        .bind(after_row)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

pub async fn row(db: &Db, row_id: i64) -> Result<Option<UploadRow>> {
    let sql = format!("{ROW_SELECT} WHERE r.id = $1");
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(row_id)
        .fetch_optional(pool)
        .await?))
}

/// Rows per decision of an upload, and how many are applied.
pub async fn counts(db: &Db, upload_id: i64) -> Result<Vec<(String, i64, i64)>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
        "SELECT decision, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN applied THEN 1 ELSE 0 END) AS BIGINT) \
         FROM exchange_rows WHERE upload_id = $1 GROUP BY decision"
    )
    .bind(upload_id)
    .fetch_all(pool)
    .await?
    }))
}

/// Records a reviewer's decision on a row still awaiting one (or changes an earlier review
/// decision before the upload is applied). False if the row was not open to review.
pub async fn decide(
    db: &Db,
    row_id: i64,
    decision: Decision,
    user_id: i64,
    outreach_counter_id: Option<i64>,
) -> Result<bool> {
    let done = with_db!(db, |pool| {
        sqlx::query(
        "UPDATE exchange_rows SET decision = $1, decided_by = $2, decided_at = $3, outreach_counter_id = $4 \
         WHERE id = $5 AND applied = FALSE AND decision IN ('review', 'accepted', 'rejected')"
    )
    .bind(decision.code())
    .bind(user_id)
    .bind(Utc::now())
    .bind(outreach_counter_id)
    .bind(row_id)
    .execute(pool)
    .await?
    .rows_affected()
    });
    Ok(done == 1)
}

/// Marks a row applied with what it created, and counts it on the upload.
pub async fn mark_applied(
    db: &Db,
    upload_id: i64,
    row_id: i64,
    events: i64,
    note: Option<&str>,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let done = sqlx::query(
            "UPDATE exchange_rows SET applied = TRUE, events_created = events_created + $1, apply_note = $2 \
             WHERE id = $3 AND applied = FALSE",
        )
        .bind(events)
        .bind(note)
        .bind(row_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 1 {
            sqlx::query(
                "UPDATE exchange_uploads SET applied_rows = applied_rows + 1, events_created = events_created + $1 WHERE id = $2",
            )
            .bind(events)
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn finish_apply(
    db: &Db,
    upload_id: i64,
    user_id: i64,
    audited: crate::audit::Batch,
) -> Result<()> {
    // The status and its audit entry commit together: whoever sees "applied" finds the entry.
    let done: std::result::Result<(), sqlx::Error> = with_db!(db, |pool| {
        async {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let changed = sqlx::query(
                "UPDATE exchange_uploads SET status = $1, applied_by = $2, applied_at = $3, version = version + 1 \
                 WHERE id = $4 AND status = $5",
            )
            .bind(UploadStatus::Applied.code())
            .bind(user_id)
            .bind(Utc::now())
            .bind(upload_id)
            .bind(UploadStatus::Applying.code())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                crate::audit::append(&mut *tx, audited).await?;
            }
            tx.commit().await
        }
        .await
    });
    done?;
    Ok(())
}

/// Which outreach rows a reader may see.
#[derive(Clone, Copy, Debug)]
pub enum OutreachScope {
    All,
    Office(i64),
    Counter(i64),
}

/// An outreach row: a recipient loket does not know, with the counter that should call.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutreachRow {
    pub row_id: i64,
    pub upload_id: i64,
    pub row_no: i64,
    pub nik_enc: Vec<u8>,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub district_code: String,
    pub facts: String,
    pub master_id: Option<i64>,
    pub master_phone_enc: Option<Vec<u8>>,
    pub counter_id: Option<i64>,
    pub counter_name: Option<String>,
}

/// The outreach list: unmatched or rejected rows of applied uploads whose NIK is still not
/// in the registry (someone registered since drops off), newest upload first.
pub async fn outreach(db: &Db, scope: OutreachScope, limit: i64) -> Result<Vec<OutreachRow>> {
    let (filter, key) = match scope {
        OutreachScope::All => ("CAST($1 AS BIGINT) IS NULL", None),
        OutreachScope::Office(id) => ("c.office_id = $1", Some(id)),
        OutreachScope::Counter(id) => ("r.outreach_counter_id = $1", Some(id)),
    };
    let sql = format!(
        "SELECT r.id AS row_id, r.upload_id, r.row_no, r.nik_enc, r.full_name, r.birth_date, r.district_code, \
         r.facts, r.master_id, m.phone_enc AS master_phone_enc, r.outreach_counter_id AS counter_id, \
         c.name AS counter_name \
         FROM exchange_rows r JOIN exchange_uploads u ON u.id = r.upload_id \
         LEFT JOIN counters c ON c.id = r.outreach_counter_id \
         LEFT JOIN master_people m ON m.id = r.master_id \
         WHERE u.status = 'applied' AND r.decision IN ('unmatched', 'rejected') AND {filter} \
         AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.nik_index = r.nik_index) \
         ORDER BY r.upload_id DESC, r.row_no LIMIT $2"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(key)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

/// A consented person's status, for the export back to the programme office.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub participant_id: i64,
    pub nik_enc: Vec<u8>,
    pub full_name: String,
    pub counter_code: Option<String>,
    pub stage: Option<String>,
    pub stage_day: Option<i64>,
    pub batch_number: Option<i64>,
    pub incentives_paid: Option<i64>,
    pub surveys_paid: Option<i64>,
    pub last_contact_day: Option<i64>,
    pub updated_at: DateTime<Utc>,
    /// When the person's journey last changed (its newest recorded event).
    pub journey_at: Option<DateTime<Utc>>,
}

impl StatusRow {
    /// When anything the export carries last changed: the record or the journey.
    pub fn changed_at(&self) -> DateTime<Utc> {
        self.journey_at
            .map_or(self.updated_at, |j| j.max(self.updated_at))
    }
}

/// Everyone who consented to sharing whose record or journey changed on or after `since`,
/// by id.
pub async fn consented_status(
    db: &Db,
    since: Option<DateTime<Utc>>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<StatusRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
        "SELECT p.id AS participant_id, p.nik_enc, p.full_name, c.code AS counter_code, j.stage, j.stage_day, \
         j.batch_number, j.incentives_paid, j.surveys_paid, j.last_contact_day, p.updated_at, \
         (SELECT MAX(e.recorded_at) FROM journey_events e WHERE e.participant_id = p.id) AS journey_at \
         FROM participants p LEFT JOIN journey_progress j ON j.participant_id = p.id \
         LEFT JOIN counters c ON c.id = p.counter_id \
         WHERE p.consent_sharing = TRUE AND p.id > $1 \
         AND (CAST($2 AS TIMESTAMPTZ) IS NULL OR p.updated_at >= $2 \
              OR EXISTS (SELECT 1 FROM journey_events e WHERE e.participant_id = p.id AND e.recorded_at >= $2)) \
         ORDER BY p.id LIMIT $3"
    )
    .bind(after_id)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?
    }))
}

/// Counters with what the nearest-counter choice needs; closed counters take no one.
pub async fn counter_places(db: &Db) -> Result<Vec<(i64, Option<String>, String, String)>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT c.id, c.region_code, o.province_code, c.status FROM counters c \
         JOIN offices o ON o.id = c.office_id WHERE c.status <> 'closed' ORDER BY c.id"
    )
    .fetch_all(pool)
    .await?))
}

/// The latest reviewer decision on the same NIK in an earlier upload: (decision, person, by).
pub async fn earlier_decision(
    db: &Db,
    nik_index: &[u8],
    before_upload: i64,
) -> Result<Option<(String, Option<i64>, Option<i64>)>> {
    Ok(with_db!(db, |pool| sqlx::query_as(
        "SELECT decision, participant_id, decided_by FROM exchange_rows \
         WHERE nik_index = $1 AND upload_id < $2 AND decision IN ('accepted', 'rejected') \
         ORDER BY id DESC LIMIT 1"
    )
    .bind(nik_index)
    .bind(before_upload)
    .fetch_optional(pool)
    .await?))
}

/// Applied rows whose events could not all be recorded (the note says why), a page at a time.
pub async fn noted_rows(
    db: &Db,
    upload_id: i64,
    after_row: i64,
    limit: i64,
) -> Result<Vec<UploadRow>> {
    let sql = format!(
        "{ROW_SELECT} WHERE r.upload_id = $1 AND r.apply_note IS NOT NULL AND r.row_no > $2 \
         ORDER BY r.row_no LIMIT $3"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(upload_id)
        .bind(after_row)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

pub async fn count_noted(db: &Db, upload_id: i64) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM exchange_rows WHERE upload_id = $1 AND apply_note IS NOT NULL"
    )
    .bind(upload_id)
    .fetch_one(pool)
    .await?
    }))
}
