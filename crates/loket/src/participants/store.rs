//! SQL for participants. NIK, KK and phone are sealed on the way in and opened on the way out;
//! lookups use their blind index.

use chrono::{DateTime, NaiveDate, Utc};
use nik::Nik;

use super::model::*;
use crate::access::Scope;
use crate::audit;
use crate::codes::Country;
use crate::db::{is_unique_violation, Db};
use crate::error::{AppError, Result};
use crate::vault::{IndexKind, Vault};
use crate::{with_db, with_db_typed};

/// The scope as SQL: registered or assigned at the counter (or a counter of the office), or
/// referred there. `$1` = counter id or NULL, `$2` = office id or NULL.
const SCOPE_FILTER: &str = "(CAST($1 AS BIGINT) IS NULL OR counter_id = $1 \
       OR id IN (SELECT participant_id FROM referrals WHERE counter_id = $1)) \
     AND (CAST($2 AS BIGINT) IS NULL OR counter_id IN (SELECT id FROM counters WHERE office_id = $2) \
       OR id IN (SELECT r.participant_id FROM referrals r JOIN counters c ON c.id = r.counter_id WHERE c.office_id = $2))";

const COLUMNS: &str = "id, nik_enc, full_name, sex, birth_date, kk_enc, phone_enc, email, \
     province_code, regency_code, district_code, address, education, marital_status, \
     destination_country, job_sector, departure_date, return_date, return_reason, \
     training_interests, digital_literacy, has_smartphone, consent_processing, consent_sharing, \
     consent_method, consent_at, consent_by, counter_id, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct ParticipantRow {
    id: i64,
    nik_enc: Vec<u8>,
    full_name: String,
    sex: String,
    birth_date: NaiveDate,
    kk_enc: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    email: Option<String>,
    province_code: Option<String>,
    regency_code: Option<String>,
    district_code: Option<String>,
    address: Option<String>,
    education: Option<String>,
    marital_status: Option<String>,
    destination_country: Option<String>,
    job_sector: Option<String>,
    departure_date: Option<NaiveDate>,
    return_date: Option<NaiveDate>,
    return_reason: Option<String>,
    training_interests: Option<String>,
    digital_literacy: Option<String>,
    has_smartphone: Option<bool>,
    consent_processing: bool,
    consent_sharing: bool,
    consent_method: String,
    consent_at: DateTime<Utc>,
    consent_by: Option<i64>,
    counter_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

/// A row whose stored value no longer parses is a server fault, never the user's.
fn corrupt(what: &str, id: i64) -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "participant {id}: stored {what} is not valid"
    ))
}

fn stored_code<T>(
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    what: &str,
    id: i64,
) -> Result<Option<T>> {
    value
        .map(|v| parse(&v).ok_or_else(|| corrupt(what, id)))
        .transpose()
}

