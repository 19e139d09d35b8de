//! The data keys of a database: which keys sealed it (checked at every start, so a wrong or
//! missing key is refused before anything is written), and key rotation: re-encrypt NIK, KK
//! and phone under the ring's newest key and rebuild their blind indexes, a batch at a time.
//! Progress is committed with each batch, so an interrupted rotation resumes where it stopped
//! and loses nothing; rows are readable throughout because the ring still holds the old key.

use chrono::Utc;

use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::i18n::Lang;
use crate::vault::{IndexKind, Vault, VaultError};
use crate::with_db;

/// Whether a start may make the key file of a new, empty database: only the first `migrate`
/// or `serve` may, so a command run from another folder never invents a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewKey {
    MayCreate,
    Never,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key given did not seal this database, or none was found; both languages.
    #[error("{message}\n{message_en}")]
    Refused { message: String, message_en: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The data key for this database: read from `LOKET_DATA_KEY` or the key file and checked
/// against the fingerprints the database recorded (a database from before fingerprints is
/// checked by opening one sealed value, then recorded). A new key file is made only for an
/// empty database and only when `new_key` allows it.
pub async fn open_vault(
    db: &Db,
    config: &Config,
    new_key: NewKey,
) -> std::result::Result<Vault, KeyError> {
    let known = recorded_fingerprints(db).await?;
    let vault = match Vault::read(config.data_key.as_deref(), &config.key_file)? {
        Some(ring) => check_ring(db, config, ring, &known).await?,
        None => key_for_empty_database(db, config, &known, new_key).await?,
    };
    record_fingerprints(db, &vault).await?;
    // Another process may have recorded another key for the same id meanwhile.
    let known = recorded_fingerprints(db).await?;
    if mismatched(&vault, &known) {
        return Err(refusal("keys.wrong", config, &known, Some(&vault)));
    }
    Ok(vault)
}

async fn check_ring(
    db: &Db,
    config: &Config,
    ring: Vault,
    known: &[(u8, String)],
) -> std::result::Result<Vault, KeyError> {
    let fits = if known.is_empty() {
        match sealed_sample(db).await? {
            Some(sample) => ring.open(IndexKind::Nik, &sample).is_ok(),
            None => true,
        }
    } else {
        !mismatched(&ring, known) && ring.fingerprints().iter().any(|k| known.contains(k))
    };
    if fits {
        Ok(ring)
    } else {
        Err(refusal("keys.wrong", config, known, Some(&ring)))
    }
}

async fn key_for_empty_database(
    db: &Db,
    config: &Config,
    known: &[(u8, String)],
    new_key: NewKey,
) -> std::result::Result<Vault, KeyError> {
    if !known.is_empty() || sealed_sample(db).await?.is_some() {
        return Err(refusal("keys.missing", config, known, None));
    }
    if new_key == NewKey::Never {
        return Err(refusal("keys.missing_new", config, known, None));
    }
    Ok(Vault::create_key_file(&config.key_file)?)
}

/// True when the ring holds a key under an id the database knows with another fingerprint.
fn mismatched(ring: &Vault, known: &[(u8, String)]) -> bool {
    ring.fingerprints()
        .iter()
        .any(|(id, print)| known.iter().any(|(k, p)| k == id && p != print))
}

async fn recorded_fingerprints(db: &Db) -> std::result::Result<Vec<(u8, String)>, KeyError> {
    let rows: Vec<(i64, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT key_id, fingerprint FROM data_keys ORDER BY key_id")
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(id, print)| u8::try_from(id).ok().map(|id| (id, print)))
        .collect())
}

async fn record_fingerprints(db: &Db, vault: &Vault) -> std::result::Result<(), KeyError> {
    for (id, print) in vault.fingerprints() {
        with_db!(db, |pool| {
            sqlx::query("INSERT INTO data_keys (key_id, fingerprint, recorded_at) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING")
                .bind(i64::from(id))
                .bind(&print)
                .bind(Utc::now())
                .execute(pool)
                .await?;
        });
    }
    Ok(())
}

