//! Key rotation: re-encrypt NIK, KK and phone under the ring's newest key and rebuild their
//! blind indexes, a batch at a time. Progress is committed with each batch, so an interrupted
//! rotation resumes where it stopped and loses nothing; rows are readable throughout because
//! the ring still holds the old key.

use chrono::Utc;

use crate::db::Db;
use crate::error::{AppError, Result};
use crate::vault::{IndexKind, Vault};
use crate::with_db;

const BATCH: i64 = 1000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub to_key: u8,
    pub rows_rewritten: usize,
    pub batches: usize,
    /// False when stopped by `max_batches`; run again to resume.
    pub finished: bool,
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    id: i64,
    nik_enc: Vec<u8>,
    kk_enc: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
}

struct Resealed {
    id: i64,
    nik_enc: Vec<u8>,
    nik_index: Vec<u8>,
    kk_enc: Option<Vec<u8>>,
    kk_index: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    phone_index: Option<Vec<u8>>,
}

fn reseal(vault: &Vault, row: SealedRow) -> Result<Resealed> {
    let open = |kind, bytes: &[u8]| {
        vault
            .open(kind, bytes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("participant {}: {e}", row.id)))
    };
    let nik = open(IndexKind::Nik, &row.nik_enc)?;
    let kk = row
        .kk_enc
        .as_deref()
        .map(|b| open(IndexKind::Kk, b))
        .transpose()?;
    let phone = row
        .phone_enc
        .as_deref()
        .map(|b| open(IndexKind::Phone, b))
        .transpose()?;
    Ok(Resealed {
        id: row.id,
        nik_enc: vault.seal(IndexKind::Nik, &nik),
        nik_index: vault.blind_index(IndexKind::Nik, &nik),
        kk_enc: kk.as_deref().map(|k| vault.seal(IndexKind::Kk, k)),
        kk_index: kk.as_deref().map(|k| vault.blind_index(IndexKind::Kk, k)),
        phone_enc: phone.as_deref().map(|p| vault.seal(IndexKind::Phone, p)),
        phone_index: phone
            .as_deref()
            .map(|p| vault.blind_index(IndexKind::Phone, p)),
    })
}

/// The unfinished rotation to the current key, or a new one.
async fn rotation_row(db: &Db, from: i64, to: i64) -> Result<(i64, i64)> {
    let open: Option<(i64, i64)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, last_participant_id FROM key_rotations WHERE to_key = $1 AND finished_at IS NULL ORDER BY id LIMIT 1")
            .bind(to)
            .fetch_optional(pool)
            .await?
    });
    if let Some(found) = open {
        return Ok(found);
    }
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar("INSERT INTO key_rotations (from_key, to_key, last_participant_id, started_at) VALUES ($1, $2, 0, $3) RETURNING id")
            .bind(from)
            .bind(to)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?
    });
    Ok((id, 0))
}

