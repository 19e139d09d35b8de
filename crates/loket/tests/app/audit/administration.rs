//! Administration on the server is in the audit log, passwords are not guessable, the SQLite
//! file is private, and a coordinator cannot take a case that was only referred to them.

use std::process::Output;

use loket::audit::{self, AuditFilter, AuditRow};
use loket::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::loket_cli;
use crate::common::TestApp;
use crate::on_each_backend;

/// Runs `loket ARGS` with `stdin` written to its standard input.
fn cli_with_input(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    crate::common::run_with_input(loket_cli(app).args(args), stdin)
}

async fn entries(app: &TestApp, action: &str) -> Vec<AuditRow> {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    };
    audit::search(&app.state.db, &filter).await.unwrap()
}

/// The one entry of `action`, made by the CLI as the operating-system user `operator`.
async fn by_operator(app: &TestApp, action: &str) -> AuditRow {
    let found = entries(app, action).await;
    assert_eq!(found.len(), 1, "{action}: {found:?}");
    assert_eq!(
        found[0].username.as_deref(),
        Some("system/cli (operator)"),
        "{action}"
    );
    found[0].clone()
}

const ADD_ADMIN: &[&str] = &[
    "user",
    "add",
    "--username",
    "admin.baru",
    "--role",
    "admin",
    "--password-stdin",
];

async fn weak_passwords_are_refused_in_both_languages(app: &TestApp) {
    for (password, id, en) in [
        (
            "pendek-11ch",
            "minimal 12 karakter",
            "at least 12 characters",
        ),
        ("aaaaaaaaaaaa", "hanya mengulang", "only repeats"),
        ("abcabcabcabc", "hanya mengulang", "only repeats"),
        ("password2021!", "terlalu umum", "too common"),
        ("Indonesia1945", "terlalu umum", "too common"),
    ] {
        let out = cli_with_input(app, ADD_ADMIN, password);
        assert!(!out.status.success(), "{password} was accepted");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(id) && said.contains(en), "{password}: {said}");
    }
    assert!(users_named(app, "admin.baru").await.is_none());
}

async fn users_named(app: &TestApp, username: &str) -> Option<i64> {
    loket::auth::user_by_username(&app.state.db, username)
        .await
        .unwrap()
        .map(|u| u.id)
}

#[tokio::test]
async fn short_repeated_and_common_passwords_are_refused_with_a_message_in_both_languages() {
    on_each_backend!(weak_passwords_are_refused_in_both_languages);
}

async fn accounts_and_tokens_from_the_cli_are_audited(app: &TestApp) {
    let out = cli_with_input(app, ADD_ADMIN, "kopi-sawah-bambu-417\n");
    assert!(out.status.success(), "{out:?}");
    let id = users_named(app, "admin.baru").await.unwrap();
    let created = by_operator(app, "user.create").await;
    assert_eq!(created.entity_id, Some(id.to_string()));
    assert_eq!(created.reason.as_deref(), Some("admin.baru (admin)"));

    let reset = [
        "user",
        "reset-password",
        "--username",
        "admin.baru",
        "--password-stdin",
    ];
    let out = cli_with_input(app, &reset, "melati-danau-kebun-58\n");
    assert!(out.status.success(), "{out:?}");
    let reset = by_operator(app, "user.password_reset").await;
    assert_eq!(reset.entity_id, Some(id.to_string()));

    let create = [
        "token",
        "create",
        "--username",
        "admin.baru",
        "--label",
        "mitra-uji",
    ];
    let out = cli_with_input(app, &create, "");
    assert!(out.status.success(), "{out:?}");
    let token = by_operator(app, "token.create").await;
    assert_eq!(token.entity_id, Some(id.to_string()));
    assert!(token
        .reason
        .as_deref()
        .is_some_and(|r| r.starts_with("mitra-uji")));
    let token_id = loket::auth::tokens_of(&app.state.db, id).await.unwrap()[0].id;
    let out = cli_with_input(app, &["token", "revoke", "--id", &token_id.to_string()], "");
    assert!(out.status.success(), "{out:?}");
    let revoked = by_operator(app, "token.revoke").await;
    assert_eq!(revoked.entity_id, Some(token_id.to_string()));

    // No password, token or hash ever goes into the log.
    for row in audit::page(&app.state.db, 0, 1000).await.unwrap() {
        let text = format!("{row:?}");
        assert!(!text.contains("kopi-sawah") && !text.contains("melati-danau"));
    }
    assert_eq!(audit::verify(&app.state.db).await.unwrap().1, None);
}