impl ParticipantRow {
    fn open(self, vault: &Vault) -> Result<Participant> {
        let id = self.id;
        let open = |kind, bytes: &[u8]| {
            vault
                .open(kind, bytes)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("participant {id}: {e}")))
        };
        let nik_text = open(IndexKind::Nik, &self.nik_enc)?;
        // The century of a stored NIK is resolved against its registration date, so it stays
        // the same however many years later it is read.
        let nik = Nik::parse_at(&nik_text, self.created_at.date_naive())
            .map_err(|_| corrupt("nik", id))?;
        let kk = match self.kk_enc {
            Some(bytes) => {
                Some(Kk::parse(&open(IndexKind::Kk, &bytes)?).map_err(|_| corrupt("kk", id))?)
            }
            None => None,
        };
        let phone = match self.phone_enc {
            Some(bytes) => Some(
                Phone::parse(&open(IndexKind::Phone, &bytes)?).map_err(|_| corrupt("phone", id))?,
            ),
            None => None,
        };
        let data = ParticipantData {
            nik,
            full_name: FullName::parse(&self.full_name).map_err(|_| corrupt("name", id))?,
            sex: parse_sex(&self.sex).ok_or_else(|| corrupt("sex", id))?,
            birth_date: self.birth_date,
            kk,
            phone,
            email: self
                .email
                .map(|e| Email::parse(&e))
                .transpose()
                .map_err(|_| corrupt("email", id))?,
            address: Address {
                province_code: self.province_code,
                regency_code: self.regency_code,
                district_code: self.district_code,
                street: self.address,
            },
            education: stored_code(self.education, Education::parse, "education", id)?,
            marital_status: stored_code(
                self.marital_status,
                MaritalStatus::parse,
                "marital_status",
                id,
            )?,
            migration: MigrationHistory {
                destination_country: stored_code(
                    self.destination_country,
                    Country::parse,
                    "country",
                    id,
                )?,
                job_sector: stored_code(self.job_sector, JobSector::parse, "job_sector", id)?,
                departure_date: self.departure_date,
                return_date: self.return_date,
                return_reason: stored_code(
                    self.return_reason,
                    ReturnReason::parse,
                    "return_reason",
                    id,
                )?,
            },
            training_interests: self.training_interests,
            digital_literacy: stored_code(
                self.digital_literacy,
                DigitalLiteracy::parse,
                "digital_literacy",
                id,
            )?,
            has_smartphone: self.has_smartphone,
            consent: Consent {
                processing: self.consent_processing,
                sharing: self.consent_sharing,
                method: ConsentMethod::parse(&self.consent_method)
                    .ok_or_else(|| corrupt("consent_method", id))?,
            },
        };
        Ok(Participant {
            id,
            data,
            counter_id: self.counter_id,
            consent_at: self.consent_at,
            consent_by: self.consent_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// The sealed values and blind indexes of one record, computed once before any SQL runs.
pub struct Sealed {
    pub nik_enc: Vec<u8>,
    pub nik_index: Vec<u8>,
    pub kk_enc: Option<Vec<u8>>,
    pub kk_index: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_index: Option<Vec<u8>>,
}

impl Sealed {
    pub fn new(vault: &Vault, data: &ParticipantData) -> Sealed {
        let kk = data.kk.as_ref().map(Kk::as_str);
        let phone = data.phone.as_ref().map(Phone::as_str);
        Sealed {
            nik_enc: vault.seal(IndexKind::Nik, data.nik.as_str()),
            nik_index: vault.blind_index(IndexKind::Nik, data.nik.as_str()),
            kk_enc: kk.map(|k| vault.seal(IndexKind::Kk, k)),
            kk_index: kk.map(|k| vault.blind_index(IndexKind::Kk, k)),
            phone_enc: phone.map(|p| vault.seal(IndexKind::Phone, p)),
            phone_index: phone.map(|p| vault.blind_index(IndexKind::Phone, p)),
        }
    }
}

/// Who registered the person, where and when: the facts a new row needs besides its data.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    pub counter_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Binds the data columns shared by INSERT, UPDATE and bulk INSERT (`bind` or `push_bind`), in the order of `DATA_COLUMNS`.
macro_rules! bind_data {
    ($q:expr, $bind:ident, $d:expr, $s:expr) => {
        $q.$bind($s.nik_enc.clone())
            .$bind($s.nik_index.clone())
            .$bind($d.full_name.as_str().to_string())
            .$bind($d.sex.code())
            .$bind($d.birth_date)
            .$bind($d.birth_date_mismatch())
            .$bind($d.sex_mismatch())
            .$bind($s.kk_enc.clone())
            .$bind($s.kk_index.clone())
            .$bind($s.phone_enc.clone())
            .$bind($s.phone_index.clone())
            .$bind($d.email.as_ref().map(|e| e.as_str().to_string()))
            .$bind($d.address.province_code.clone())
            .$bind($d.address.regency_code.clone())
            .$bind($d.address.district_code.clone())
            .$bind($d.address.street.clone())
            .$bind($d.education.map(|v| v.code()))
            .$bind($d.marital_status.map(|v| v.code()))
            .$bind(
                $d.migration
                    .destination_country
                    .map(|c| c.as_str().to_string()),
            )
            .$bind($d.migration.job_sector.map(|v| v.code()))
            .$bind($d.migration.departure_date)
            .$bind($d.migration.return_date)
            .$bind($d.migration.return_reason.map(|v| v.code()))
            .$bind($d.training_interests.clone())
            .$bind($d.digital_literacy.map(|v| v.code()))
            .$bind($d.has_smartphone)
            .$bind($d.consent.processing)
            .$bind($d.consent.sharing)
            .$bind($d.consent.method.code())
    };
}

pub const DATA_COLUMNS: &[&str] = &[
    "nik_enc",
    "nik_index",
    "full_name",
    "sex",
    "birth_date",
    "birth_date_mismatch",
    "sex_mismatch",
    "kk_enc",
    "kk_index",
    "phone_enc",
    "phone_index",
    "email",
    "province_code",
    "regency_code",
    "district_code",
    "address",
    "education",
    "marital_status",
    "destination_country",
    "job_sector",
    "departure_date",
    "return_date",
    "return_reason",
    "training_interests",
    "digital_literacy",
    "has_smartphone",
    "consent_processing",
    "consent_sharing",
    "consent_method",
];

fn insert_sql() -> String {
    let mut columns: Vec<&str> = DATA_COLUMNS.to_vec();
    columns.extend([
        "consent_at",
        "consent_by",
        "counter_id",
        "created_at",
        "updated_at",
    ]);
    let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO participants ({}) VALUES ({}) RETURNING id",
        columns.join(", "),
        params.join(", ")
    )
}

fn update_sql() -> String {
    let n = DATA_COLUMNS.len();
    let sets: Vec<String> = DATA_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    format!(
        "UPDATE participants SET {}, updated_at = ${}, version = version + 1 WHERE id = ${} AND version = ${} RETURNING id",
        sets.join(", "),
        n + 1,
        n + 2,
        n + 3
    )
}

/// Registers a new participant; one person per NIK. The record, the first entry of its
/// consent history and the audit entry (made from the new id) commit together.
pub async fn insert(
    db: &Db,
    vault: &Vault,
    data: &ParticipantData,
    reg: Registration,
    audited: impl FnOnce(i64) -> audit::Batch + Send,
) -> Result<i64> {
    // While a key rotation is under way an older row may still carry an old-key index.
    if vault.key_ids().len() > 1 {
        if let Some(existing_id) = nik_exists(db, vault, &data.nik).await? {
            return Err(AppError::NikDuplicate {
                existing_id: Some(existing_id),
                held_at: None,
            });
        }
    }
    let sealed = Sealed::new(vault, data);
    let sql = insert_sql();
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        async {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let id: i64 = bind_data!(sqlx::query_scalar(&sql), bind, data, sealed)
                .bind(reg.at)
                .bind(reg.officer_id)
                .bind(reg.counter_id)
                .bind(reg.at)
                .bind(reg.at)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(CONSENT_EVENT_SQL)
                .bind(id)
                .bind(data.consent.processing)
                .bind(data.consent.sharing)
                .bind(data.consent.method.code())
                .bind(reg.officer_id)
                .bind(reg.at)
                .bind(None::<&str>)
                .execute(&mut *tx)
                .await?;
            audit::append(&mut *tx, audited(id)).await?;
            tx.commit().await?;
            Ok(id)
        }
        .await
    });
    match result {
        Ok(id) => Ok(id),
        Err(e) if is_unique_violation(&e, "nik_index") => {
            let existing_id = id_by_nik_index(db, &sealed.nik_index).await?;
            Err(AppError::NikDuplicate {
                existing_id,
                held_at: None,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the data of a participant if `expected_version` is still current; the audit
/// entry commits with the change.
pub async fn update(
    db: &Db,
    vault: &Vault,
    id: i64,
    expected_version: i64,
    data: &ParticipantData,
    at: DateTime<Utc>,
    audited: audit::Batch,
) -> Result<()> {
    let sealed = Sealed::new(vault, data);
    let sql = update_sql();
    let result: std::result::Result<Option<i64>, sqlx::Error> = with_db!(db, |pool| {
        async {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let done: Option<i64> = bind_data!(sqlx::query_scalar(&sql), bind, data, sealed)
                .bind(at)
                .bind(id)
                .bind(expected_version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                audit::append(&mut *tx, audited).await?;
                tx.commit().await?;
            }
            Ok(done)
        }
        .await
    });
    match result {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(stale(db, id).await),
        Err(e) if is_unique_violation(&e, "nik_index") => {
            let existing_id = id_by_nik_index(db, &sealed.nik_index).await?;
            Err(AppError::NikDuplicate {
                existing_id,
                held_at: None,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Why a versioned write changed nothing: someone else changed the row, or it is gone.
async fn stale(db: &Db, id: i64) -> AppError {
    match current_version(db, id).await {
        Ok(Some(current)) => AppError::VersionConflict { current },
        Ok(None) => AppError::NotFound,
        Err(e) => e,
    }
}

async fn current_version(db: &Db, id: i64) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT version FROM participants WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

async fn id_by_nik_index(db: &Db, index: &[u8]) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM participants WHERE nik_index = $1")
            .bind(index)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn get(db: &Db, vault: &Vault, id: i64) -> Result<Option<Participant>> {
    let sql = format!("SELECT {COLUMNS} FROM participants WHERE id = $1");
    let row: Option<ParticipantRow> = with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    row.map(|r| r.open(vault)).transpose()
}

/// Exact lookup through the blind index; the scope decides whether the person is visible.
pub async fn find_by_nik(
    db: &Db,
    vault: &Vault,
    nik: &Nik,
    scope: Scope,
) -> Result<Option<Participant>> {
    let (counter, office, any) = scope.params();
    if !any {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM participants WHERE {SCOPE_FILTER} AND nik_index = $3");
    // Current key first; older keys only matter while a key rotation is under way.
    for index in vault.blind_indexes(IndexKind::Nik, nik.as_str()) {
        let row: Option<ParticipantRow> = with_db!(db, |pool| {
            sqlx::query_as(&sql)
                .bind(counter)
                .bind(office)
                .bind(&index)
                .fetch_optional(pool)
                .await?
        });
        if let Some(row) = row {
            return row.open(vault).map(Some);
        }
    }
    Ok(None)
}

/// Whether any participant, in any scope, holds this NIK (to stop a second registration).
pub async fn nik_exists(db: &Db, vault: &Vault, nik: &Nik) -> Result<Option<i64>> {
    for index in vault.blind_indexes(IndexKind::Nik, nik.as_str()) {
        if let Some(id) = id_by_nik_index(db, &index).await? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!(
        "%{}%",
        escaped.split_whitespace().collect::<Vec<_>>().join("%")
    )
}

/// Name search (case-insensitive, words in order), by name; `offset` rows skipped (pages).
pub async fn search_by_name(
    db: &Db,
    vault: &Vault,
    query: &str,
    scope: Scope,
    offset: i64,
    limit: i64,
) -> Result<Vec<Participant>> {
    let (counter, office, any) = scope.params();
    if !any || query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM participants WHERE {SCOPE_FILTER} \
         AND lower(full_name) LIKE lower($3) ESCAPE '\\' ORDER BY full_name, id LIMIT $4 OFFSET $5"
    );
    let rows: Vec<ParticipantRow> = with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(counter)
            .bind(office)
            .bind(like_pattern(query))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(|r| r.open(vault)).collect()
}

/// How many people the name search finds in scope (for "1–50 of 312").
pub async fn count_by_name(db: &Db, query: &str, scope: Scope) -> Result<i64> {
    let (counter, office, any) = scope.params();
    if !any || query.trim().is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM participants WHERE {SCOPE_FILTER} \
         AND lower(full_name) LIKE lower($3) ESCAPE '\\'"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(&sql)
            .bind(counter)
            .bind(office)
            .bind(like_pattern(query))
            .fetch_one(pool)
            .await?
    }))
}

/// Every participant in scope, in id order, a page at a time (for export).
pub async fn page(
    db: &Db,
    vault: &Vault,
    scope: Scope,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Participant>> {
    let (counter, office, any) = scope.params();
    if !any {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM participants WHERE {SCOPE_FILTER} AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows: Vec<ParticipantRow> = with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(counter)
            .bind(office)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(|r| r.open(vault)).collect()
}

/// Whether participant `id` is inside `scope` (the same rule as every scoped query).
pub async fn visible(db: &Db, id: i64, scope: Scope) -> Result<bool> {
    let (counter, office, any) = scope.params();
    if !any {
        return Ok(false);
    }
    let sql = format!("SELECT id FROM participants WHERE {SCOPE_FILTER} AND id = $3");
    let found: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar(&sql)
            .bind(counter)
            .bind(office)
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.is_some())
}

/// Moves a case to another counter (the old counter loses access unless referred).
pub async fn reassign(
    db: &Db,
    id: i64,
    expected_version: i64,
    counter_id: i64,
    at: DateTime<Utc>,
    audited: audit::Batch,
) -> Result<()> {
    let done: Option<i64> = with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let done = sqlx::query_scalar("UPDATE participants SET counter_id = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4 RETURNING id")
            .bind(counter_id)
            .bind(at)
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            audit::append(&mut *tx, audited).await?;
            tx.commit().await?;
        }
        done
    });
    match done {
        Some(_) => Ok(()),
        None => Err(stale(db, id).await),
    }
}

/// A referral: another counter may see and serve the person; referring twice changes nothing.
const REFER_SQL: &str =
    "INSERT INTO referrals (participant_id, counter_id, reason, referred_by, referred_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (participant_id, counter_id) DO NOTHING";

/// Gives another counter access to a case (a referral); referring twice changes nothing.
pub async fn refer(
    db: &Db,
    id: i64,
    counter_id: i64,
    reason: &str,
    by: i64,
    at: DateTime<Utc>,
    audited: audit::Batch,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        sqlx::query(REFER_SQL)
            .bind(id)
            .bind(counter_id)
            .bind(reason)
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// One entry of a participant's consent history.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsentEvent {
    pub id: i64,
    pub processing: bool,
    pub sharing: bool,
    pub method: String,
    pub recorded_by: Option<i64>,
    pub recorded_at: DateTime<Utc>,
    pub note: Option<String>,
}

const CONSENT_EVENT_SQL: &str = "INSERT INTO consent_events (participant_id, processing, sharing, method, recorded_by, recorded_at, note) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Records a consent decision and makes it the current one, with its audit entry, in one
/// transaction.
pub async fn record_consent(
    db: &Db,
    id: i64,
    consent: Consent,
    by: Option<i64>,
    note: Option<&str>,
    at: DateTime<Utc>,
    audited: audit::Batch,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        sqlx::query(CONSENT_EVENT_SQL)
            .bind(id)
            .bind(consent.processing)
            .bind(consent.sharing)
            .bind(consent.method.code())
            .bind(by)
            .bind(at)
            .bind(note)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE participants SET consent_processing = $1, consent_sharing = $2, consent_method = $3, consent_at = $4, \
             consent_by = $5, updated_at = $4, version = version + 1 WHERE id = $6",
        )
        .bind(consent.processing)
        .bind(consent.sharing)
        .bind(consent.method.code())
        .bind(at)
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut *tx, audited).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Inside an import's transaction: starts the consent history of every row it inserted
/// (found by their NIK indexes) and appends their audit entries, so rows, consents and entries
/// commit together or not at all.
macro_rules! finish_import {
    ($tx:expr, $dbt:ty, $records:expr, $audited:expr) => {{
        let mut ids: Vec<i64> = Vec::with_capacity($records.len());
        for chunk in $records.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<$dbt>::new(
                "INSERT INTO consent_events (participant_id, processing, sharing, method, recorded_by, recorded_at) \
                 SELECT p.id, p.consent_processing, p.consent_sharing, p.consent_method, p.consent_by, p.consent_at \
                 FROM participants p WHERE p.nik_index IN (",
            );
            let mut list = qb.separated(", ");
            for (_, sealed) in chunk {
                list.push_bind(sealed.nik_index.clone());
            }
            qb.push(") RETURNING participant_id");
            ids.extend(qb.build_query_scalar::<i64>().fetch_all(&mut *$tx).await?);
        }
        ids.sort_unstable();
        audit::append(&mut *$tx, $audited(&ids)).await?;
    }};
}

pub async fn consent_history(db: &Db, id: i64) -> Result<Vec<ConsentEvent>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, processing, sharing, method, recorded_by, recorded_at, note FROM consent_events \
             WHERE participant_id = $1 ORDER BY recorded_at, id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    }))
}

