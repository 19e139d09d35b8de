//! An audit entry and the change it describes commit together: a change whose entry cannot be
//! written is not made, and a process killed right after an import's commit leaves consent
//! histories and audit entries for exactly the people it stored.

use loket::audit;
use serde_json::json;

use super::{loket_cli, run_sql};
use crate::common::{person_json, Backend, TestApp};
use crate::on_each_backend;

/// From now on the database refuses every new audit entry (as a full disk or a broken
/// connection would at that moment).
async fn refuse_audit_entries(app: &TestApp) {
    let sql = match app.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER audit_log_refused BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit entry refused by the test'); END"
        }
        Backend::Postgres => {
            "CREATE TRIGGER audit_log_refused BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
        }
    };
    run_sql(app, sql).await;
}

async fn allow_audit_entries(app: &TestApp) {
    let sql = match app.backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_refused",
        Backend::Postgres => "DROP TRIGGER audit_log_refused ON audit_log",
    };
    run_sql(app, sql).await;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn a_change_whose_audit_entry_fails_is_not_made(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let id = api.register_person("3201014505900001", "Siti Aminah").await;
    let path = format!("/api/v1/participants/{id}");
    refuse_audit_entries(app).await;

    let registered = api
        .register(&person_json("3201011203850002", "Budi Santoso"))
        .await;
    assert_eq!(registered.status(), 500);
    let edited = api
        .patch(&path, Some("1"), &json!({"email": "siti.baru@contoh.id"}))
        .await;
    assert_eq!(edited.status(), 500);
    let withdrawn = api
        .post(
            &format!("{path}/consents"),
            &json!({"processing": true, "sharing": false, "method": "verbal"}),
        )
        .await;
    assert_eq!(withdrawn.status(), 500);

    allow_audit_entries(app).await;
    assert_eq!(app.participant_count().await, 1, "Budi was not registered");
    let siti = api.get_json(&path).await;
    assert_eq!(siti["version"], 1, "{siti}");
    assert_eq!(
        siti["email"],
        serde_json::Value::Null,
        "the edit was not made"
    );
    assert_eq!(
        siti["consent"]["sharing"], true,
        "the withdrawal was not made"
    );
    assert_eq!(count(app, "SELECT COUNT(*) FROM consent_events").await, 1);
    let (checked, broken) = audit::verify(&app.state.db).await.unwrap();
    assert_eq!(broken, None, "after {checked} entries");
}

#[tokio::test]
async fn a_registration_edit_or_consent_change_whose_audit_entry_fails_is_not_made() {
    on_each_backend!(a_change_whose_audit_entry_fails_is_not_made);
}

async fn killed_import_keeps_consent_and_audit_with_its_rows(app: &TestApp) {
    const ROWS: i64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("purna-pmi.csv");
    loket::demo::write_csv(&csv, ROWS as usize, 11).unwrap();
    let mut child = loket_cli(app)
        .args(["import", "participants"])
        .arg(&csv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // kill -9 the moment the import's rows become visible, i.e. right after its commit.
    let mut seen_running = true;
    while app.participant_count().await == 0 {
        if child.try_wait().unwrap().is_some() {
            seen_running = false;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!("killed while running: {seen_running}");

    // The import commits a chunk at a time: what a kill leaves is whole chunks, each with its
    // people's consent and audit entries.
    let stored = app.participant_count().await;
    let chunk = loket::participants::file::CHUNK_ROWS as i64;
    assert!(
        stored > 0 && (stored == ROWS || stored % chunk == 0),
        "whole chunks: {stored}"
    );
    assert_consent_and_audit_for_exactly(app, stored).await;
    if stored < ROWS {
        // Running the same file again finishes it.
        let done = loket_cli(app)
            .args(["import", "participants"])
            .arg(&csv)
            .output()
            .unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    assert_eq!(app.participant_count().await, ROWS);
    assert_consent_and_audit_for_exactly(app, ROWS).await;
    let imports = audit::search(
        &app.state.db,
        &audit::AuditFilter {
            action: Some("participant.import".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        imports.len(),
        1,
        "one summary, by the run that finished the file"
    );
    assert_eq!(
        imports[0].username.as_deref(),
        Some("system/cli (operator)")
    );
    assert!(imports[0]
        .reason
        .as_deref()
        .is_some_and(|r| r.contains(" baris/rows: ") && r.ends_with("purna-pmi.csv")));
    assert_eq!(audit::verify(&app.state.db).await.unwrap().1, None);
}

/// Every stored person has a consent history and a `participant.create` audit entry.
async fn assert_consent_and_audit_for_exactly(app: &TestApp, stored: i64) {
    let with_consent = count(
        app,
        "SELECT COUNT(DISTINCT participant_id) FROM consent_events \
         WHERE participant_id IN (SELECT id FROM participants)",
    )
    .await;
    assert_eq!(
        with_consent, stored,
        "every stored person has a consent history"
    );
    let created = count(
        app,
        "SELECT COUNT(DISTINCT CAST(entity_id AS BIGINT)) FROM audit_log \
         WHERE action = 'participant.create' AND entity_id IN (SELECT CAST(id AS TEXT) FROM participants)",
    )
    .await;
    assert_eq!(created, stored, "every stored person has an audit entry");
}

#[tokio::test]
async fn an_import_killed_right_after_its_commit_leaves_consent_and_audit_for_exactly_its_rows() {
    on_each_backend!(killed_import_keeps_consent_and_audit_with_its_rows);
}