#[tokio::test]
async fn user_add_reset_password_and_token_create_and_revoke_leave_audit_entries() {
    on_each_backend!(accounts_and_tokens_from_the_cli_are_audited);
}

async fn key_changes_and_rejected_imports_are_audited(app: &TestApp) {
    // The operator keeps the key in a file (the test app got it from the environment).
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("loket.key");
    std::fs::write(&key_file, "42".repeat(32)).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let keys = |args: &[&str]| {
        let mut command = loket_cli(app);
        command
            .env_remove("LOKET_DATA_KEY")
            .env("LOKET_KEY_FILE", &key_file);
        command.args(args).output().unwrap()
    };
    let out = keys(&["keys", "add"]);
    assert!(out.status.success(), "{out:?}");
    let added = by_operator(app, "keys.add").await;
    assert_eq!(added.entity_id.as_deref(), Some("2"));
    let out = keys(&["keys", "rotate"]);
    assert!(out.status.success(), "{out:?}");
    let rotated = by_operator(app, "keys.rotate").await;
    assert_eq!(rotated.entity_id.as_deref(), Some("2"));

    let bad = dir.path().join("rusak.csv");
    std::fs::write(&bad, "nik;nama\n123;Siti\n").unwrap();
    let out = loket_cli(app)
        .args(["import", "participants"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let refused = by_operator(app, "participant.import").await;
    assert_eq!(refused.outcome, "failed");
    assert!(
        refused
            .reason
            .as_deref()
            .is_some_and(|r| r.ends_with("rusak.csv")),
        "{refused:?}"
    );
    assert_eq!(app.participant_count().await, 0);
}

#[tokio::test]
async fn keys_add_and_rotate_and_a_rejected_import_leave_audit_entries() {
    on_each_backend!(key_changes_and_rejected_imports_are_audited);
}

#[tokio::test]
async fn a_new_sqlite_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kantor.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loket"))
        .env_clear()
        .env("LOKET_DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("LOKET_KEY_FILE", dir.path().join("loket.key"))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for name in ["kantor.db", "kantor.db-wal", "kantor.db-shm"] {
        let path = dir.path().join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
    }
    assert!(file.exists());
}

async fn a_referred_case_stays_with_its_home_office(app: &TestApp) {
    let counter_a2 = app.add_counter(app.office_a, "A-02", "Loket A2").await;
    let (_, officer_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, koordinator_a) = app
        .user("koord.a", Role::Koordinator, Some(app.counter_a))
        .await;
    let (officer_b, koordinator_a) = (app.api(&officer_b), app.api(&koordinator_a));
    let id = officer_b
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let referred = officer_b
        .post(
            &format!("/api/v1/participants/{id}/referrals"),
            &json!({"counter_id": app.counter_a, "reason": "dekat rumah keluarga"}),
        )
        .await;
    assert!(referred.status().is_success());

    let moved = koordinator_a
        .request(Method::POST, &format!("/api/v1/participants/{id}/reassign"))
        .header("If-Match", "1")
        .json(&json!({"counter_id": counter_a2, "reason": "ambil alih kasus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::FORBIDDEN);
    let body: Value = moved.json().await.unwrap();
    assert_eq!(body["error"]["code"], "case_of_another_office");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("hanya dirujuk ke kantor Anda"), "{body}");

    let person = koordinator_a
        .get_json(&format!("/api/v1/participants/{id}"))
        .await;
    assert_eq!(person["counter_id"], app.counter_b, "the case stayed home");
    let refused = entries(app, "participant.reassign").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].outcome, "denied");
}

#[tokio::test]
async fn a_coordinator_cannot_move_a_case_only_referred_to_their_office() {
    on_each_backend!(a_referred_case_stays_with_its_home_office);
}