/// People who consented to sharing with the programme office, in id order, a page at a time.
pub async fn page_shareable(
    db: &Db,
    vault: &Vault,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Participant>> {
    let sql = format!("SELECT {COLUMNS} FROM participants WHERE consent_sharing = $1 AND consent_processing = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows: Vec<ParticipantRow> = with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(true)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(|r| r.open(vault)).collect()
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM participants")
            .fetch_one(pool)
            .await?
    }))
}

/// Which of these blind indexes are already taken (import checks its whole file first).
pub async fn existing_nik_indexes(
    db: &Db,
    indexes: &[Vec<u8>],
) -> Result<std::collections::HashSet<Vec<u8>>> {
    nik_indexes_among(db, indexes, None).await
}

/// Which of these blind indexes are taken, by rows registered at `registered_at` when given
/// (the rows of one import run).
pub async fn nik_indexes_among(
    db: &Db,
    indexes: &[Vec<u8>],
    registered_at: Option<DateTime<Utc>>,
) -> Result<std::collections::HashSet<Vec<u8>>> {
    let mut found = std::collections::HashSet::new();
    for chunk in indexes.chunks(500) {
        let rows: Vec<Vec<u8>> = with_db_typed!(db, |pool, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT nik_index FROM participants WHERE nik_index IN (",
            );
            let mut list = qb.separated(", ");
            for index in chunk {
                list.push_bind(index.clone());
            }
            qb.push(")");
            if let Some(at) = registered_at {
                qb.push(" AND created_at = ");
                qb.push_bind(at);
            }
            qb.build_query_scalar().fetch_all(pool).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// A participant import that committed some chunks of its file and has not finished.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRun {
    pub id: i64,
    pub rows_total: i64,
    /// Counted from the rows themselves, so a stop between two statements cannot skew it.
    pub rows_done: i64,
    /// The registration time of every row it writes: how its rows are known again.
    pub registered_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
}

/// The latest import that stopped before its end, if any, with the rows it stored.
pub async fn unfinished_import(db: &Db) -> Result<Option<ImportRun>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT r.id, r.rows_total, r.registered_at, r.started_at, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM participants p WHERE p.created_at = r.registered_at) AS rows_done \
             FROM import_runs r WHERE r.kind = $1 AND r.finished_at IS NULL ORDER BY r.id DESC LIMIT 1",
        )
        .bind("participants")
        .fetch_optional(pool)
        .await?
    }))
}

