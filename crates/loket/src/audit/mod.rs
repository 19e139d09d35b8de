//! The audit trail: one append-only, hash-chained entry for every create, change, view of a
//! full record, export, login and consent change. Values of NIK/KK/phone never go in; only the
//! names of the fields that changed.

use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
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
    fn serialised(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut put = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        let number = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        put(&self.prev_hash);
        put(self.at.timestamp_micros().to_string().as_bytes());
        put(number(self.user_id).as_bytes());
        put(self.username.as_deref().unwrap_or("").as_bytes());
        put(self.role.as_deref().unwrap_or("").as_bytes());
        put(number(self.counter_id).as_bytes());
        put(self.action.as_bytes());
        put(self.entity.as_bytes());
        put(self.entity_id.as_deref().unwrap_or("").as_bytes());
        put(self.fields.as_deref().unwrap_or("").as_bytes());
        put(self.reason.as_deref().unwrap_or("").as_bytes());
        put(self.outcome.as_bytes());
        put(self.request_id.as_deref().unwrap_or("").as_bytes());
        put(self.client_addr.as_deref().unwrap_or("").as_bytes());
        out
    }

    /// The plain SHA-256 link of entries written before the chain was keyed (and what anyone
    /// without the key can compute).
    pub fn unkeyed_hash(&self) -> Vec<u8> {
        Sha256::digest(self.serialised()).to_vec()
    }

    fn keyed_hash(&self, key: &ChainKey) -> Vec<u8> {
        key.mac(b"loket/audit-entry/v1", &self.serialised())
    }

    /// The link this row must carry: keyed after the chain's switch point, plain before it.
    fn expected_hash(&self, chain: &Chain) -> Vec<u8> {
        if self.id > chain.keyed_after_id {
            self.keyed_hash(&chain.key)
        } else {
            self.unkeyed_hash()
        }
    }

    fn new(actor: Option<&Actor>, who: Option<&str>, entry: Entry) -> AuditRow {
        AuditRow {
            id: 0,
            // Microsecond precision: what both databases store, so the hash verifies after a read.
            at: DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
                .unwrap_or_else(Utc::now),
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
        }
    }
}

/// The secret that makes each link an HMAC, so someone who can write the database but does not
/// hold the key cannot recompute the chain after editing or removing entries.
#[derive(Clone)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    pub fn new(key: [u8; 32]) -> ChainKey {
        ChainKey(key)
    }

    fn hasher(&self, label: &[u8], message: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(label);
        mac.update(&[0]);
        mac.update(message);
        mac
    }

    fn mac(&self, label: &[u8], message: &[u8]) -> Vec<u8> {
        self.hasher(label, message).finalize().into_bytes().to_vec()
    }

    /// Stored with the chain: a later start can tell it holds the same key, and the value
    /// reveals nothing about the key.
    fn check_value(&self) -> Vec<u8> {
        self.mac(b"loket/audit-key-check/v1", &[])
    }
}

/// The key of one database's chain and the last entry written before the chain was keyed.
#[derive(Clone)]
struct Chain {
    key: ChainKey,
    keyed_after_id: i64,
}

/// Entries waiting to be written to one database, the lock of whoever writes them, and the
/// chain's key.
#[derive(Default)]
struct Queue {
    pending: std::sync::Mutex<Vec<Pending>>,
    writer: tokio::sync::Mutex<()>,
    chain: std::sync::RwLock<Option<Chain>>,
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

fn chain_of(db: &Db) -> Result<Chain> {
    queue_for(db)
        .chain
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("audit: the chain key is not loaded")))
}

/// Gives this database's chain its key. The first start after the upgrade records the switch
/// point (entries written so far stay plain SHA-256 links); later starts must bring the same key.
pub async fn open_chain(db: &Db, key: ChainKey) -> Result<()> {
    let check = key.check_value();
    let found: Option<(i64, Vec<u8>)> = with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let found =
            sqlx::query_as("SELECT keyed_after_id, key_check FROM audit_chain WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            sqlx::query(
                "INSERT INTO audit_chain (id, keyed_after_id, key_check) \
                 SELECT 1, COALESCE(MAX(id), 0), $1 FROM audit_log",
            )
            .bind(&check)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        found
    });
    let keyed_after_id = match found {
        Some((_, stored)) if stored != check => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the audit log was chained with another key: start loket with the data key file \
                 (its first key) that wrote it"
            )))
        }
        Some((after, _)) => after,
        None => with_db!(db, |pool| {
            sqlx::query_scalar("SELECT keyed_after_id FROM audit_chain WHERE id = 1")
                .fetch_one(pool)
                .await?
        }),
    };
    *queue_for(db)
        .chain
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Chain {
        key,
        keyed_after_id,
    });
    Ok(())
}

