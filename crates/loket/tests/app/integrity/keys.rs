//! A database knows the keys that sealed it: a wrong or missing key is refused before any
//! write, a key file is made only by the first `migrate`/`serve` of an empty database, and a
//! database from before fingerprints records its key once the key is shown to open its data.

use std::path::Path;

use loket::vault::Vault;

use super::{loket, loket_ok, run, said};
use crate::common::{backends, drop_pg_database, fresh_pg_database, Backend, TestApp, DATA_KEY};
use crate::on_each_backend;

fn fingerprint_of_app_key() -> String {
    Vault::from_master(&DATA_KEY).fingerprints()[0].1.clone()
}

async fn recorded_fingerprints(db: &loket::db::Db) -> Vec<(i64, String)> {
    loket::with_db!(db, |pool| {
        sqlx::query_as("SELECT key_id, fingerprint FROM data_keys ORDER BY key_id")
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

fn people_file(dir: &Path, rows: usize) -> String {
    let path = dir.join("penerima.csv");
    loket::demo::write_csv(&path, rows, 11).unwrap();
    path.display().to_string()
}

async fn a_wrong_or_missing_key_is_refused_before_any_write(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    app.api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    // An operator in another folder, with the import file there.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = people_file(elsewhere.path(), 40);
    let import = ["import", "participants", &file, "--counter", "A-01"];
    let url = &app.state.config.database_url;

    let wrong = "17".repeat(32);
    let out = run(loket(url, Some(&wrong), elsewhere.path(), &import)).await;
    assert!(!out.status.success());
    let text = said(&out);
    assert!(text.contains("tidak menyegel basis data ini"), "{text}");
    assert!(text.contains("did not seal this database"), "{text}");
    assert!(text.contains(&fingerprint_of_app_key()), "{text}");
    assert!(text.contains("LOKET_DATA_KEY"), "{text}");
    assert_eq!(app.participant_count().await, 1, "no row written");

    let out = run(loket(url, None, elsewhere.path(), &import)).await;
    assert!(!out.status.success());
    let text = said(&out);
    assert!(
        text.contains("Kunci data tidak ditemukan di berkas kunci data/loket.key"),
        "{text}"
    );
    assert!(text.contains("No data key found at the key file data/loket.key"));
    assert!(text.contains(&fingerprint_of_app_key()), "{text}");
    assert!(
        !elsewhere.path().join("data").exists(),
        "no key file (nor its folder) was made"
    );
    assert_eq!(app.participant_count().await, 1, "no row written");

    // With the key that sealed it, the same import goes through.
    let printed = loket_ok(app, elsewhere.path(), &import).await;
    assert!(printed.contains("40 rows imported"), "{printed}");
    assert_eq!(app.participant_count().await, 41);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_refused_with_the_expected_key_named_and_nothing_written() {
    on_each_backend!(a_wrong_or_missing_key_is_refused_before_any_write);
}

/// A new database's URL: a SQLite file under `dir`, or a fresh PostgreSQL database.
async fn new_database(backend: Backend, dir: &Path) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("db/loket.db").display()),
            None,
        ),
        Backend::Postgres => {
            let (url, name) = fresh_pg_database().await;
            (url, Some(name))
        }
    }
}

#[tokio::test]
async fn only_the_first_migrate_of_an_empty_database_makes_the_key_file() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_name) = new_database(backend, dir.path()).await;
        let file = people_file(dir.path(), 25);
        let import = ["import", "participants", file.as_str()];
        let key_file = dir.path().join("data/loket.key");

        // Another command on the new database makes no key and says what to do.
        let out = run(loket(&url, None, dir.path(), &import)).await;
        assert!(!out.status.success());
        let text = said(&out);
        assert!(text.contains("`loket migrate`"), "{text}");
        assert!(text.contains("No data key found at the key file data/loket.key"));
        assert!(!key_file.exists());

        let out = run(loket(&url, None, dir.path(), &["migrate"])).await;
        assert!(out.status.success(), "{}", said(&out));
        assert!(key_file.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let made = Vault::read(None, &key_file).unwrap().unwrap();
        let db = loket::db::Db::connect(&url).await.unwrap();
        let recorded = recorded_fingerprints(&db).await;
        assert_eq!(recorded, vec![(1, made.fingerprints()[0].1.clone())]);

        // The key made is the one later commands use; a second migrate makes no other.
        let out = run(loket(&url, None, dir.path(), &import)).await;
        assert!(said(&out).contains("25 rows imported"), "{}", said(&out));
        let out = run(loket(&url, None, dir.path(), &["migrate"])).await;
        assert!(out.status.success());
        let again = Vault::read(None, &key_file).unwrap().unwrap();
        assert_eq!(again.fingerprints(), made.fingerprints());
        db.close().await;
        drop_pg_database(pg_name).await;
    }
}

async fn an_upgraded_database_records_the_key_that_opens_its_data(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    app.api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    // As a database from before fingerprints: sealed data, no key recorded.
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query("DELETE FROM data_keys")
            .execute(pool)
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let url = &app.state.config.database_url;
    let wrong = "17".repeat(32);
    let out = run(loket(url, Some(&wrong), dir.path(), &["keys", "status"])).await;
    assert!(!out.status.success());
    let text = said(&out);
    assert!(text.contains("sidiknya belum tercatat"), "{text}");
    assert!(
        text.contains("its fingerprint is not recorded yet"),
        "{text}"
    );
    assert!(recorded_fingerprints(&app.state.db).await.is_empty());

    let printed = loket_ok(app, dir.path(), &["keys", "status"]).await;
    assert!(printed.contains("key 1: 1 participants"), "{printed}");
    assert_eq!(
        recorded_fingerprints(&app.state.db).await,
        vec![(1, fingerprint_of_app_key())]
    );
    // From now on a wrong key is named against the recorded one.
    let out = run(loket(url, Some(&wrong), dir.path(), &["keys", "status"])).await;
    assert!(said(&out).contains(&fingerprint_of_app_key()));
}

#[tokio::test]
async fn an_upgraded_database_records_its_key_fingerprint_on_first_start() {
    on_each_backend!(an_upgraded_database_records_the_key_that_opens_its_data);
}