/// Starts an import run of `rows_total` rows registered at `registered_at`. Runs that stopped
/// before storing anything are closed: there is nothing of theirs to resume.
pub async fn start_import(db: &Db, rows_total: usize, registered_at: DateTime<Utc>) -> Result<i64> {
    let now = Utc::now();
    Ok(with_db!(db, |pool| {
        sqlx::query(
            "UPDATE import_runs SET finished_at = $1 WHERE kind = $2 AND finished_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.created_at = import_runs.registered_at)",
        )
        .bind(now)
        .bind("participants")
        .execute(pool)
        .await?;
        sqlx::query_scalar(
            "INSERT INTO import_runs (kind, rows_total, registered_at, started_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind("participants")
        .bind(rows_total as i64)
        .bind(registered_at)
        .bind(now)
        .fetch_one(pool)
        .await?
    }))
}

/// Closes an import run: every row of its file is stored.
pub async fn finish_import(db: &Db, run: i64) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("UPDATE import_runs SET finished_at = $1 WHERE id = $2")
            .bind(Utc::now())
            .bind(run)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The columns a bulk insert fills, in order.
fn bulk_columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = DATA_COLUMNS.to_vec();
    columns.extend([
        "consent_at",
        "consent_by",
        "counter_id",
        "created_at",
        "updated_at",
    ]);
    columns
}