/// One sealed NIK from any table that holds them, to test a key against.
async fn sealed_sample(db: &Db) -> std::result::Result<Option<Vec<u8>>, KeyError> {
    for table in std::iter::once(&PARTICIPANTS)
        .chain(OTHER_SEALED)
        .map(|t| t.name)
    {
        // The table names are this module's constants, never input.
        let sql = format!("SELECT nik_enc FROM {table} ORDER BY id LIMIT 1");
        let found: Option<Vec<u8>> = with_db!(db, |pool| {
            sqlx::query_scalar(&sql).fetch_optional(pool).await?
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The refusal `key` in both languages, naming where the key was looked for, what the
/// database expects and (for a wrong key) what was found.
fn refusal(key: &str, config: &Config, known: &[(u8, String)], found: Option<&Vault>) -> KeyError {
    let text = |lang: Lang| {
        let place = match &config.data_key {
            Some(_) => lang.t("keys.env").to_string(),
            None => lang
                .t("keys.file")
                .replace("{path}", &config.key_file.display().to_string()),
        };
        let expected = if known.is_empty() {
            lang.t("keys.unrecorded").to_string()
        } else {
            named_keys(lang, known)
        };
        let found = found.map(|v| named_keys(lang, &v.fingerprints()));
        lang.t(key)
            .replace("{place}", &place)
            .replace("{expected}", &expected)
            .replace("{found}", found.as_deref().unwrap_or(""))
    };
    KeyError::Refused {
        message: text(Lang::Id),
        message_en: text(Lang::En),
    }
}

fn named_keys(lang: Lang, keys: &[(u8, String)]) -> String {
    keys.iter()
        .map(|(id, print)| {
            lang.t("keys.fingerprint")
                .replace("{id}", &id.to_string())
                .replace("{fingerprint}", print)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const BATCH: i64 = 1000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub to_key: u8,
    pub rows_rewritten: usize,
    pub batches: usize,
    /// False when stopped by `max_batches`; run again to resume.
    pub finished: bool,
}

/// A table holding sealed values. Only participants carry a KK, a phone index and a row
/// version.
struct SealedTable {
    name: &'static str,
    kk: bool,
    phone: bool,
    phone_indexed: bool,
    versioned: bool,
}

const PARTICIPANTS: SealedTable = SealedTable {
    name: "participants",
    kk: true,
    phone: true,
    phone_indexed: true,
    versioned: true,
};

/// Other tables holding sealed NIKs (and phones): BP2MI's master list and the programme
/// office's files. A row already under the current key is skipped, so an interrupted pass
/// resumes by itself.
const OTHER_SEALED: &[SealedTable] = &[
    SealedTable {
        name: "master_people",
        kk: false,
        phone: true,
        phone_indexed: false,
        versioned: false,
    },
    SealedTable {
        name: "exchange_rows",
        kk: false,
        phone: false,
        phone_indexed: false,
        versioned: false,
    },
];

impl SealedTable {
    /// The sealed columns of rows matching `filter`; columns a table lacks read as NULL.
    fn select(&self, filter: &str) -> String {
        let or_null = |has: bool, column: &str| {
            if has {
                column.to_string()
            } else {
                format!("CAST(NULL AS BYTEA) AS {column}")
            }
        };
        let version = if self.versioned {
            "version"
        } else {
            "CAST(0 AS BIGINT) AS version"
        };
        format!(
            "SELECT id, nik_enc, {}, {}, {version} FROM {} WHERE {filter}",
            or_null(self.kk, "kk_enc"),
            or_null(self.phone, "phone_enc"),
            self.name
        )
    }

    /// Writes re-sealed values only if the row still holds the sealed NIK (and version) it
    /// was read with: an edit made in between wins and the row is read again.
    fn update(&self) -> String {
        let mut columns = vec!["nik_enc", "nik_index"];
        if self.kk {
            columns.extend(["kk_enc", "kk_index"]);
        }
        if self.phone {
            columns.push("phone_enc");
        }
        if self.phone_indexed {
            columns.push("phone_index");
        }
        let n = columns.len();
        let sets: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        let version = if self.versioned {
            format!(" AND version = ${}", n + 3)
        } else {
            String::new()
        };
        format!(
            "UPDATE {} SET {} WHERE id = ${} AND nik_enc = ${}{version}",
            self.name,
            sets.join(", "),
            n + 1,
            n + 2
        )
    }
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    id: i64,
    nik_enc: Vec<u8>,
    kk_enc: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    version: i64,
}

struct Resealed {
    id: i64,
    version: i64,
    old_nik_enc: Vec<u8>,
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
            .map_err(|e| AppError::Internal(anyhow::anyhow!("row {}: {e}", row.id)))
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
        version: row.version,
        nik_enc: vault.seal(IndexKind::Nik, &nik),
        nik_index: vault.blind_index(IndexKind::Nik, &nik),
        kk_enc: kk.as_deref().map(|k| vault.seal(IndexKind::Kk, k)),
        kk_index: kk.as_deref().map(|k| vault.blind_index(IndexKind::Kk, k)),
        phone_enc: phone.as_deref().map(|p| vault.seal(IndexKind::Phone, p)),
        phone_index: phone
            .as_deref()
            .map(|p| vault.blind_index(IndexKind::Phone, p)),
        old_nik_enc: row.nik_enc,
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
/// it stops early (as an interruption would); calling it again resumes. Rows edited while it
/// runs keep their edit: each write is a compare-and-set on what was read.
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
    let (rotation_id, after) = rotation_row(db, from, to).await?;
    let mut pass = Pass {
        db,
        vault,
        max_batches,
        report: RotationReport {
            to_key: vault.current_key_id(),
            ..Default::default()
        },
    };
    if !pass
        .table(&PARTICIPANTS, after, Some(rotation_id), &mut progress)
        .await?
    {
        return Ok(pass.report);
    }
    for table in OTHER_SEALED {
        if !pass.table(table, 0, None, &mut progress).await? {
            return Ok(pass.report);
        }
    }
    with_db!(db, |pool| {
        sqlx::query("UPDATE key_rotations SET finished_at = $1 WHERE id = $2")
            .bind(Utc::now())
            .bind(rotation_id)
            .execute(pool)
            .await?;
    });
    pass.report.finished = true;
    Ok(pass.report)
}

/// One run of [`rotate`]: where it writes, with which keys, and how far it may go.
struct Pass<'a> {
    db: &'a Db,
    vault: &'a Vault,
    max_batches: Option<usize>,
    report: RotationReport,
}

impl Pass<'_> {
    /// Re-seals `table` a batch at a time from `after`, recording each batch's last id in
    /// `rotation` when given; false when stopped by `max_batches`.
    async fn table(
        &mut self,
        table: &SealedTable,
        mut after: i64,
        rotation: Option<i64>,
        progress: &mut impl FnMut(usize),
    ) -> Result<bool> {
        let select = table.select("id > $1 ORDER BY id LIMIT $2");
        loop {
            if self.max_batches.is_some_and(|m| self.report.batches >= m) {
                return Ok(false);
            }
            let rows = self.read_batch(&select, after).await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(true);
            };
            let started = std::time::Instant::now();
            let rewritten = self.reseal_batch(table, &select, after, rows).await?;
            // Recorded after the batch's rows: a stop in between re-reads the batch, whose
            // rows under the new key are skipped.
            if let Some(rotation_id) = rotation {
                record_progress(self.db, rotation_id, last).await?;
            }
            self.report.rows_rewritten += rewritten;
            self.report.batches += 1;
            after = last;
            progress(rewritten);
            self.db.pause_for_others(started.elapsed()).await;
        }
    }

    /// The batch of rows after id `after`.
    async fn read_batch(&self, select: &str, after: i64) -> Result<Vec<SealedRow>> {
        Ok(with_db!(self.db, |pool| {
            sqlx::query_as(select)
                .bind(after)
                .bind(BATCH)
                .fetch_all(pool)
                .await?
        }))
    }

    /// [`Pass::reseal_rows`], read again and retried when the database aborted the batch so a
    /// concurrent edit could go on (a deadlock on PostgreSQL, a busy SQLite).
    async fn reseal_batch(
        &self,
        table: &SealedTable,
        select: &str,
        after: i64,
        mut rows: Vec<SealedRow>,
    ) -> Result<usize> {
        let mut tries = 0;
        loop {
            match self.reseal_rows(table, rows).await {
                Err(AppError::Busy(_)) if tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    rows = self.read_batch(select, after).await?;
                }
                done => return done,
            }
        }
    }

    /// Re-seals the rows not under the current key; a row changed since it was read is read
    /// again and re-sealed from its new value, never written back from the old one.
    async fn reseal_rows(&self, table: &SealedTable, mut rows: Vec<SealedRow>) -> Result<usize> {
        let mut rewritten = 0;
        loop {
            let resealed = rows
                .into_iter()
                .filter(|r| Vault::key_id_of(&r.nik_enc) != Some(self.vault.current_key_id()))
                .map(|r| reseal(self.vault, r))
                .collect::<Result<Vec<_>>>()?;
            let changed_meanwhile = write_rows(self.db, table, &resealed).await?;
            rewritten += resealed.len() - changed_meanwhile.len();
            if changed_meanwhile.is_empty() {
                return Ok(rewritten);
            }
            rows = rows_by_id(self.db, table, &changed_meanwhile).await?;
        }
    }
}

/// Writes one batch in one transaction; returns the ids whose row changed since it was read.
async fn write_rows(db: &Db, table: &SealedTable, rows: &[Resealed]) -> Result<Vec<i64>> {
    let update = table.update();
    let mut changed = Vec::new();
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for r in rows {
            let q = sqlx::query(&update).bind(&r.nik_enc).bind(&r.nik_index);
            let q = if table.kk {
                q.bind(&r.kk_enc).bind(&r.kk_index)
            } else {
                q
            };
            let q = if table.phone { q.bind(&r.phone_enc) } else { q };
            let q = if table.phone_indexed {
                q.bind(&r.phone_index)
            } else {
                q
            };
            let q = q.bind(r.id).bind(&r.old_nik_enc);
            let q = if table.versioned {
                q.bind(r.version)
            } else {
                q
            };
            if q.execute(&mut *tx).await?.rows_affected() == 0 {
                changed.push(r.id);
            }
        }
        tx.commit().await?;
    });
    Ok(changed)
}

async fn rows_by_id(db: &Db, table: &SealedTable, ids: &[i64]) -> Result<Vec<SealedRow>> {
    let select = table.select("id = $1");
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Option<SealedRow> = with_db!(db, |pool| {
            sqlx::query_as(&select)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        rows.extend(row);
    }
    Ok(rows)
}

async fn record_progress(db: &Db, rotation_id: i64, last_id: i64) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("UPDATE key_rotations SET last_participant_id = $1 WHERE id = $2")
            .bind(last_id)
            .bind(rotation_id)
            .execute(pool)
            .await?;
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
    for table in OTHER_SEALED {
        let sql = format!("SELECT nik_enc FROM {}", table.name);
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
