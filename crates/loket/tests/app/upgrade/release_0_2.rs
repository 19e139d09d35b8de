//! A database as release 0.2 left it after `loket demo` and a short day's use (how it was made:
//! `tests/fixtures/release-0.2/README.md`), opened by the current app. Every row of every table,
//! and every value of every column it had, is still there after the migrations (except what
//! [`CHANGED_ON_PURPOSE`] lists, with the reason); the admin signs in with their old password,
//! the people and the exchange upload open, and the audit chain still verifies.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use loket::config::Config;
use loket::db::Db;
use loket::Application;
use sqlx::Connection;

use super::{drop_database, empty_database};
use crate::common::{cookie_client, csrf_in, Backend};

/// Columns a later migration changes on purpose: (table, column, why). A column missing after
/// the upgrade, or holding other values, fails the story unless it is listed here.
const CHANGED_ON_PURPOSE: &[(&str, &str, &str)] = &[];

/// Tables a later migration renames: (as in 0.2, now).
const RENAMED: &[(&str, &str)] = &[];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.2")
}

/// The dump's SQL, without psql's meta-commands (which no SQL server understands).
fn dump(backend: Backend) -> String {
    let name = match backend {
        Backend::Sqlite => "sqlite.sql.gz",
        Backend::Postgres => "postgres.sql.gz",
    };
    let file = std::fs::File::open(fixture().join(name)).unwrap();
    let mut sql = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut sql)
        .unwrap();
    sql.lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Restores the dump on a connection of its own: the dumps set session options (foreign keys
/// off, an empty search path) that must not leak into the app's pool.
async fn restore(backend: Backend, url: &str) {
    let sql = dump(backend);
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// Every table's columns, in order (the migrations' bookkeeping left out).
async fn tables(db: &Db) -> BTreeMap<String, Vec<String>> {
    let pairs: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
             ORDER BY m.name, p.cid",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations' \
             ORDER BY c.table_name, c.ordinal_position",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in pairs {
        out.entry(table).or_default().push(column);
    }
    out
}

/// The rows of `columns` of `table`, each as one comparable text, sorted.
async fn rows(db: &Db, table: &str, columns: &[String]) -> Vec<String> {
    let shown: Vec<String> = columns
        .iter()
        .map(|c| match db {
            // quote() keeps the storage class: 1 and '1' differ.
            Db::Sqlite(_) => format!("quote(\"{c}\")"),
            Db::Postgres(_) => format!("COALESCE(CAST(\"{c}\" AS TEXT), '<null>')"),
        })
        .collect();
    let sql = format!(
        "SELECT {} AS r FROM \"{table}\"",
        shown.join(" || '\u{1f}' || ")
    );
    let mut rows: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap(),
    };
    rows.sort();
    rows
}

type Snapshot = BTreeMap<String, (Vec<String>, Vec<String>)>;

/// Each table's kept columns and their rows.
async fn snapshot(db: &Db) -> Snapshot {
    let mut out = Snapshot::new();
    for (table, columns) in tables(db).await {
        let kept: Vec<String> = columns
            .into_iter()
            .filter(|c| {
                !CHANGED_ON_PURPOSE
                    .iter()
                    .any(|(t, col, _)| *t == table && col == c)
            })
            .collect();
        let rows = rows(db, &table, &kept).await;
        out.insert(table, (kept, rows));
    }
    out
}

fn now_named(table: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == table)
        .map_or(table, |(_, new)| new)
}