/// Inserts many validated records in one transaction: all of them or none, each with the
/// first entry of its consent history and the audit entries `audited` makes from the new ids.
/// SQLite takes multi-row INSERTs; PostgreSQL takes `COPY … FROM STDIN`, its fast load path.
pub async fn insert_many(
    db: &Db,
    records: &[(ParticipantData, Sealed)],
    reg: Registration,
    audited: impl FnMut(&[i64]) -> audit::Batch,
    progress: impl FnMut(usize),
) -> Result<()> {
    match db {
        Db::Sqlite(pool) => insert_many_sqlite(pool, records, reg, audited, progress).await,
        Db::Postgres(pool) => copy_many_postgres(pool, records, reg, audited, progress).await,
    }
}

async fn insert_many_sqlite(
    pool: &sqlx::SqlitePool,
    records: &[(ParticipantData, Sealed)],
    reg: Registration,
    mut audited: impl FnMut(&[i64]) -> audit::Batch,
    mut progress: impl FnMut(usize),
) -> Result<()> {
    // SQLite allows 32,766 bound values per statement: 900 rows of 34 columns.
    const ROWS_PER_STATEMENT: usize = 900;
    let head = format!("INSERT INTO participants ({}) ", bulk_columns().join(", "));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(&head);
        qb.push_values(chunk, |mut b, (d, s)| {
            bind_data!(b, push_bind, d, s)
                .push_bind(reg.at)
                .push_bind(reg.officer_id)
                .push_bind(reg.counter_id)
                .push_bind(reg.at)
                .push_bind(reg.at);
        });
        qb.build().execute(&mut *tx).await?;
        progress(chunk.len());
    }
    finish_import!(tx, sqlx::Sqlite, records, audited);
    tx.commit().await?;
    Ok(())
}

