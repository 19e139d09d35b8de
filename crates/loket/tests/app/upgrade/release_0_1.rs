//! Upgrading keeps the data: a database as release 0.1 left it (its migration files, kept as
//! fixtures in `tests/fixtures/migrations-0.1`, with the 15-digit versions and the
//! `reconcile_*` tables), filled with people and an exchange, opened by the current app.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use loket::db::Db;
use loket::with_db;

use super::{drop_database, empty_database};
use crate::common::Backend;

fn old_migrations(backend: Backend) -> PathBuf {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/migrations-0.1/{folder}"))
}

/// Runs release 0.1's migrations, as its binary did.
async fn migrate_as_release_0_1(db: &Db, backend: Backend) {
    let old = sqlx::migrate::Migrator::new(old_migrations(backend))
        .await
        .unwrap();
    match db {
        Db::Sqlite(pool) => old.run(pool).await.unwrap(),
        Db::Postgres(pool) => old.run(pool).await.unwrap(),
    }
}

/// A user, two participants (ids 1 and 2 in a fresh database), a master list of one person, and an upload whose two rows are
/// linked to the participants (one applied) and to the master list — written with 0.1's names.
async fn fill_as_release_0_1(db: &Db) {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap();
    let born = NaiveDate::from_ymd_opt(1990, 5, 5).unwrap();
    with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO users (username, password_hash, role, created_at) \
             VALUES ('admin', 'x', 'admin', $1)",
        )
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
        for (id, name) in [(1_i64, "Siti Aminah"), (2, "Budi Santoso")] {
            sqlx::query(
                "INSERT INTO participants (nik_enc, nik_index, full_name, sex, birth_date, \
                 birth_date_mismatch, sex_mismatch, consent_processing, consent_sharing, \
                 consent_method, consent_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'female', $4, FALSE, FALSE, TRUE, TRUE, 'paper_form', $5, $5, $5)",
            )
            .bind(vec![id as u8; 8])
            .bind(vec![id as u8 + 100; 8])
            .bind(name)
            .bind(born)
            .bind(at)
            .execute(pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO master_imports (file_name, file_sha256, rows, imported_by, imported_at) \
             VALUES ('siskop2mi.csv', $1, 1, 1, $2)",
        )
        .bind(vec![7_u8; 32])
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO master_people (import_id, nik_enc, nik_index, full_name, birth_date, district_code) \
             VALUES (1, $1, $2, 'Siti Aminah', $3, '320101')",
        )
        .bind(vec![1_u8; 8])
        .bind(vec![201_u8; 8])
        .bind(born)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO reconcile_uploads (file_name, file_sha256, rows, uploaded_by, uploaded_at, \
             status, threshold, review_floor, summary, applied_rows, events_created) \
             VALUES ('penerima.csv', $1, 2, 1, $2, 'review', 0.9, 0.3, '{}', 1, 3)",
        )
        .bind(vec![9_u8; 32])
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
        for (row_no, decision, applied) in [(1_i64, "auto", true), (2, "review", false)] {
            sqlx::query(
                "INSERT INTO reconcile_rows (upload_id, row_no, nik_enc, nik_index, full_name, \
                 birth_date, district_code, facts, participant_id, probability, master_id, \
                 master_probability, decision, applied, events_created) \
                 VALUES (1, $1, $2, $3, 'Siti Aminah', $4, '320101', '{}', $1, 0.97, 1, 0.95, $5, $6, $7)",
            )
            .bind(row_no)
            .bind(vec![row_no as u8; 8])
            .bind(vec![row_no as u8 + 100; 8])
            .bind(born)
            .bind(decision)
            .bind(applied)
            .bind(if applied { 3_i64 } else { 0 })
            .execute(pool)
            .await
            .unwrap();
        }
    });
}

async fn recorded_versions(db: &Db) -> Vec<i64> {
    with_db!(db, |pool| sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations ORDER BY version"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
    with_db!(db, |pool| sqlx::query_scalar(&sql)
        .fetch_one(pool)
        .await
        .unwrap())
}

async fn an_upgrade_from_release_0_1_keeps_every_row(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, pg_name) = empty_database(backend, dir.path(), "0_1").await;
    migrate_as_release_0_1(&db, backend).await;
    fill_as_release_0_1(&db).await;
    assert!(recorded_versions(&db).await.contains(&202611280002001));

    // The current app: old versions are carried over, no "previously applied but missing".
    db.migrate().await.unwrap();
    let (current, _) = loket::db::migration_versions();
    assert_eq!(recorded_versions(&db).await, current);
    // Opening it again is a no-op.
    db.migrate().await.unwrap();

    assert_eq!(count(&db, "participants").await, 2);
    assert_eq!(count(&db, "master_people").await, 1);
    assert_eq!(count(&db, "exchange_uploads").await, 1);
    assert_eq!(count(&db, "exchange_rows").await, 2);
    let upload = loket::exchange::store::upload(&db, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            upload.file_name.as_str(),
            upload.rows,
            upload.status.as_str()
        ),
        ("penerima.csv", 2, "review")
    );
    assert_eq!((upload.applied_rows, upload.events_created), (1, 3));
    let rows = loket::exchange::store::rows_of(&db, 1, None, 0, 10)
        .await
        .unwrap();
    let links: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.row_no,
                r.participant_id,
                r.master_id,
                r.decision.as_str(),
                r.applied,
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            (1, Some(1), Some(1), "auto", true),
            (2, Some(2), Some(1), "review", false)
        ]
    );
    // New rows still get ids after the old ones (the renamed tables keep their sequences).
    let next: i64 = with_db!(&db, |pool| {
        sqlx::query_scalar(
        "INSERT INTO exchange_uploads (file_name, file_sha256, rows, uploaded_at, status, threshold, review_floor) \
         VALUES ('next.csv', $1, 0, $2, 'review', 0.9, 0.3) RETURNING id"
    )
    .bind(vec![1_u8; 32])
    .bind(Utc::now())
    .fetch_one(pool)
    .await
    .unwrap()
    });
    assert_eq!(next, 2);
    drop_database(db, pg_name).await;
}

#[tokio::test]
async fn a_database_left_by_release_0_1_opens_with_its_people_and_exchange_rows() {
    for backend in crate::common::backends() {
        eprintln!("running the 0.1 upgrade on {backend:?}");
        an_upgrade_from_release_0_1_keeps_every_row(backend).await;
    }
}
