//! The audit trail: one append-only, hash-chained entry for every create, change, view of a
//! full record, export, login and consent change. Values of NIK/KK/phone never go in; only the
//! names of the fields that changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::{with_db, with_db_typed};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// What happened, to which record.
#[derive(Clone, Debug)]
pub struct Entry {
    /// e.g. `participant.view`, `participant.create`, `participant.update`, `login`
    pub action: &'static str,
    /// e.g. `participant`, `user`, `counter`
    pub entity: &'static str,
    pub entity_id: Option<String>,
    /// Names of the fields changed (never their values).
    pub fields: Vec<String>,
    pub reason: Option<String>,
    pub outcome: Outcome,
}

impl Entry {
    pub fn new(action: &'static str, entity: &'static str, entity_id: impl ToString) -> Entry {
        Entry {
            action,
            entity,
            entity_id: Some(entity_id.to_string()),
            fields: Vec::new(),
            reason: None,
            outcome: Outcome::Ok,
        }
    }

    pub fn fields(mut self, fields: Vec<String>) -> Entry {
        self.fields = fields;
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Entry {
        self.reason = Some(reason.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Entry {
        self.outcome = outcome;
        self
    }
}

/// The stored form of an entry, hashed field by field with length prefixes so no two entries
/// serialise alike.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub counter_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub fields: Option<String>,
    pub reason: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditRow {
    pub fn compute_hash(&self) -> Vec<u8> {
        let mut h = Sha256::new();
        let mut put = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        put(&self.prev_hash);
        put(self.at.timestamp_micros().to_string().as_bytes());
        put(self
            .user_id
            .map(|v| v.to_string())
            .unwrap_or_default()
            .as_bytes());
        put(self.username.as_deref().unwrap_or("").as_bytes());
        put(self.role.as_deref().unwrap_or("").as_bytes());
        put(self
            .counter_id
            .map(|v| v.to_string())
            .unwrap_or_default()
            .as_bytes());
        put(self.action.as_bytes());
        put(self.entity.as_bytes());
        put(self.entity_id.as_deref().unwrap_or("").as_bytes());
        put(self.fields.as_deref().unwrap_or("").as_bytes());
        put(self.reason.as_deref().unwrap_or("").as_bytes());
        put(self.outcome.as_bytes());
        put(self.request_id.as_deref().unwrap_or("").as_bytes());
        put(self.client_addr.as_deref().unwrap_or("").as_bytes());
        h.finalize().to_vec()
    }
}

/// Entries waiting to be written to one database, and the lock of whoever writes them.
#[derive(Default)]
struct Queue {
    pending: std::sync::Mutex<Vec<Pending>>,
    writer: tokio::sync::Mutex<()>,
}

struct Pending {
    row: AuditRow,
    done: tokio::sync::oneshot::Sender<std::result::Result<(), String>>,
}

/// One queue per database (several exist in one process in tests), keyed by pool identity.
static QUEUES: std::sync::OnceLock<
    std::sync::Mutex<std::collections::HashMap<usize, std::sync::Arc<Queue>>>,
> = std::sync::OnceLock::new();

fn queue_for(db: &Db) -> std::sync::Arc<Queue> {
    let key = match db {
        Db::Sqlite(pool) => std::sync::Arc::as_ptr(&pool.connect_options()) as usize,
        Db::Postgres(pool) => std::sync::Arc::as_ptr(&pool.connect_options()) as usize,
    };
    let queues = QUEUES.get_or_init(Default::default);
    let mut map = queues
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key).or_default().clone()
}

/// Appends one entry and returns once it is committed. `actor` is `None` for events without a
/// signed-in user (failed logins, CLI imports); then `who` names the source.
///
/// Group commit: concurrent requests queue their entries; whoever takes the writer lock writes
/// everything queued in one transaction, chained in queue order, and tells each waiter. Every
/// caller still waits for the commit of its own entry, so nothing is acknowledged unwritten.
pub async fn record(db: &Db, actor: Option<&Actor>, who: Option<&str>, entry: Entry) -> Result<()> {
    let row = AuditRow {
        id: 0,
        // Microsecond precision: what both databases store, so the hash verifies after a read.
        at: DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now),
        user_id: actor.map(|a| a.user.id),
        username: actor
            .map(|a| a.user.username.clone())
            .or(who.map(str::to_string)),
        role: actor.map(|a| a.user.role.code().to_string()),
        counter_id: actor.and_then(|a| a.user.counter_id),
        action: entry.action.to_string(),
        entity: entry.entity.to_string(),
        entity_id: entry.entity_id,
        fields: (!entry.fields.is_empty()).then(|| entry.fields.join(",")),
        reason: entry.reason,
        outcome: entry.outcome.code().to_string(),
        request_id: actor
            .map(|a| a.meta.request_id.clone())
            .filter(|r| !r.is_empty()),
        client_addr: actor.and_then(|a| a.meta.client_addr.clone()),
        prev_hash: Vec::new(),
        hash: Vec::new(),
    };
    let queue = queue_for(db);
    let (done, mut written) = tokio::sync::oneshot::channel();
    queue
        .pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Pending { row, done });
    let _writer = queue.writer.lock().await;
    // A previous writer may have taken our entry with its batch.
    if let Ok(result) = written.try_recv() {
        return result.map_err(|e| AppError::Internal(anyhow::anyhow!("audit: {e}")));
    }
    let batch: Vec<Pending> = std::mem::take(
        &mut *queue
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let rows: Vec<AuditRow> = batch.iter().map(|p| p.row.clone()).collect();
    let outcome = write_chained(db, rows).await.map_err(|e| e.to_string());
    for pending in batch {
        let _ = pending.done.send(outcome.clone());
    }
    match written.try_recv() {
        Ok(result) => result.map_err(|e| AppError::Internal(anyhow::anyhow!("audit: {e}"))),
        Err(_) => Err(AppError::Internal(anyhow::anyhow!(
            "audit entry was not written"
        ))),
    }
}

/// Writes entries in one transaction, each chained to the one before.
async fn write_chained(db: &Db, mut rows: Vec<AuditRow>) -> std::result::Result<(), sqlx::Error> {
    // SQLite: take the write lock up front; a read-then-write transaction could otherwise fail
    // with "database is locked" when another connection wrote in between.
    let begin = if matches!(db, Db::Sqlite(_)) {
        "BEGIN IMMEDIATE"
    } else {
        "BEGIN"
    };
    with_db_typed!(db, |pool, DB| {
        let mut tx = pool.begin_with(begin).await?;
        if matches!(db, Db::Postgres(_)) {
            // Several loket processes may share one PostgreSQL: serialise across them too.
            sqlx::query("SELECT pg_advisory_xact_lock(7215)")
                .execute(&mut *tx)
                .await?;
        }
        let prev: Option<Vec<u8>> = sqlx::query_scalar::<DB, Vec<u8>>(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let mut prev_hash = prev.unwrap_or_default();
        for row in &mut rows {
            row.prev_hash = std::mem::take(&mut prev_hash);
            row.hash = row.compute_hash();
            prev_hash = row.hash.clone();
        }
        for chunk in rows.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO audit_log (at, user_id, username, role, counter_id, action, entity, entity_id, fields, reason, \
                 outcome, request_id, client_addr, prev_hash, hash) ",
            );
            qb.push_values(chunk, |mut b, row| {
                b.push_bind(row.at)
                    .push_bind(row.user_id)
                    .push_bind(row.username.clone())
                    .push_bind(row.role.clone())
                    .push_bind(row.counter_id)
                    .push_bind(row.action.clone())
                    .push_bind(row.entity.clone())
                    .push_bind(row.entity_id.clone())
                    .push_bind(row.fields.clone())
                    .push_bind(row.reason.clone())
                    .push_bind(row.outcome.clone())
                    .push_bind(row.request_id.clone())
                    .push_bind(row.client_addr.clone())
                    .push_bind(row.prev_hash.clone())
                    .push_bind(row.hash.clone());
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Entries in id order, a page at a time.
pub async fn page(db: &Db, after_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, at, user_id, username, role, counter_id, action, entity, entity_id, fields, reason, outcome, \
             request_id, client_addr, prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// The entries about one record, oldest first.
pub async fn for_entity(db: &Db, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, at, user_id, username, role, counter_id, action, entity, entity_id, fields, reason, outcome, \
             request_id, client_addr, prev_hash, hash FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        )
        .bind(entity)
        .bind(entity_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Where the chain breaks, if it does: an edited row (its hash no longer matches) or a
/// deleted one (the next row's `prev_hash` no longer matches).
#[derive(Debug, PartialEq, Eq)]
pub enum ChainBreak {
    Altered { id: i64 },
    Missing { before_id: i64 },
}

pub async fn verify(db: &Db) -> Result<(usize, Option<ChainBreak>)> {
    let mut previous: Vec<u8> = Vec::new();
    let mut after = 0;
    let mut checked = 0;
    loop {
        let rows = page(db, after, 5000).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            if row.prev_hash != previous {
                return Ok((checked, Some(ChainBreak::Missing { before_id: row.id })));
            }
            if row.compute_hash() != row.hash {
                return Ok((checked, Some(ChainBreak::Altered { id: row.id })));
            }
            previous = row.hash;
            checked += 1;
        }
    }
    Ok((checked, None))
}
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct AuditFilter {
    /// Entries about this participant.
    pub participant_id: Option<i64>,
    /// Entries by this username.
    pub user: Option<String>,
    /// e.g. participant.view, participant.update, login, consent.change, audit.export
    pub action: Option<String>,
    /// From this date (inclusive, UTC).
    pub from: Option<NaiveDate>,
    /// Up to this date (inclusive, UTC).
    pub to: Option<NaiveDate>,
    /// At most this many, newest first (1–5000, default 200).
    pub limit: Option<i64>,
}

pub fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// Entries matching the filter, newest first.
pub async fn search(db: &Db, f: &AuditFilter) -> Result<Vec<AuditRow>> {
    let limit = f.limit.unwrap_or(200).clamp(1, 5000);
    Ok(with_db_typed!(db, |pool, DB| {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT id, at, user_id, username, role, counter_id, action, entity, entity_id, fields, reason, outcome, \
             request_id, client_addr, prev_hash, hash FROM audit_log WHERE 1 = 1",
        );
        if let Some(id) = f.participant_id {
            qb.push(" AND entity = 'participant' AND entity_id = ")
                .push_bind(id.to_string());
        }
        if let Some(user) = non_empty(&f.user) {
            qb.push(" AND username = ")
                .push_bind(user.to_ascii_lowercase());
        }
        if let Some(action) = non_empty(&f.action) {
            qb.push(" AND action = ").push_bind(action.to_string());
        }
        if let Some(from) = f.from {
            qb.push(" AND at >= ").push_bind(day_start(from));
        }
        if let Some(to) = f.to.and_then(|d| d.succ_opt()) {
            qb.push(" AND at < ").push_bind(day_start(to));
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        qb.build_query_as::<AuditRow>().fetch_all(pool).await?
    }))
}