/// Every table, column and row of `before` is in the upgraded database.
async fn assert_kept(db: &Db, before: &Snapshot, backend: Backend) {
    let now = tables(db).await;
    for (table, (columns, old_rows)) in before {
        let table_now = now_named(table);
        let present = now
            .get(table_now)
            .unwrap_or_else(|| panic!("{backend:?}: table {table} is gone after the upgrade"));
        for c in columns {
            assert!(
                present.contains(c),
                "{backend:?}: column {table}.{c} is gone after the upgrade"
            );
        }
        let new_rows = rows(db, table_now, columns).await;
        assert_eq!(
            new_rows.len(),
            old_rows.len(),
            "{backend:?}: {table} had {} rows, has {}",
            old_rows.len(),
            new_rows.len()
        );
        if let Some((old, new)) = old_rows.iter().zip(&new_rows).find(|(o, n)| o != n) {
            let changed: Vec<String> = columns
                .iter()
                .zip(old.split('\u{1f}').zip(new.split('\u{1f}')))
                .filter(|(_, (o, n))| o != n)
                .map(|(c, (o, n))| format!("{c}: {o} -> {n}"))
                .collect();
            panic!("{backend:?}: a row of {table} changed: {changed:?}");
        }
    }
}

/// The demo admin's password on each backend, as `loket demo` printed it when the dump was made.
fn admin_password(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "melati-sungai-bambu-jembatan-842",
        Backend::Postgres => "angin-kebun-gunung-rendang-702",
    }
}

/// The fixture's key in a file of its own (a clone does not keep the 0600 mode).
fn key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("loket.key");
    std::fs::copy(fixture().join("loket.key"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The current app on the upgraded database: the admin signs in with the old password and opens
/// a person and the upload left in review.
async fn opens_in_the_app(url: &str, key: &Path, backend: Backend, person: (i64, &str)) {
    let config = Config {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".parse().unwrap(),
        data_key: None,
        key_file: key.to_path_buf(),
        db_max_connections: 2,
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = cookie_client();
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = vec![
        ("username", "admin".to_string()),
        ("password", admin_password(backend).to_string()),
    ];
    if let Some(csrf) = csrf_in(&login) {
        form.push(("csrf", csrf));
    }
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "{backend:?}: admin signs in");

    let (id, name) = person;
    let page = client
        .get(format!("{base}/participants/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "{backend:?}: participant {id} opens");
    let page = page.text().await.unwrap();
    assert!(page.contains(name), "{backend:?}: the page names {name}");

    let upload = client
        .get(format!("{base}/exchange/uploads/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200, "{backend:?}: the upload opens");
    let upload = upload.text().await.unwrap();
    assert!(
        upload.contains("contoh.csv"),
        "{backend:?}: the upload's file"
    );
    assert!(upload.contains("190"), "{backend:?}: its 190 rows");
}

/// `loket audit verify` on the upgraded database, as an operator would run it.
fn audit_verifies(url: &str, key: &Path, backend: Backend) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(["--database-url", url, "--key-file"])
        .arg(key)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{backend:?}: audit verify after the upgrade: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn an_upgrade_from_release_0_2_keeps_every_value(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (db, url, pg_name) = empty_database(backend, dir.path(), "0_2").await;
    restore(backend, &url).await;
    let before = snapshot(&db).await;
    assert_eq!(before["participants"].1.len(), 413, "the dump's people");
    let person: (i64, String) = loket::with_db!(&db, |pool| sqlx::query_as(
        "SELECT id, full_name FROM participants ORDER BY id LIMIT 1"
    )
    .fetch_one(pool)
    .await
    .unwrap());

    db.migrate().await.unwrap();
    let (current, _) = loket::db::migration_versions();
    let applied: Vec<i64> = loket::with_db!(&db, |pool| sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations ORDER BY version"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(applied, current, "{backend:?}: every migration applied");
    assert_kept(&db, &before, backend).await;

    let key = key_file(dir.path());
    opens_in_the_app(&url, &key, backend, (person.0, &person.1)).await;
    audit_verifies(&url, &key, backend);
    drop_database(db, pg_name).await;
}

#[tokio::test]
async fn a_demo_database_left_by_release_0_2_keeps_every_row_and_value() {
    for backend in crate::common::backends() {
        eprintln!("running the 0.2 upgrade on {backend:?}");
        an_upgrade_from_release_0_2_keeps_every_value(backend).await;
    }
}
