//! SQL for the counter network: counters and their status history, officers, ToT batches and
//! results, certifications, targets and settings. One SQL text per query, on both engines.

use chrono::{NaiveDate, Utc};

use super::model::*;
use super::OfficeKind;
use crate::auth::{self as auth_store, NewAccount};
use crate::auth::{Role, User};
use crate::db::{is_unique_violation, Db};
use crate::error::{AppError, Result};
use crate::with_db;

/// A counter with its office, as lists and the dashboard need it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CounterRow {
    pub id: i64,
    pub office_id: i64,
    pub code: String,
    pub name: String,
    pub status: String,
    pub location_type: String,
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub opening_hours: Option<String>,
    pub services: Option<String>,
    pub planned_open: Option<NaiveDate>,
    pub version: i64,
    pub office_code: String,
    pub office_name: String,
    pub province_code: String,
}

impl CounterRow {
    pub fn status(&self) -> CounterStatus {
        // The column is only ever written from the enum; an unknown value reads as planned.
        CounterStatus::parse(&self.status).unwrap_or(CounterStatus::Planned)
    }
}

const COUNTER_COLUMNS: &str = "c.id, c.office_id, c.code, c.name, c.status, c.location_type, \
     c.address, c.region_code, c.opening_hours, c.services, c.planned_open, c.version, \
     o.code AS office_code, o.name AS office_name, o.province_code";

pub async fn counter_rows(db: &Db) -> Result<Vec<CounterRow>> {
    let sql = format!(
        "SELECT {COUNTER_COLUMNS} FROM counters c JOIN offices o ON o.id = c.office_id ORDER BY c.code"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .fetch_all(pool)
        .await?))
}

pub async fn counter_row(db: &Db, id: i64) -> Result<Option<CounterRow>> {
    let sql = format!(
        "SELECT {COUNTER_COLUMNS} FROM counters c JOIN offices o ON o.id = c.office_id WHERE c.id = $1"
    );
    Ok(with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OfficeRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province_code: String,
    pub address: Option<String>,
    pub version: i64,
}

pub async fn office_rows(db: &Db) -> Result<Vec<OfficeRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, code, name, kind, province_code, address, version FROM offices ORDER BY code",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// One change of a counter's status, as recorded.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusEvent {
    pub counter_id: i64,
    pub status: String,
    pub effective_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Option<i64>,
}

pub async fn status_events(db: &Db, counter_id: Option<i64>) -> Result<Vec<StatusEvent>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT counter_id, status, effective_on, note, recorded_by FROM counter_status_events \
             WHERE (CAST($1 AS BIGINT) IS NULL OR counter_id = $1) ORDER BY counter_id, effective_on, id",
        )
        .bind(counter_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Moves a counter to `status` if `expected_version` is still current, and records the event,
/// in one transaction.
pub async fn set_status(
    db: &Db,
    counter_id: i64,
    expected_version: i64,
    status: CounterStatus,
    on: NaiveDate,
    note: Option<&str>,
    by: Option<i64>,
) -> Result<i64> {
    let now = Utc::now();
    let updated: Option<i64> = with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE counters SET status = $1, version = version + 1 WHERE id = $2 AND version = $3 RETURNING version",
        )
        .bind(status.code())
        .bind(counter_id)
        .bind(expected_version)
        .fetch_optional(&mut *tx)
        .await?;
        if version.is_some() {
            sqlx::query(
                "INSERT INTO counter_status_events (counter_id, status, effective_on, note, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(counter_id)
            .bind(status.code())
            .bind(on)
            .bind(note)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        version
    });
    match updated {
        Some(v) => Ok(v),
        None => {
            let current = counter_row(db, counter_id)
                .await?
                .ok_or(AppError::NotFound)?;
            Err(AppError::VersionConflict {
                current: current.version,
            })
        }
    }
}

/// The descriptive fields of a counter that an import or a form sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterDetails {
    pub location_type: Option<LocationType>,
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub opening_hours: Option<String>,
    pub services: Option<String>,
    pub planned_open: Option<NaiveDate>,
}

/// An officer: the profile, the account it belongs to and where the account is assigned.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OfficerRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub full_name: String,
    pub cascade_role: String,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub active: bool,
    pub version: i64,
}

/// An officer's profile as stored; the account part comes from auth.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: i64,
    user_id: i64,
    full_name: String,
    cascade_role: String,
    version: i64,
}