/// Entries to write inside the caller's own transaction (see [`append`]), so a change and its
/// audit entry commit together or not at all.
#[derive(Clone)]
pub struct Batch {
    chain: Chain,
    rows: Vec<AuditRow>,
}

impl Batch {
    pub fn new(db: &Db) -> Result<Batch> {
        Ok(Batch {
            chain: chain_of(db)?,
            rows: Vec::new(),
        })
    }

    /// A batch of one entry.
    pub fn of(db: &Db, actor: Option<&Actor>, who: Option<&str>, entry: Entry) -> Result<Batch> {
        let mut batch = Batch::new(db)?;
        batch.add(actor, who, entry);
        Ok(batch)
    }

    pub fn add(&mut self, actor: Option<&Actor>, who: Option<&str>, entry: Entry) {
        self.rows.push(AuditRow::new(actor, who, entry));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Links the rows to `head` and to each other.
    fn link(&mut self, head: Option<Vec<u8>>) {
        let mut prev_hash = head.unwrap_or_default();
        for row in &mut self.rows {
            row.prev_hash = std::mem::take(&mut prev_hash);
            row.hash = row.keyed_hash(&self.chain.key);
            prev_hash = row.hash.clone();
        }
    }
}

/// A connection inside a transaction that can append to the chain. Appends are serialised:
/// PostgreSQL takes a transaction-scoped advisory lock (held until the caller commits, so the
/// head read here is still the head at commit); SQLite's writer holds the database's write
/// lock from its first write (or `BEGIN IMMEDIATE`) to its commit.
pub trait ChainWriter {
    fn append_chained(
        &mut self,
        batch: Batch,
    ) -> impl std::future::Future<Output = std::result::Result<(), sqlx::Error>> + Send;
}

macro_rules! chain_writer {
    ($conn:ty, $dbt:ty, $lock:expr) => {
        impl ChainWriter for $conn {
            async fn append_chained(
                &mut self,
                mut batch: Batch,
            ) -> std::result::Result<(), sqlx::Error> {
                if batch.is_empty() {
                    return Ok(());
                }
                if let Some(lock) = $lock {
                    sqlx::query(lock).execute(&mut *self).await?;
                }
                let head: Option<Vec<u8>> = sqlx::query_scalar::<$dbt, Vec<u8>>(
                    "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(&mut *self)
                .await?;
                batch.link(head);
                for chunk in batch.rows.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$dbt>::new(INSERT_HEAD);
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
                    qb.build().execute(&mut *self).await?;
                }
                Ok(())
            }
        }
    };
}

const INSERT_HEAD: &str =
    "INSERT INTO audit_log (at, user_id, username, role, counter_id, action, entity, entity_id, \
     fields, reason, outcome, request_id, client_addr, prev_hash, hash) ";

chain_writer!(sqlx::SqliteConnection, sqlx::Sqlite, None::<&str>);
// Several loket processes may share one PostgreSQL: the lock serialises across them too.
chain_writer!(
    sqlx::PgConnection,
    sqlx::Postgres,
    Some("SELECT pg_advisory_xact_lock(7215)")
);

/// Appends `batch` inside the caller's transaction (`&mut *tx`). Call it as the transaction's
/// last statement before commit: on PostgreSQL it holds the chain's lock until then.
pub async fn append<C: ChainWriter + ?Sized>(
    conn: &mut C,
    batch: Batch,
) -> std::result::Result<(), sqlx::Error> {
    conn.append_chained(batch).await
}

/// Appends one entry and returns once it is committed. `actor` is `None` for events without a
/// signed-in user (failed logins, CLI imports); then `who` names the source.
///
/// Group commit: concurrent requests queue their entries; whoever takes the writer lock writes
/// everything queued in one transaction, chained in queue order, and tells each waiter. Every
/// caller still waits for the commit of its own entry, so nothing is acknowledged unwritten.
/// An entry about a change belongs in the change's own transaction instead ([`append`]).
pub async fn record(db: &Db, actor: Option<&Actor>, who: Option<&str>, entry: Entry) -> Result<()> {
    let row = AuditRow::new(actor, who, entry);
    let chain = chain_of(db)?;
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
    let pending: Vec<Pending> = std::mem::take(
        &mut *queue
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let batch = Batch {
        chain,
        rows: pending.iter().map(|p| p.row.clone()).collect(),
    };
    let outcome = write_alone(db, batch).await.map_err(|e| e.to_string());
    for waiter in pending {
        let _ = waiter.done.send(outcome.clone());
    }
    match written.try_recv() {
        Ok(result) => result.map_err(|e| AppError::Internal(anyhow::anyhow!("audit: {e}"))),
        Err(_) => Err(AppError::Internal(anyhow::anyhow!(
            "audit entry was not written"
        ))),
    }
}

/// Writes entries in a transaction of their own.
async fn write_alone(db: &Db, batch: Batch) -> std::result::Result<(), sqlx::Error> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        append(&mut *tx, batch).await?;
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

/// Where the chain breaks, if it does: an edited row (its link no longer matches), a deleted
/// one (the next row's `prev_hash` no longer matches), or — checked against a checkpoint kept
/// outside the database — entries removed from the end, entries rewritten before the
/// checkpoint, or a checkpoint not signed with this chain's key.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainBreak {
    Altered { id: i64 },
    Missing { before_id: i64 },
    Truncated { anchored: u64, found: u64 },
    Rewritten { id: i64 },
    CheckpointForged,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { id } => write!(f, "entry {id} was changed"),
            ChainBreak::Missing { before_id } => {
                write!(f, "an entry before {before_id} was removed")
            }
            ChainBreak::Truncated { anchored, found } => write!(
                f,
                "entries were removed from the end: the checkpoint vouches for {anchored}, the log holds {found}"
            ),
            ChainBreak::Rewritten { id } => write!(
                f,
                "the log up to entry {id} is not the one the checkpoint vouches for (rewritten)"
            ),
            ChainBreak::CheckpointForged => {
                write!(f, "the checkpoint is not signed with this audit log's key")
            }
        }
    }
}

