//! SQL for the catalogue. Every change bumps `catalog_revision` in the same transaction, so the
//! search index of every process knows when to rebuild.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;

use super::model::*;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::with_db;

#[derive(sqlx::FromRow)]
struct TrainingRow {
    id: i64,
    external_id: String,
    institution_id: i64,
    institution_external_id: String,
    institution_name: String,
    institution_city: String,
    title: String,
    category: String,
    occupations: String,
    mode: String,
    hours: i64,
    language: String,
    description: String,
    prerequisites: String,
    rating_tenths: Option<i64>,
    review_count: i64,
    status: String,
    version: i64,
}

const TRAINING_SELECT: &str = "SELECT t.id, t.external_id, t.institution_id, \
     i.external_id AS institution_external_id, i.name AS institution_name, i.city AS institution_city, \
     t.title, t.category, t.occupations, t.mode, t.hours, t.language, t.description, t.prerequisites, \
     t.rating_tenths, t.review_count, t.status, t.version \
     FROM catalog_trainings t JOIN catalog_institutions i ON i.id = t.institution_id";

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "catalogue row holds an unknown {what}: {value}"
    ))
}

impl TrainingRow {
    fn into_training(self, offers: Vec<Offer>) -> Result<Training> {
        let occupations = self
            .occupations
            .split('|')
            .filter(|s| !s.is_empty())
            .map(|s| Occupation::parse(s).ok_or_else(|| corrupt("occupation", s)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Training {
            id: self.id,
            institution_id: self.institution_id,
            version: self.version,
            data: TrainingData {
                category: Category::parse(&self.category)
                    .ok_or_else(|| corrupt("category", &self.category))?,
                mode: Mode::parse(&self.mode).ok_or_else(|| corrupt("mode", &self.mode))?,
                language: TrainingLanguage::parse(&self.language)
                    .ok_or_else(|| corrupt("language", &self.language))?,
                status: Status::parse(&self.status)
                    .ok_or_else(|| corrupt("status", &self.status))?,
                external_id: self.external_id,
                institution_external_id: self.institution_external_id,
                institution_name: self.institution_name,
                institution_city: self.institution_city,
                title: self.title,
                occupations,
                hours: self.hours,
                description: self.description,
                prerequisites: self.prerequisites,
                rating_tenths: self.rating_tenths,
                review_count: self.review_count,
                offers,
            },
        })
    }
}

pub async fn revision(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT revision FROM catalog_revision WHERE id = 1")
            .fetch_one(pool)
            .await?
    }))
}

async fn offers_by_training(db: &Db, training: Option<i64>) -> Result<HashMap<i64, Vec<Offer>>> {
    let rows: Vec<(i64, i64, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT training_id, platform_id, price FROM catalog_offers \
             WHERE CAST($1 AS BIGINT) IS NULL OR training_id = $1 ORDER BY training_id, platform_id",
        )
        .bind(training)
        .fetch_all(pool)
        .await?
    });
    let mut map: HashMap<i64, Vec<Offer>> = HashMap::new();
    for (training_id, platform_id, price) in rows {
        let platform = Platform::from_db_id(platform_id)
            .ok_or_else(|| corrupt("platform", &platform_id.to_string()))?;
        map.entry(training_id)
            .or_default()
            .push(Offer { platform, price });
    }
    Ok(map)
}

/// Every training with its offers and institution, in external-id order.
pub async fn all_trainings(db: &Db) -> Result<Vec<Training>> {
    let rows: Vec<TrainingRow> = with_db!(db, |pool| {
        sqlx::query_as(&format!("{TRAINING_SELECT} ORDER BY t.external_id"))
            .fetch_all(pool)
            .await?
    });
    let mut offers = offers_by_training(db, None).await?;
    rows.into_iter()
        .map(|r| {
            let o = offers.remove(&r.id).unwrap_or_default();
            r.into_training(o)
        })
        .collect()
}

pub async fn training(db: &Db, id: i64) -> Result<Option<Training>> {
    let row: Option<TrainingRow> = with_db!(db, |pool| {
        sqlx::query_as(&format!("{TRAINING_SELECT} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let offers = offers_by_training(db, Some(id))
        .await?
        .remove(&id)
        .unwrap_or_default();
    row.into_training(offers).map(Some)
}

pub async fn institution(db: &Db, id: i64) -> Result<Option<Institution>> {
    let row: Option<(i64, String, String, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, external_id, name, city FROM catalog_institutions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(id, external_id, name, city)| Institution {
        id,
        external_id,
        name,
        city,
    }))
}

pub async fn counts(db: &Db) -> Result<(i64, i64)> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM catalog_trainings), \
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM catalog_institutions)",
        )
        .fetch_one(pool)
        .await?
    }))
}

/// What an import changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Applied {
    pub trainings_created: usize,
    pub trainings_updated: usize,
    pub trainings_unchanged: usize,
    pub institutions_created: usize,
    pub institutions_updated: usize,
}

impl Applied {
    pub fn changed(&self) -> bool {
        self.trainings_created
            + self.trainings_updated
            + self.institutions_created
            + self.institutions_updated
            > 0
    }
}

/// Every institution as external id → (id, name, city).
async fn institutions_by_external_id(db: &Db) -> Result<HashMap<String, (i64, String, String)>> {
    let institutions: Vec<(i64, String, String, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, external_id, name, city FROM catalog_institutions")
            .fetch_all(pool)
            .await?
    });
    Ok(institutions
        .into_iter()
        .map(|(id, ext, name, city)| (ext, (id, name, city)))
        .collect())
}

/// The institutions named in `records` as external id → (name, city); the last row wins.
fn institutions_in(records: &[TrainingData]) -> BTreeMap<&str, (&str, &str)> {
    records
        .iter()
        .map(|r| {
            (
                r.institution_external_id.as_str(),
                (r.institution_name.as_str(), r.institution_city.as_str()),
            )
        })
        .collect()
}