/// One row in PostgreSQL's COPY CSV format; `bind_data!` fills it like a query.
struct CopyRow(Vec<Option<String>>);

/// How a value is written in COPY CSV: NULL as an unquoted empty field, bytea as `\x` hex.
trait CopyText {
    fn copy_text(self) -> Option<String>;
}

impl CopyText for String {
    fn copy_text(self) -> Option<String> {
        Some(self)
    }
}
impl CopyText for &str {
    fn copy_text(self) -> Option<String> {
        Some(self.to_string())
    }
}
impl CopyText for Vec<u8> {
    fn copy_text(self) -> Option<String> {
        Some(format!("\\x{}", hex::encode(self)))
    }
}
impl CopyText for bool {
    fn copy_text(self) -> Option<String> {
        Some(if self { "t" } else { "f" }.to_string())
    }
}
impl CopyText for i64 {
    fn copy_text(self) -> Option<String> {
        Some(self.to_string())
    }
}
impl CopyText for NaiveDate {
    fn copy_text(self) -> Option<String> {
        Some(self.format("%Y-%m-%d").to_string())
    }
}
impl CopyText for DateTime<Utc> {
    fn copy_text(self) -> Option<String> {
        Some(self.to_rfc3339())
    }
}
impl<T: CopyText> CopyText for Option<T> {
    fn copy_text(self) -> Option<String> {
        self.and_then(CopyText::copy_text)
    }
}

impl CopyRow {
    fn push_bind<T: CopyText>(mut self, value: T) -> Self {
        self.0.push(value.copy_text());
        self
    }
}

