//! The counter network: BP2MI offices (UPT/BP3MI, P4MI, other) and their service counters,
//! the counter lifecycle, officers and their Training of Trainers (ToT), targets as data and
//! the national dashboard.

pub mod api;
pub mod chart;
pub mod dashboard;
pub mod demo;
pub mod file;
pub mod model;
pub mod pages;
pub mod service;
/// Public for the tests and benchmarks that check its queries; other modules use the front
/// door below (the layer test refuses `counters::store` elsewhere in `src`).
pub mod store;

pub use store::{counter_rows, CounterRow};
pub mod texts;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use axum::Router;
use chrono::{NaiveDate, Utc};

use crate::state::AppState;

use crate::code_enum;
use crate::db::Db;
use crate::error::Result;
use crate::with_db;

code_enum! {
    pub enum OfficeKind {
        Upt => ("upt", "UPT BP2MI / BP3MI", "BP2MI regional office"),
        P4mi => ("p4mi", "P4MI", "P4MI service post"),
        Other => ("other", "Lainnya", "Other"),
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Office {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province_code: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Counter {
    pub id: i64,
    pub office_id: i64,
    pub code: String,
    pub name: String,
    pub status: String,
}

pub async fn create_office(
    db: &Db,
    code: &str,
    name: &str,
    kind: OfficeKind,
    province_code: &str,
) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("INSERT INTO offices (code, name, kind, province_code, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(code)
            .bind(name)
            .bind(kind.code())
            .bind(province_code)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?
    }))
}

pub async fn create_counter(
    db: &Db,
    office_id: i64,
    code: &str,
    name: &str,
    status: &str,
) -> Result<i64> {
    // A new counter keeps the time zone of its office's province.
    let zone =
        crate::clock::Zone::sql_of_province("(SELECT province_code FROM offices WHERE id = $1)");
    let sql = format!(
        "INSERT INTO counters (office_id, code, name, status, created_at, time_zone) VALUES ($1, $2, $3, $4, $5, {zone}) RETURNING id"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(&sql)
            .bind(office_id)
            .bind(code)
            .bind(name)
            .bind(status)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?
    }))
}

pub async fn office_of(db: &Db, counter_id: i64) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT office_id FROM counters WHERE id = $1")
            .bind(counter_id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn counters(db: &Db) -> Result<Vec<Counter>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, office_id, code, name, status FROM counters ORDER BY code")
            .fetch_all(pool)
            .await?
    }))
}

pub async fn counter_by_code(db: &Db, code: &str) -> Result<Option<Counter>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, office_id, code, name, status FROM counters WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn offices(db: &Db) -> Result<Vec<Office>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, code, name, kind, province_code FROM offices ORDER BY code")
            .fetch_all(pool)
            .await?
    }))
}

/// Whether the account `user_id` holds a ToT certificate valid on `on`. Other features call
/// this before an officer records work that only certified officers may do (assistance).
pub async fn officer_is_certified(db: &Db, user_id: i64, on: NaiveDate) -> Result<bool> {
    store::user_certified(db, user_id, on).await
}

/// People first reaching a [`model::ReachDefinition`] other than registration, as
/// (counter id, day, how many), up to a day. The journey knows them and sits above this
/// feature, so the app assembly plugs its count in here (see `app`).
pub type ReachCounts = for<'a> fn(&'a Db, model::ReachDefinition, NaiveDate) -> ReachFuture<'a>;

/// The count being worked out: (counter id, day, people).
pub type ReachFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<(i64, NaiveDate, i64)>>> + Send + 'a>>;

static REACH_COUNTS: OnceLock<ReachCounts> = OnceLock::new();

/// Sets where the dashboard counts the journey's reach definitions; the first call wins.
pub fn set_reach_counts(counts: ReachCounts) {
    let _ = REACH_COUNTS.set(counts);
}

/// The journey's count of one reach definition (nothing before the app plugs it in).
pub(crate) async fn reach_counts(
    db: &Db,
    definition: model::ReachDefinition,
    until: NaiveDate,
) -> Result<Vec<(i64, NaiveDate, i64)>> {
    match REACH_COUNTS.get() {
        Some(counts) => counts(db, definition, until).await,
        None => Ok(Vec::new()),
    }
}

/// A counter's floor settings: its zone (its "today") and opening hours.
#[derive(Clone, Debug)]
pub struct FloorCounter {
    pub id: i64,
    pub office_id: i64,
    pub code: String,
    pub name: String,
    pub zone: crate::clock::Zone,
    pub opens_at: chrono::NaiveTime,
    pub closes_at: chrono::NaiveTime,
}

impl FloorCounter {
    fn from_row(r: store::FloorCounterRow) -> FloorCounter {
        let time = |t: &str, or: u32| {
            chrono::NaiveTime::parse_from_str(t, "%H:%M").unwrap_or_else(|_| {
                chrono::NaiveTime::from_hms_opt(or, 0, 0).unwrap_or(chrono::NaiveTime::MIN)
            })
        };
        FloorCounter {
            id: r.id,
            office_id: r.office_id,
            zone: crate::clock::Zone::from_code(&r.time_zone).unwrap_or(crate::clock::Zone::Wib),
            opens_at: time(&r.opens_at, 8),
            closes_at: time(&r.closes_at, 16),
            code: r.code,
            name: r.name,
        }
    }

    /// "Today" at this counter, in its own zone.
    pub fn today(&self) -> NaiveDate {
        self.zone.today()
    }
}

pub async fn floor_counter(db: &Db, id: i64) -> Result<Option<FloorCounter>> {
    Ok(store::floor_counter(db, id)
        .await?
        .map(FloorCounter::from_row))
}

pub async fn floor_counters(db: &Db) -> Result<Vec<FloorCounter>> {
    Ok(store::floor_counters(db)
        .await?
        .into_iter()
        .map(FloorCounter::from_row)
        .collect())
}

/// Changes a counter's zone and hours (the caller has checked the person manages the office).
pub async fn set_floor_hours(
    db: &Db,
    id: i64,
    zone: crate::clock::Zone,
    opens_at: chrono::NaiveTime,
    closes_at: chrono::NaiveTime,
    batch: crate::audit::Batch,
) -> Result<()> {
    let hm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
    store::set_floor_hours(db, id, zone.code(), &hm(opens_at), &hm(closes_at), batch).await
}

/// The counter network's JSON API and pages.
pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}