/// The chain walked in id order: entries checked, the break found, and each row's link on the
/// way (for the anchor check).
async fn walk(
    db: &Db,
    mut each: impl FnMut(u64, &AuditRow),
) -> Result<(usize, Option<ChainBreak>)> {
    let chain = chain_of(db)?;
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
            if row.expected_hash(&chain) != row.hash {
                return Ok((checked, Some(ChainBreak::Altered { id: row.id })));
            }
            checked += 1;
            each(checked as u64, &row);
            previous = row.hash;
        }
    }
    Ok((checked, None))
}

/// Checks every link of the chain. Without a checkpoint this cannot see entries removed from
/// the end (see [`verify_against`]).
pub async fn verify(db: &Db) -> Result<(usize, Option<ChainBreak>)> {
    walk(db, |_, _| {}).await
}

/// The head of the chain at one moment, signed with the chain's key, to keep outside the
/// database (a file on another machine, a printed copy): whoever can write the database can
/// remove the newest entries without breaking a link, but not below a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Checkpoint {
    /// How many entries the chain held.
    pub entries: u64,
    /// The id and link (hex) of the last of them.
    pub last_id: i64,
    pub head: String,
    /// Entries up to this id predate the keyed chain.
    pub keyed_after_id: i64,
    pub at: DateTime<Utc>,
    /// HMAC-SHA256 (hex) of the fields above with the chain's key.
    pub mac: String,
}

const CHECKPOINT_LABEL: &[u8] = b"loket/audit-checkpoint/v1";

impl Checkpoint {
    fn signed_text(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.entries,
            self.last_id,
            self.head,
            self.keyed_after_id,
            self.at.timestamp_micros()
        )
    }

    fn mac_with(&self, key: &ChainKey) -> String {
        hex::encode(key.mac(CHECKPOINT_LABEL, self.signed_text().as_bytes()))
    }

    /// In constant time, so how long a refusal takes tells nothing of the right signature.
    fn signed_by(&self, key: &ChainKey) -> bool {
        hex::decode(&self.mac).is_ok_and(|tag| {
            key.hasher(CHECKPOINT_LABEL, self.signed_text().as_bytes())
                .verify_slice(&tag)
                .is_ok()
        })
    }
}