async fn copy_many_postgres(
    pool: &sqlx::PgPool,
    records: &[(ParticipantData, Sealed)],
    reg: Registration,
    mut audited: impl FnMut(&[i64]) -> audit::Batch,
    mut progress: impl FnMut(usize),
) -> Result<()> {
    const ROWS_PER_BUFFER: usize = 2000;
    let sql = format!(
        "COPY participants ({}) FROM STDIN WITH (FORMAT csv)",
        bulk_columns().join(", ")
    );
    let mut tx = pool.begin().await?;
    let mut copy = tx.copy_in_raw(&sql).await?;
    for chunk in records.chunks(ROWS_PER_BUFFER) {
        let mut out = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::with_capacity(chunk.len() * 600));
        for (d, s) in chunk {
            let row = bind_data!(CopyRow(Vec::with_capacity(34)), push_bind, d, s)
                .push_bind(reg.at)
                .push_bind(reg.officer_id)
                .push_bind(reg.counter_id)
                .push_bind(reg.at)
                .push_bind(reg.at);
            // A NULL is an unquoted empty field; a present value is never empty here.
            out.write_record(row.0.iter().map(|v| v.as_deref().unwrap_or("")))
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        copy.send(bytes).await?;
        progress(chunk.len());
    }
    copy.finish().await?;
    finish_import!(tx, sqlx::Postgres, records, audited);
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards_and_joins_words() {
        assert_eq!(like_pattern(" siti  aminah "), "%siti%aminah%");
        assert_eq!(like_pattern("50%_x"), "%50\\%\\_x%");
    }

    #[test]
    fn insert_and_update_bind_the_same_columns() {
        let insert = insert_sql();
        assert_eq!(insert.matches('$').count(), DATA_COLUMNS.len() + 5);
        assert_eq!(update_sql().matches('$').count(), DATA_COLUMNS.len() + 3);
    }
}

/// Where a case is held: its counter and office (names only), for "registered at …".
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Holder {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub counter_name: Option<String>,
    pub office_id: Option<i64>,
    pub office_name: Option<String>,
}

/// The counter and office that hold participant `id` (none for a person held by no counter).
pub async fn holder(db: &Db, id: i64) -> Result<Option<Holder>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id AS participant_id, p.counter_id, c.name AS counter_name, \
             o.id AS office_id, o.name AS office_name \
             FROM participants p LEFT JOIN counters c ON c.id = p.counter_id \
             LEFT JOIN offices o ON o.id = c.office_id WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// A new request for access to a case, or to move it (`requests`).
pub struct NewAccessRequest<'a> {
    pub participant_id: i64,
    pub kind: super::requests::RequestKind,
    pub from_counter_id: i64,
    pub holder_counter_id: Option<i64>,
    pub requested_by: i64,
    pub reason: &'a str,
    pub at: DateTime<Utc>,
}

/// Stores a request with its audit entry (made from the new id), unless the same counter
/// already has one open for the person: then `None`.
pub async fn insert_access_request(
    db: &Db,
    new: NewAccessRequest<'_>,
    audited: impl FnOnce(i64) -> audit::Batch + Send,
) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM access_requests WHERE participant_id = $1 AND from_counter_id = $2 AND status = 'open'",
        )
        .bind(new.participant_id)
        .bind(new.from_counter_id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            None
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO access_requests (participant_id, kind, from_counter_id, holder_counter_id, \
                 requested_by, reason, requested_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') RETURNING id",
            )
            .bind(new.participant_id)
            .bind(new.kind)
            .bind(new.from_counter_id)
            .bind(new.holder_counter_id)
            .bind(new.requested_by)
            .bind(new.reason)
            .bind(new.at)
            .fetch_one(&mut *tx)
            .await?;
            audit::append(&mut *tx, audited(id)).await?;
            tx.commit().await?;
            Some(id)
        }
    }))
}

/// A request as the lists show it: the counters and offices by name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccessRequestRow {
    pub id: i64,
    pub participant_id: i64,
    /// Shown only to the side that holds the case (the requester learns names only).
    pub participant_name: String,
    pub kind: super::requests::RequestKind,
    pub status: super::requests::RequestStatus,
    pub from_counter_id: i64,
    pub from_counter: String,
    pub from_office: String,
    pub holder_counter_id: Option<i64>,
    pub holder_counter: Option<String>,
    pub holder_office_id: Option<i64>,
    pub holder_office: Option<String>,
    pub requested_by: String,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.participant_id, p.full_name AS participant_name, r.kind, r.status, r.from_counter_id, \
     fc.name AS from_counter, fo.name AS from_office, r.holder_counter_id, hc.name AS holder_counter, \
     ho.id AS holder_office_id, ho.name AS holder_office, u.username AS requested_by, r.reason, \
     r.requested_at, r.answer, r.answered_at \
     FROM access_requests r JOIN participants p ON p.id = r.participant_id \
     JOIN counters fc ON fc.id = r.from_counter_id \
     JOIN offices fo ON fo.id = fc.office_id JOIN users u ON u.id = r.requested_by \
     LEFT JOIN counters hc ON hc.id = r.holder_counter_id LEFT JOIN offices ho ON ho.id = hc.office_id";

