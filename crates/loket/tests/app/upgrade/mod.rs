//! Upgrades keep the data: databases as earlier releases left them, opened by the current app,
//! on SQLite and (when configured) PostgreSQL.
//! - `release_0_1`: the first wave's migrations (15-digit versions, `reconcile_*` tables), filled
//!   by hand with people and an exchange.
//! - `release_0_2`: a dump of what `loket demo` and a short day's use left in release 0.2
//!   (`tests/fixtures/release-0.2`); every row and value must survive the migrations.
mod release_0_1;
mod release_0_2;

use std::path::Path;

use loket::db::Db;

use crate::common::Backend;

/// An empty database of `backend` (not migrated), its URL and, for PostgreSQL, its name
/// (dropped by [`drop_database`]).
async fn empty_database(backend: Backend, dir: &Path, label: &str) -> (Db, String, Option<String>) {
    match backend {
        Backend::Sqlite => {
            let url = format!(
                "sqlite://{}",
                dir.join(format!("loket-{label}.db")).display()
            );
            (Db::connect(&url).await.unwrap(), url, None)
        }
        Backend::Postgres => {
            let (url, name) = crate::common::fresh_pg_database().await;
            (Db::connect_with(&url, 2).await.unwrap(), url, Some(name))
        }
    }
}

async fn drop_database(db: Db, name: Option<String>) {
    db.close().await;
    crate::common::drop_pg_database(name).await;
}