/// Signs the current head, after checking the whole chain: a checkpoint never vouches for a
/// broken log.
pub async fn checkpoint(db: &Db) -> Result<Checkpoint> {
    let chain = chain_of(db)?;
    let mut head = (0, Vec::new());
    let (checked, broken) = walk(db, |_, row| head = (row.id, row.hash.clone())).await?;
    if let Some(broken) = broken {
        return Err(AppError::Internal(anyhow::anyhow!(
            "audit chain broken after {checked} entries ({broken}); no checkpoint written"
        )));
    }
    let mut point = Checkpoint {
        entries: checked as u64,
        last_id: head.0,
        head: hex::encode(head.1),
        keyed_after_id: chain.keyed_after_id,
        at: DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now),
        mac: String::new(),
    };
    point.mac = point.mac_with(&chain.key);
    Ok(point)
}

/// [`verify`], and the chain still holds what `point` vouches for: at least as many entries,
/// the same link at that position, the same switch point.
pub async fn verify_against(db: &Db, point: &Checkpoint) -> Result<(usize, Option<ChainBreak>)> {
    let chain = chain_of(db)?;
    if !point.signed_by(&chain.key) {
        return Ok((0, Some(ChainBreak::CheckpointForged)));
    }
    let mut at_anchor: Option<(i64, String)> = None;
    let (checked, broken) = walk(db, |n, row| {
        if n == point.entries {
            at_anchor = Some((row.id, hex::encode(&row.hash)));
        }
    })
    .await?;
    if broken.is_some() {
        return Ok((checked, broken));
    }
    if (checked as u64) < point.entries {
        let found = checked as u64;
        let anchored = point.entries;
        return Ok((checked, Some(ChainBreak::Truncated { anchored, found })));
    }
    let rewritten = chain.keyed_after_id != point.keyed_after_id
        || at_anchor
            .as_ref()
            .is_some_and(|(id, head)| *id != point.last_id || *head != point.head);
    if rewritten {
        let id = at_anchor.map_or(point.last_id, |(id, _)| id);
        return Ok((checked, Some(ChainBreak::Rewritten { id })));
    }
    Ok((checked, None))
}

/// Writes `point` as JSON to `path` whole or not at all (a temporary file renamed over it).
pub fn write_checkpoint(path: &std::path::Path, point: &Checkpoint) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(point).map_err(std::io::Error::other)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, text + "\n")?;
    std::fs::rename(&temporary, path)
}

pub fn read_checkpoint(path: &std::path::Path) -> std::io::Result<Checkpoint> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Entries about this participant.
    pub participant_id: Option<i64>,
    /// Entries by this username.
    pub user: Option<String>,
    /// e.g. participant.view, participant.update, login, consent.change, audit.export
    pub action: Option<String>,
    /// From this date (inclusive, a WIB day).
    pub from: Option<NaiveDate>,
    /// Up to this date (inclusive, a WIB day).
    pub to: Option<NaiveDate>,
    /// At most this many, newest first (1–5000, default 200).
    pub limit: Option<i64>,
}

pub fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filter's conditions, after a `WHERE 1 = 1` (one text for the rows and their count).
macro_rules! push_filters {
    ($qb:expr, $f:expr) => {{
        let (qb, f) = ($qb, $f);
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
            qb.push(" AND at >= ")
                .push_bind(crate::clock::day_start(from));
        }
        if let Some(to) = f.to.and_then(|d| d.succ_opt()) {
            qb.push(" AND at < ").push_bind(crate::clock::day_start(to));
        }
    }};
}

/// Entries matching the filter, newest first.
pub async fn search(db: &Db, f: &AuditFilter) -> Result<Vec<AuditRow>> {
    search_from(db, f, 0).await
}

/// Entries matching the filter, newest first, the first `offset` skipped (a page of a list).
pub async fn search_from(db: &Db, f: &AuditFilter, offset: i64) -> Result<Vec<AuditRow>> {
    let limit = f.limit.unwrap_or(200).clamp(1, 5000);
    Ok(with_db_typed!(db, |pool, DB| {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT id, at, user_id, username, role, counter_id, action, entity, entity_id, fields, reason, outcome, \
             request_id, client_addr, prev_hash, hash FROM audit_log WHERE 1 = 1",
        );
        push_filters!(&mut qb, f);
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        qb.push(" OFFSET ").push_bind(offset.max(0));
        qb.build_query_as::<AuditRow>().fetch_all(pool).await?
    }))
}

/// How many entries match the filter (its limit aside).
pub async fn count(db: &Db, f: &AuditFilter) -> Result<i64> {
    Ok(with_db_typed!(db, |pool, DB| {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE 1 = 1",
        );
        push_filters!(&mut qb, f);
        qb.build_query_scalar::<i64>().fetch_one(pool).await?
    }))
}