// The two steps of `apply` are macros rather than functions so that they run on either
// backend's transaction (see `with_db!`) without spelling out sqlx's generic bounds.

/// In `$tx`: inserts the institutions of `$wanted` that `$ids` lacks (adding their new ids to
/// it) and updates those whose name or city changed, counting both in `$applied`.
macro_rules! write_institutions {
    ($tx:expr, $wanted:expr, $ids:expr, $now:expr, $applied:expr) => {
        for (ext, (name, city)) in $wanted {
            match $ids.get(*ext) {
                Some((_, n, c)) if n == name && c == city => {}
                Some((id, _, _)) => {
                    sqlx::query("UPDATE catalog_institutions SET name = $1, city = $2, version = version + 1, updated_at = $3 WHERE id = $4")
                        .bind(name)
                        .bind(city)
                        .bind($now)
                        .bind(id)
                        .execute(&mut *$tx)
                        .await?;
                    $applied.institutions_updated += 1;
                }
                None => {
                    let id: i64 = sqlx::query_scalar("INSERT INTO catalog_institutions (external_id, name, city, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
                        .bind(ext)
                        .bind(name)
                        .bind(city)
                        .bind($now)
                        .fetch_one(&mut *$tx)
                        .await?;
                    $ids.insert(ext.to_string(), (id, name.to_string(), city.to_string()));
                    $applied.institutions_created += 1;
                }
            }
        }
    };
}

/// In `$tx`: creates or replaces training `$r` with its offers. `$replaces` says it existed,
/// so its old offers go first.
macro_rules! write_training {
    ($tx:expr, $r:expr, $institution_id:expr, $replaces:expr, $now:expr) => {{
        let r: &TrainingData = $r;
        let training_id: i64 = sqlx::query_scalar(UPSERT_TRAINING)
            .bind(&r.external_id)
            .bind($institution_id)
            .bind(&r.title)
            .bind(r.category.code())
            .bind(occupation_codes(r))
            .bind(r.mode.code())
            .bind(r.hours)
            .bind(r.language.code())
            .bind(&r.description)
            .bind(&r.prerequisites)
            .bind(r.rating_tenths)
            .bind(r.review_count)
            .bind(r.status.code())
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?;
        if $replaces {
            // The offers are written again below, as the file has them now.
            sqlx::query("DELETE FROM catalog_offers WHERE training_id = $1")
                .bind(training_id)
                .execute(&mut *$tx)
                .await?;
        }
        for offer in &r.offers {
            sqlx::query(
                "INSERT INTO catalog_offers (training_id, platform_id, price) VALUES ($1, $2, $3)",
            )
            .bind(training_id)
            .bind(offer.platform.db_id())
            .bind(offer.price)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Writes validated trainings in one transaction: new ids are inserted, changed ones updated
/// (their version goes up), identical ones left alone, so the same file twice changes nothing.
/// Trainings missing from the file are kept: withdrawing is an explicit status.
pub async fn apply(db: &Db, records: &[TrainingData]) -> Result<Applied> {
    let existing: HashMap<String, Training> = all_trainings(db)
        .await?
        .into_iter()
        .map(|t| (t.data.external_id.clone(), t))
        .collect();
    let mut institution_ids = institutions_by_external_id(db).await?;
    let wanted = institutions_in(records);
    let now = Utc::now();
    let mut applied = Applied::default();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        write_institutions!(tx, &wanted, institution_ids, now, applied);
        for r in records {
            let institution_id = institution_ids
                .get(&r.institution_external_id)
                .map(|(id, _, _)| *id)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("institution vanished")))?;
            let old = existing.get(&r.external_id);
            if old.is_some_and(|old| old.data == *r) {
                applied.trainings_unchanged += 1;
                continue;
            }
            write_training!(tx, r, institution_id, old.is_some(), now);
            if old.is_some() {
                applied.trainings_updated += 1;
            } else {
                applied.trainings_created += 1;
            }
        }
        if applied.changed() {
            sqlx::query("UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(applied)
}

/// Occupations as stored: their codes joined by "|".
fn occupation_codes(r: &TrainingData) -> String {
    r.occupations
        .iter()
        .map(|o| o.code())
        .collect::<Vec<_>>()
        .join("|")
}

/// Creates a training or, when its id is known, replaces its fields (a new version).
const UPSERT_TRAINING: &str = "INSERT INTO catalog_trainings (external_id, institution_id, title, category, occupations, mode, hours, language, description, prerequisites, rating_tenths, review_count, status, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
     ON CONFLICT (external_id) DO UPDATE SET institution_id = excluded.institution_id, title = excluded.title, category = excluded.category, \
     occupations = excluded.occupations, mode = excluded.mode, hours = excluded.hours, language = excluded.language, description = excluded.description, \
     prerequisites = excluded.prerequisites, rating_tenths = excluded.rating_tenths, review_count = excluded.review_count, status = excluded.status, \
     version = catalog_trainings.version + 1, updated_at = excluded.updated_at RETURNING id";

/// Withdraws or reactivates a training if `expected_version` is still current.
pub async fn set_status(db: &Db, id: i64, expected_version: i64, status: Status) -> Result<()> {
    let changed = with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let done = sqlx::query("UPDATE catalog_trainings SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
            .bind(status.code())
            .bind(Utc::now())
            .bind(id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if done == 1 {
            sqlx::query("UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done
    });
    if changed == 1 {
        return Ok(());
    }
    match training(db, id).await? {
        Some(t) => Err(AppError::VersionConflict { current: t.version }),
        None => Err(AppError::NotFound),
    }
}