impl ProfileRow {
    fn with_account(self, user: &User) -> OfficerRow {
        OfficerRow {
            id: self.id,
            user_id: self.user_id,
            username: user.username.clone(),
            full_name: self.full_name,
            cascade_role: self.cascade_role,
            office_id: user.office_id,
            counter_id: user.counter_id,
            active: user.active,
            version: self.version,
        }
    }
}

const PROFILE_COLUMNS: &str = "id, user_id, full_name, cascade_role, version";

pub async fn officer_rows(db: &Db) -> Result<Vec<OfficerRow>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM officers ORDER BY full_name, id");
    let profiles: Vec<ProfileRow> =
        with_db!(db, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
    let users = auth_store::users_by_id(db).await?;
    Ok(profiles
        .into_iter()
        .filter_map(|p| {
            let user = users.get(&p.user_id)?;
            Some(p.with_account(user))
        })
        .collect())
}

pub async fn officer_row(db: &Db, id: i64) -> Result<Option<OfficerRow>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM officers WHERE id = $1");
    let profile: Option<ProfileRow> = with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    let Some(profile) = profile else {
        return Ok(None);
    };
    let user = auth_store::user_by_id(db, profile.user_id).await?;
    Ok(user.map(|u| profile.with_account(&u)))
}

pub async fn insert_officer(
    db: &Db,
    user_id: i64,
    full_name: &str,
    role: CascadeRole,
) -> Result<i64> {
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(full_name)
        .bind(role.code())
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    result.map_err(|e| {
        if is_unique_violation(&e, "user_id") {
            AppError::field(
                "user_id",
                "officer_exists",
                "Akun ini sudah punya profil petugas.",
                "This account already has an officer profile.",
            )
        } else {
            e.into()
        }
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BatchRow {
    pub id: i64,
    pub code: String,
    pub level: String,
    pub mode: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub trainer_officer_id: Option<i64>,
    pub trainer_name: String,
    pub topics: String,
}

pub struct NewBatch<'a> {
    pub code: &'a str,
    pub level: TotLevel,
    pub mode: TotMode,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub trainer_officer_id: Option<i64>,
    pub trainer_name: &'a str,
    pub topics: &'a str,
}

pub async fn insert_batch(db: &Db, b: &NewBatch<'_>) -> Result<i64> {
    let result: std::result::Result<i64, sqlx::Error> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO tot_batches (code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(b.code)
        .bind(b.level.code())
        .bind(b.mode.code())
        .bind(b.start_date)
        .bind(b.end_date)
        .bind(b.trainer_officer_id)
        .bind(b.trainer_name)
        .bind(b.topics)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    result.map_err(|e| {
        if is_unique_violation(&e, "code") {
            AppError::field(
                "code",
                "batch_code_taken",
                "Kode angkatan ToT ini sudah dipakai.",
                "This ToT batch code is already used.",
            )
        } else {
            e.into()
        }
    })
}

pub async fn batch_rows(db: &Db) -> Result<Vec<BatchRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics \
             FROM tot_batches ORDER BY start_date, code",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn batch_row(db: &Db, id: i64) -> Result<Option<BatchRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics \
             FROM tot_batches WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Records attendance and assessment of one officer in one batch, and the certificate when
/// passed; recording again replaces the result (a corrected score), in one transaction.
pub async fn record_result(
    db: &Db,
    batch: &BatchRow,
    officer_id: i64,
    attended: bool,
    score: Option<i64>,
) -> Result<bool> {
    let passed = attended && score.is_some_and(|s| s >= PASS_SCORE);
    let now = Utc::now();
    let valid_until = certificate_valid_until(batch.end_date);
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM tot_results WHERE batch_id = $1 AND officer_id = $2")
            .bind(batch.id)
            .bind(officer_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO tot_results (batch_id, officer_id, attended, score, passed, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch.id)
        .bind(officer_id)
        .bind(attended)
        .bind(score)
        .bind(passed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM certifications WHERE batch_id = $1 AND officer_id = $2")
            .bind(batch.id)
            .bind(officer_id)
            .execute(&mut *tx)
            .await?;
        if passed {
            sqlx::query(
                "INSERT INTO certifications (officer_id, batch_id, certified_on, valid_until) VALUES ($1, $2, $3, $4)",
            )
            .bind(officer_id)
            .bind(batch.id)
            .bind(batch.end_date)
            .bind(valid_until)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(passed)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ResultRow {
    pub batch_id: i64,
    pub officer_id: i64,
    pub attended: bool,
    pub score: Option<i64>,
    pub passed: bool,
}

pub async fn results_of_batch(db: &Db, batch_id: i64) -> Result<Vec<ResultRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT batch_id, officer_id, attended, score, passed FROM tot_results WHERE batch_id = $1 ORDER BY officer_id",
        )
        .bind(batch_id)
        .fetch_all(pool)
        .await?
    }))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificationRow {
    pub officer_id: i64,
    pub batch_id: i64,
    pub certified_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

impl CertificationRow {
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        self.certified_on <= on && on <= self.valid_until && self.revoked_on.is_none_or(|r| on < r)
    }
}

pub async fn certifications(db: &Db, officer_id: Option<i64>) -> Result<Vec<CertificationRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT officer_id, batch_id, certified_on, valid_until, revoked_on FROM certifications \
             WHERE (CAST($1 AS BIGINT) IS NULL OR officer_id = $1) ORDER BY officer_id, certified_on",
        )
        .bind(officer_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Whether the account `user_id` holds a ToT certificate valid on `on` (the check other
/// features make before an officer acts as a certified one).
pub async fn user_certified(db: &Db, user_id: i64, on: NaiveDate) -> Result<bool> {
    let n: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM certifications c JOIN officers f ON f.id = c.officer_id \
             WHERE f.user_id = $1 AND c.certified_on <= $2 AND c.valid_until >= $2 \
             AND (c.revoked_on IS NULL OR c.revoked_on > $2)",
        )
        .bind(user_id)
        .bind(on)
        .fetch_one(pool)
        .await?
    });
    Ok(n > 0)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TargetRow {
    pub id: i64,
    pub metric: String,
    pub scope_kind: String,
    pub scope_code: String,
    pub period_end: NaiveDate,
    pub value: i64,
    /// The reach definition a reach target counts; '' for other metrics.
    pub definition: String,
}

impl TargetRow {
    pub fn scope(&self) -> Option<ScopeRef> {
        ScopeRef::from_parts(&self.scope_kind, &self.scope_code)
    }

    /// What this target counts, when it is a reach target.
    pub fn reach_definition(&self) -> Option<ReachDefinition> {
        Metric::parse(&self.metric).and_then(|m| m.definition(&self.definition))
    }
}

pub async fn targets(db: &Db) -> Result<Vec<TargetRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, metric, scope_kind, scope_code, period_end, value, definition FROM targets \
             ORDER BY metric, definition, scope_kind, scope_code, period_end",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// The definition column of a target: a `reached` target names its own (registrations when
/// none is given), `card_received` is `accepted`, other metrics have none.
fn stored_definition(metric: Metric, definition: Option<ReachDefinition>) -> &'static str {
    match (metric, definition) {
        (Metric::Reached, Some(d)) => d.code(),
        _ => metric.definition("").map_or("", |d| d.code()),
    }
}

/// Sets (or replaces) the target of one metric (and reach definition), scope and period.
pub async fn set_target(
    db: &Db,
    metric: Metric,
    definition: Option<ReachDefinition>,
    scope: &ScopeRef,
    period_end: NaiveDate,
    value: i64,
) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO targets (metric, scope_kind, scope_code, period_end, value, definition) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (metric, definition, scope_kind, scope_code, period_end) DO UPDATE SET value = excluded.value",
        )
        .bind(metric.code())
        .bind(scope.kind())
        .bind(scope.code())
        .bind(period_end)
        .bind(value)
        .bind(stored_definition(metric, definition))
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn setting(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT value FROM network_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn set_setting(db: &Db, key: &str, value: &str) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO network_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Registrations per counter and WIB day (from `reach_daily`, which triggers keep in step with
/// participants), optionally only for some counters and up to a day. `None` means every counter.
pub async fn registrations_by_day(
    db: &Db,
    counters: Option<&[i64]>,
    until: NaiveDate,
) -> Result<Vec<(i64, NaiveDate, i64)>> {
    use crate::with_db_typed;
    Ok(with_db_typed!(db, |pool, DB| {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT counter_id, day, registered FROM reach_daily WHERE registered <> 0 AND day <= ",
        );
        qb.push_bind(until);
        if let Some(ids) = counters {
            qb.push(" AND counter_id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            // An empty list still needs valid SQL: no counter has id 0.
            if ids.is_empty() {
                list.push_bind(0i64);
            }
            qb.push(")");
        }
        qb.build_query_as::<(i64, NaiveDate, i64)>()
            .fetch_all(pool)
            .await?
    }))
}

/// An office as an import brings it; created or updated by code.
pub struct OfficeImport {
    pub code: String,
    pub name: String,
    pub kind: OfficeKind,
    pub province_code: String,
    pub address: Option<String>,
}

/// A counter as an import brings it; created (as planned) or updated by code.
pub struct CounterImport {
    pub code: String,
    pub office_id: i64,
    pub name: String,
    pub details: CounterDetails,
}

/// An officer as an import brings it: a profile, and an account created for it (or moved,
/// when the username already has one).
pub struct OfficerImport {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub cascade_role: CascadeRole,
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
}

/// Creates or updates offices by code, all in one transaction.
pub async fn upsert_offices(db: &Db, offices: &[OfficeImport]) -> Result<()> {
    let now = Utc::now();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for office in offices {
            sqlx::query(
                "INSERT INTO offices (code, name, kind, province_code, address, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, province_code = excluded.province_code, \
                 address = excluded.address, version = offices.version + 1",
            )
            .bind(&office.code)
            .bind(&office.name)
            .bind(office.kind.code())
            .bind(&office.province_code)
            .bind(&office.address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Creates (as planned) or updates counters by code, all in one transaction; the status is
/// left to the lifecycle.
pub async fn upsert_counters(db: &Db, counters: &[CounterImport]) -> Result<()> {
    let now = Utc::now();
    // A new counter keeps the time zone of its office's province (an update keeps its zone).
    let zone =
        crate::clock::Zone::sql_of_province("(SELECT province_code FROM offices WHERE id = $1)");
    let sql = format!(
        "INSERT INTO counters (office_id, code, name, status, created_at, location_type, address, region_code, opening_hours, services, planned_open, time_zone) \
         VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7, $8, $9, $10, {zone}) \
                 ON CONFLICT (code) DO UPDATE SET office_id = excluded.office_id, name = excluded.name, location_type = excluded.location_type, \
                 address = excluded.address, region_code = excluded.region_code, opening_hours = excluded.opening_hours, \
                 services = excluded.services, planned_open = excluded.planned_open, version = counters.version + 1"
    );
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for counter in counters {
            let d = &counter.details;
            sqlx::query(&sql)
                .bind(counter.office_id)
                .bind(&counter.code)
                .bind(&counter.name)
                .bind(now)
                .bind(d.location_type.unwrap_or(LocationType::Office).code())
                .bind(&d.address)
                .bind(&d.region_code)
                .bind(&d.opening_hours)
                .bind(&d.services)
                .bind(d.planned_open)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Creates officers' profiles and their accounts (through auth, without a usable password),
/// all in one transaction; an existing account is moved to the officer's place.
pub async fn insert_officers(db: &Db, officers: &[OfficerImport]) -> Result<()> {
    let unusable = auth_store::unusable_password_hash()?;
    let now = Utc::now();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for officer in officers {
            let user_id = match auth_store::account_id(&mut *tx, &officer.username).await? {
                Some(id) => {
                    auth_store::set_account_place(
                        &mut *tx,
                        id,
                        officer.office_id,
                        officer.counter_id,
                    )
                    .await?;
                    id
                }
                None => {
                    let account = NewAccount {
                        username: &officer.username,
                        password_hash: &unusable,
                        role: officer.role,
                        office_id: officer.office_id,
                        counter_id: officer.counter_id,
                    };
                    auth_store::insert_account(&mut *tx, &account).await?
                }
            };
            sqlx::query("INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(user_id)
                .bind(&officer.full_name)
                .bind(officer.cascade_role.code())
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A counter as its floor needs it: its office, its zone and opening hours.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FloorCounterRow {
    pub id: i64,
    pub office_id: i64,
    pub code: String,
    pub name: String,
    pub time_zone: String,
    pub opens_at: String,
    pub closes_at: String,
}

const FLOOR_COUNTER: &str =
    "SELECT id, office_id, code, name, time_zone, opens_at, closes_at FROM counters";

pub async fn floor_counter(db: &Db, id: i64) -> Result<Option<FloorCounterRow>> {
    let sql = format!("{FLOOR_COUNTER} WHERE id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    }))
}

pub async fn floor_counters(db: &Db) -> Result<Vec<FloorCounterRow>> {
    let sql = format!("{FLOOR_COUNTER} ORDER BY code");
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql).fetch_all(pool).await?
    }))
}

/// Sets a counter's zone and hours, with its audit entry in the same transaction.
pub async fn set_floor_hours(
    db: &Db,
    id: i64,
    zone: &str,
    opens_at: &str,
    closes_at: &str,
    batch: crate::audit::Batch,
) -> Result<()> {
    let changed: u64 = with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let n = sqlx::query(
            "UPDATE counters SET time_zone = $1, opens_at = $2, closes_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(zone)
        .bind(opens_at)
        .bind(closes_at)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        crate::audit::append(&mut *tx, batch).await?;
        tx.commit().await?;
        n
    });
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