/// Re-encrypts every participant not yet under the ring's current key. With `max_batches`
/// it stops early (as an interruption would); calling it again resumes.
pub async fn rotate(
    db: &Db,
    vault: &Vault,
    max_batches: Option<usize>,
    mut progress: impl FnMut(usize),
) -> Result<RotationReport> {
    let to = i64::from(vault.current_key_id());
    let from = vault
        .key_ids()
        .first()
        .copied()
        .map(i64::from)
        .unwrap_or(to);
    let (rotation_id, mut after) = rotation_row(db, from, to).await?;
    let mut report = RotationReport {
        to_key: vault.current_key_id(),
        ..Default::default()
    };
    loop {
        if max_batches.is_some_and(|m| report.batches >= m) {
            return Ok(report);
        }
        let rows: Vec<SealedRow> = with_db!(db, |pool| {
            sqlx::query_as("SELECT id, nik_enc, kk_enc, phone_enc FROM participants WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(BATCH)
                .fetch_all(pool)
                .await?
        });
        let Some(last) = rows.last().map(|r| r.id) else {
            break;
        };
        let stale: Vec<SealedRow> = rows
            .into_iter()
            .filter(|r| Vault::key_id_of(&r.nik_enc) != Some(vault.current_key_id()))
            .collect();
        let resealed = stale
            .into_iter()
            .map(|r| reseal(vault, r))
            .collect::<Result<Vec<_>>>()?;
        write_batch(db, rotation_id, last, &resealed).await?;
        report.rows_rewritten += resealed.len();
        report.batches += 1;
        after = last;
        progress(resealed.len());
    }
    for (table, has_phone) in OTHER_SEALED {
        if !rotate_table(db, vault, table, *has_phone, max_batches, &mut report).await? {
            return Ok(report);
        }
    }
    with_db!(db, |pool| {
        sqlx::query("UPDATE key_rotations SET finished_at = $1 WHERE id = $2")
            .bind(Utc::now())
            .bind(rotation_id)
            .execute(pool)
            .await?;
    });
    report.finished = true;
    Ok(report)
}

/// Other tables holding sealed NIKs (and phones): BP2MI's master list and the programme
/// office's files. A row already under the current key is skipped, so an interrupted pass
/// resumes by itself.
const OTHER_SEALED: &[(&str, bool)] = &[("master_people", true), ("exchange_rows", false)];

/// Re-encrypts one of [`OTHER_SEALED`]; false when stopped by `max_batches`.
async fn rotate_table(
    db: &Db,
    vault: &Vault,
    table: &str,
    has_phone: bool,
    max_batches: Option<usize>,
    report: &mut RotationReport,
) -> Result<bool> {
    // The table names are this module's constants, never input.
    let select = if has_phone {
        format!("SELECT id, nik_enc, phone_enc FROM {table} WHERE id > $1 ORDER BY id LIMIT $2")
    } else {
        format!("SELECT id, nik_enc FROM {table} WHERE id > $1 ORDER BY id LIMIT $2")
    };
    let mut after = 0i64;
    loop {
        if max_batches.is_some_and(|m| report.batches >= m) {
            return Ok(false);
        }
        let rows: Vec<SealedRow> = with_db!(db, |pool| {
            let q = sqlx::query(&select)
                .bind(after)
                .bind(BATCH)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(q.len());
            for row in q {
                use sqlx::Row;
                out.push(SealedRow {
                    id: row.try_get(0)?,
                    nik_enc: row.try_get(1)?,
                    kk_enc: None,
                    phone_enc: if has_phone { row.try_get(2)? } else { None },
                });
            }
            out
        });
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(true);
        };
        let resealed = rows
            .into_iter()
            .filter(|r| Vault::key_id_of(&r.nik_enc) != Some(vault.current_key_id()))
            .map(|r| reseal(vault, r))
            .collect::<Result<Vec<_>>>()?;
        let update = if has_phone {
            format!("UPDATE {table} SET nik_enc = $1, nik_index = $2, phone_enc = $3 WHERE id = $4")
        } else {
            format!("UPDATE {table} SET nik_enc = $1, nik_index = $2 WHERE id = $3")
        };
        with_db!(db, |pool| {
            let mut tx = pool.begin().await?;
            for r in &resealed {
                let q = sqlx::query(&update).bind(&r.nik_enc).bind(&r.nik_index);
                let q = if has_phone { q.bind(&r.phone_enc) } else { q };
                q.bind(r.id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        report.rows_rewritten += resealed.len();
        report.batches += 1;
        after = last;
    }
}

/// One batch and the rotation's progress, in one transaction: both or neither.
async fn write_batch(db: &Db, rotation_id: i64, last_id: i64, rows: &[Resealed]) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for r in rows {
            sqlx::query(
                "UPDATE participants SET nik_enc = $1, nik_index = $2, kk_enc = $3, kk_index = $4, phone_enc = $5, phone_index = $6 WHERE id = $7",
            )
            .bind(&r.nik_enc)
            .bind(&r.nik_index)
            .bind(&r.kk_enc)
            .bind(&r.kk_index)
            .bind(&r.phone_enc)
            .bind(&r.phone_index)
            .bind(r.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE key_rotations SET last_participant_id = $1 WHERE id = $2")
            .bind(last_id)
            .bind(rotation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// How many participants are sealed under each key id, to know when an old key may go.
pub async fn key_usage(db: &Db) -> Result<Vec<(u8, i64)>> {
    let mut counts = std::collections::BTreeMap::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, Vec<u8>)> = with_db!(db, |pool| {
            sqlx::query_as(
                "SELECT id, nik_enc FROM participants WHERE id > $1 ORDER BY id LIMIT 5000",
            )
            .bind(after)
            .fetch_all(pool)
            .await?
        });
        let Some(last) = rows.last().map(|r| r.0) else {
            break;
        };
        for (_, enc) in rows {
            *counts
                .entry(Vault::key_id_of(&enc).unwrap_or(0))
                .or_insert(0i64) += 1;
        }
        after = last;
    }
    for (table, _) in OTHER_SEALED {
        let sql = format!("SELECT nik_enc FROM {table}");
        let rows: Vec<Vec<u8>> =
            with_db!(db, |pool| sqlx::query_scalar(&sql).fetch_all(pool).await?);
        for enc in rows {
            *counts
                .entry(Vault::key_id_of(&enc).unwrap_or(0))
                .or_insert(0i64) += 1;
        }
    }
    Ok(counts.into_iter().collect())
}
