use loket::audit::{self, ChainBreak};
use loket::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{person_json, post_login, TestApp};
use crate::on_each_backend;

async fn every_access_is_in_a_verifiable_chain(app: &TestApp) {
    let (_, officer) = app.officer_a().await;
    let (_, other) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let officer = app.api(&officer);
    let created: Value = officer
        .request(Method::POST, "/api/v1/participants")
        .header("x-request-id", "req-42")
        .json(&person_json("3201014505900001", "Siti Aminah"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/participants/{id}");
    officer.get(&path).await;
    app.api(&other).get(&path).await;
    officer
        .patch(
            &path,
            Some("1"),
            &json!({"phone": "081311112222", "email": "s@gmail.com"}),
        )
        .await;

    let entries = audit::for_entity(&app.state.db, "participant", &id.to_string())
        .await
        .unwrap();
    let summary: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.outcome.as_str(),
                e.username.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("participant.create", "ok", "petugas.a"),
            ("participant.view", "ok", "petugas.a"),
            ("participant.view", "denied", "petugas.b"),
            ("participant.update", "ok", "petugas.a"),
        ]
    );
    assert_eq!(entries[0].request_id.as_deref(), Some("req-42"));
    assert_eq!(entries[0].client_addr.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        entries[3].fields.as_deref(),
        Some("phone,email"),
        "names of changed fields"
    );
    // Never the values of NIK, KK or phone.
    for e in &entries {
        let text = format!("{e:?}");
        for secret in [
            "3201014505900001",
            "3201010101010001",
            "81311112222",
            "81234567890",
        ] {
            assert!(!text.contains(secret), "{secret} in audit entry");
        }
    }

    // The chain verifies; the database refuses to change or delete an entry.
    let (checked, broken) = audit::verify(&app.state.db).await.unwrap();
    assert!(checked >= 4);
    assert_eq!(broken, None);
    let update: Result<_, sqlx::Error> = loket::with_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE audit_log SET username = 'x'"
    )
    .execute(pool)
    .await
    .map(|_| ()));
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete: Result<_, sqlx::Error> =
        loket::with_db!(&app.state.db, |pool| sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .map(|_| ()));
    assert!(delete.is_err());

    // Someone with the database's own powers switches the guard off and edits a row: detected.
    let target = entries[1].id;
    match app.backend {
        crate::common::Backend::Sqlite => loket::with_db!(&app.state.db, |pool| {
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("DROP TRIGGER audit_log_no_delete")
                .execute(pool)
                .await
                .unwrap();
        }),
        crate::common::Backend::Postgres => loket::with_db!(&app.state.db, |pool| {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER")
                .execute(pool)
                .await
                .unwrap();
        }),
    }
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query("UPDATE audit_log SET username = 'someone-else' WHERE id = $1")
            .bind(target)
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(
        audit::verify(&app.state.db).await.unwrap().1,
        Some(ChainBreak::Altered { id: target })
    );
    // …or deletes one (after putting the edited value back).
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query("UPDATE audit_log SET username = 'petugas.a' WHERE id = $1")
            .bind(target)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE id = $1")
            .bind(target)
            .execute(pool)
            .await
            .unwrap();
    });
    let next = audit::page(&app.state.db, target, 1).await.unwrap()[0].id;
    assert_eq!(
        audit::verify(&app.state.db).await.unwrap().1,
        Some(ChainBreak::Missing { before_id: next })
    );
}

#[tokio::test]
async fn every_create_view_refusal_and_change_is_audited_in_a_tamper_evident_chain() {
    on_each_backend!(every_access_is_in_a_verifiable_chain);
}

async fn logins_are_audited(app: &TestApp) {
    app.officer_a().await;
    for password in ["salah-salah-123", crate::common::PASSWORD] {
        post_login(&app.client, app, "petugas.a", password).await;
    }
    let rows = audit::page(&app.state.db, 0, 100).await.unwrap();
    let logins: Vec<&str> = rows
        .iter()
        .filter(|r| r.action == "login")
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(logins, ["denied", "ok"]);
}

#[tokio::test]
async fn successful_and_failed_logins_are_audited() {
    on_each_backend!(logins_are_audited);
}

async fn concurrent_appends_keep_one_chain(app: &TestApp) {
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                audit::record(
                    &db,
                    None,
                    Some("cli"),
                    audit::Entry::new("participant.view", "participant", i),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let (checked, broken) = audit::verify(&app.state.db).await.unwrap();
    assert_eq!((checked, broken), (200, None));
}

#[tokio::test]
async fn concurrent_audit_entries_are_written_once_each_in_one_unbroken_chain() {
    on_each_backend!(concurrent_appends_keep_one_chain);
}
