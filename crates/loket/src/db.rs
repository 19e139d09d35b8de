//! Storage: one SQL text per query, run on SQLite (embedded default) or PostgreSQL.
//!
//! Queries are written in the dialect both engines share (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, times bound from Rust). [`with_db!`] expands one body once per backend so
//! the same code is type-checked against both drivers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// The database behind loket, chosen by the URL scheme.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "unsupported database URL scheme in {0:?}: use sqlite://path or postgres://user@host/db"
    )]
    UnsupportedScheme(String),
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the database file {path}: {source}")]
    CreateFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend `$db` holds.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`with_db!`], and also names the backend's `sqlx::Database` type as `$dbt`, for code
/// such as `QueryBuilder` that needs it spelled out.
#[macro_export]
macro_rules! with_db_typed {
    ($db:expr, |$pool:ident, $dbt:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => {
                #[allow(dead_code)]
                type $dbt = sqlx::Sqlite;
                $body
            }
            $crate::db::Db::Postgres($pool) => {
                #[allow(dead_code)]
                type $dbt = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Creates a new database file readable by its owner only, like the key file: it holds
/// names, birth dates and addresses in clear. SQLite gives its `-wal` and `-shm` files the same
/// mode. An existing file keeps the mode its operator chose.
fn create_private(file: &str) -> std::io::Result<()> {
    if file.is_empty() || file.starts_with(':') || std::path::Path::new(file).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        // Another process made it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Which engine a [`Db`] talks to; used where SQL must differ (bulk load paths only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// See [`Db::pause_for_others`].
const BULK_PAUSE: Duration = Duration::from_millis(100);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
/// Migrations whose version changed when every version took the 14-digit `YYYYMMDDhhmmss`
/// form: release 0.1 mixed 14 and 15 digits, so a new 14-digit migration would have sorted
/// before the 15-digit ones on a fresh install. Databases made by 0.1 recorded the old numbers;
/// [`Db::migrate`] rewrites them before sqlx compares. The files' contents (and so their
/// checksums) did not change. (old version, new version)
const RENUMBERED_MIGRATIONS: &[(i64, i64)] = &[
    (202611270001001, 20261127010000),
    (202611270002001, 20261127020000),
    (202611270003001, 20261127030000),
    (202611280001001, 20261128010000),
    (202611280002001, 20261128020000),
];

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects by URL scheme: `sqlite://path` (the file and its folder are created) or
    /// `postgres://` / `postgresql://`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Self::connect_with(url, 32).await
    }

    /// As [`Db::connect`], with at most `max_connections` PostgreSQL connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Db, DbError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            return Self::connect_sqlite(path).await;
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        Err(DbError::UnsupportedScheme(url.to_string()))
    }

    async fn connect_sqlite(path: &str) -> Result<Db, DbError> {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(file).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        create_private(file).map_err(|source| DbError::CreateFile {
            path: file.to_string(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB page cache per connection: index pages of a million-row registry stay in
            // memory (the 2 MiB default makes bulk imports and lookups thrash).
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    /// How a transaction that writes begins: SQLite takes the write lock up front, so a
    /// transaction that reads before it writes cannot fail with "database is locked" when
    /// another connection wrote in between.
    pub fn begin_for_write(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the pending migrations of this backend's folder, after carrying the record of
    /// a 0.1 database over to the renumbered versions.
    pub async fn migrate(&self) -> Result<(), DbError> {
        self.renumber_recorded_migrations().await?;
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Rewrites the versions a 0.1 database recorded in `_sqlx_migrations` to the current
    /// ones (see [`RENUMBERED_MIGRATIONS`]); without it sqlx would report the old versions as
    /// "previously applied but missing" and try to run the renamed files again. A fresh
    /// database has no such table yet and nothing to rewrite.
    async fn renumber_recorded_migrations(&self) -> Result<(), DbError> {
        let exists: bool = match self {
            Db::Sqlite(pool) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
            )
            .fetch_one(pool)
            .await?,
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(pool)
                    .await?
            }
        };
        if !exists {
            return Ok(());
        }
        with_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (old, new) in RENUMBERED_MIGRATIONS {
                sqlx::query("UPDATE _sqlx_migrations SET version = $1 WHERE version = $2")
                    .bind(new)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Bulk work (an import, a key rotation) calls this between its transactions, with how
    /// long the last one `held` the database. SQLite has one write lock, and a request waiting
    /// for it retries at most every 100 ms: a pause at least that long, and as long as the
    /// work held the lock (so a slow, loaded machine pauses longer), lets waiting requests in
    /// before the next chunk. PostgreSQL locks rows, not the database: nobody waits there.
    pub async fn pause_for_others(&self, held: Duration) {
        if let Db::Sqlite(_) = self {
            tokio::time::sleep(held.max(BULK_PAUSE)).await;
        }
    }

    pub async fn close(&self) {
        with_db!(self, |pool| pool.close().await);
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        with_db!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }
}

/// The version lists of both migration folders, for the test that keeps them in step.
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let versions = |m: &sqlx::migrate::Migrator| m.iter().map(|m| m.version).collect();
    (versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS))
}

/// True when `err` says the database stayed locked by another connection's work (SQLite's
/// BUSY or LOCKED after the busy timeout, PostgreSQL's lock_not_available, or no pooled
/// connection came free): a moment later the same request may well succeed.
pub fn is_busy(err: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    match err {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db_err) => {
            let code = db_err.code();
            if db_err
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // Extended result codes keep the primary code in their low byte.
                let primary = code.and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
                matches!(primary, Some(SQLITE_BUSY | SQLITE_LOCKED))
            } else {
                // lock_not_available, and the two answers PostgreSQL gives a transaction it
                // chose to abort so others go on (deadlock_detected, serialization_failure):
                // each means "try again", not a fault.
                matches!(code.as_deref(), Some("55P03" | "40P01" | "40001"))
            }
        }
        _ => false,
    }
}

/// True when `err` is a unique-constraint violation on an index whose name contains `index`.
pub fn is_unique_violation(err: &sqlx::Error, index: &str) -> bool {
    let sqlx::Error::Database(db_err) = err else {
        return false;
    };
    if !db_err.is_unique_violation() {
        return false;
    }
    // PostgreSQL names the constraint; SQLite names the columns ("participants.nik_index").
    let named = db_err
        .constraint()
        .map(|c| c.contains(index))
        .unwrap_or(false);
    named || db_err.message().contains(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let (sqlite, postgres) = migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }

    /// The file names of one migration folder, in directory order sorted by name.
    fn migration_files(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn migration_files_have_one_version_width_and_match_across_backends() {
        let sqlite = migration_files("sqlite");
        let postgres = migration_files("postgres");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres, "same versions and names in both folders");
        let versions: Vec<&str> = sqlite
            .iter()
            .map(|n| n.split_once('_').unwrap().0)
            .collect();
        for v in &versions {
            assert_eq!(v.len(), 14, "{v}: versions are YYYYMMDDhhmmss");
            assert!(v.bytes().all(|b| b.is_ascii_digit()), "{v}");
        }
        // Sorting by name equals sorting by number only when all versions are equally wide;
        // check that the numeric order is the file order and no version repeats.
        let numbers: Vec<i64> = versions.iter().map(|v| v.parse().unwrap()).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        let (embedded, _) = migration_versions();
        assert_eq!(embedded, numbers, "the binary embeds the files as listed");
    }

    #[test]
    fn renumbered_versions_keep_their_order_and_exist() {
        let (current, _) = migration_versions();
        for (old, new) in RENUMBERED_MIGRATIONS {
            assert_eq!(old.to_string().len(), 15);
            assert!(current.contains(new), "{new} is a current migration");
        }
        let olds: Vec<i64> = RENUMBERED_MIGRATIONS.iter().map(|p| p.0).collect();
        let news: Vec<i64> = RENUMBERED_MIGRATIONS.iter().map(|p| p.1).collect();
        assert!(olds.windows(2).all(|w| w[0] < w[1]));
        assert!(news.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let err = Db::connect("mysql://x").await.unwrap_err();
        assert!(err.to_string().contains("sqlite://"));
    }
}