/// One request.
pub async fn access_request(db: &Db, id: i64) -> Result<Option<AccessRequestRow>> {
    let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    }))
}

/// Which side of the requests a list shows, and for whom.
#[derive(Clone, Copy, Debug)]
pub enum RequestSide {
    /// Requests to the cases a counter (or an office, or head office: `All`) holds.
    Incoming(Scope),
    /// Requests a counter (or the counters of an office) sent.
    Outgoing(Scope),
}

/// Requests of one side, open ones first, newest first (at most 200: open requests are few,
/// answered ones are history).
pub async fn access_requests(db: &Db, side: RequestSide) -> Result<Vec<AccessRequestRow>> {
    let (column, office_column, scope) = match side {
        RequestSide::Incoming(scope) => ("r.holder_counter_id", "hc.office_id", scope),
        RequestSide::Outgoing(scope) => ("r.from_counter_id", "fc.office_id", scope),
    };
    let (counter, office, any) = scope.params();
    if !any {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{REQUEST_SELECT} WHERE (CAST($1 AS BIGINT) IS NULL OR {column} = $1) \
         AND (CAST($2 AS BIGINT) IS NULL OR {office_column} = $2) \
         ORDER BY CASE WHEN r.status = 'open' THEN 0 ELSE 1 END, r.id DESC LIMIT 200"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(counter)
            .bind(office)
            .fetch_all(pool)
            .await?
    }))
}

/// How many open requests wait for an answer on this side.
pub async fn open_access_requests(db: &Db, scope: Scope) -> Result<i64> {
    let (counter, office, any) = scope.params();
    if !any {
        return Ok(0);
    }
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM access_requests r \
             LEFT JOIN counters hc ON hc.id = r.holder_counter_id WHERE r.status = 'open' \
             AND (CAST($1 AS BIGINT) IS NULL OR r.holder_counter_id = $1) \
             AND (CAST($2 AS BIGINT) IS NULL OR hc.office_id = $2)",
        )
        .bind(counter)
        .bind(office)
        .fetch_one(pool)
        .await?
    }))
}

/// What accepting a request does to the case, in the same transaction as the answer.
#[derive(Clone, Copy, Debug)]
pub enum Grant {
    /// Refer the case to the requesting counter (the `referrals` of `refer`).
    Refer { counter_id: i64 },
    /// Move the case to the requesting counter (as `reassign` does).
    Move { counter_id: i64 },
    /// Declined: nothing changes.
    Nothing,
}

/// Answers an open request: the answer, what it grants and its audit entries commit together.
/// `false` when the request was answered meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn answer_access_request(
    db: &Db,
    id: i64,
    status: super::requests::RequestStatus,
    answer: Option<&str>,
    by: i64,
    at: DateTime<Utc>,
    grant: Grant,
    audited: audit::Batch,
) -> Result<bool> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let participant: Option<i64> = sqlx::query_scalar(
            "UPDATE access_requests SET status = $1, answer = $2, answered_by = $3, answered_at = $4 \
             WHERE id = $5 AND status = 'open' RETURNING participant_id",
        )
        .bind(status)
        .bind(answer)
        .bind(by)
        .bind(at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        match participant {
            None => false,
            Some(participant) => {
                match grant {
                    Grant::Refer { counter_id } => {
                        sqlx::query(REFER_SQL)
                            .bind(participant)
                            .bind(counter_id)
                            .bind(answer.unwrap_or_default())
                            .bind(by)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Grant::Move { counter_id } => {
                        sqlx::query(
                            "UPDATE participants SET counter_id = $1, updated_at = $2, version = version + 1 WHERE id = $3",
                        )
                        .bind(counter_id)
                        .bind(at)
                        .bind(participant)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Grant::Nothing => {}
                }
                audit::append(&mut *tx, audited).await?;
                tx.commit().await?;
                true
            }
        }
    }))
}

/// The first person a counter holds, and whether any access request exists yet (the demo's
/// sample request).
pub async fn first_held_and_any_request(db: &Db, counter_id: i64) -> Result<(Option<i64>, bool)> {
    Ok(with_db!(db, |pool| {
        let first: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM participants WHERE counter_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(counter_id)
        .fetch_optional(pool)
        .await?;
        let any: Option<i64> = sqlx::query_scalar("SELECT id FROM access_requests LIMIT 1")
            .fetch_optional(pool)
            .await?;
        (first, any.is_some())
    }))
}
