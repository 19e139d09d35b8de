//! A password reset, a change of role or counter, or a deactivation ends the person's
//! sessions at once; a deactivation also revokes their API tokens.

use loket::auth::Role;
use reqwest::StatusCode;

use super::loket_cli;
use crate::common::{Session, TestApp};
use crate::on_each_backend;

/// Whether the session still opens a signed-in page (a dead one goes to the login page).
async fn signed_in(session: &Session<'_>) -> bool {
    let response = session.get("/participants").await;
    match response.status() {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("unexpected {other}"),
    }
}

async fn account_changes_end_sessions(app: &TestApp) {
    let (_, siti_token) = app.officer_a().await;
    app.user("petugas.pindah", Role::Petugas, Some(app.counter_a))
        .await;
    app.user("koord.a", Role::Koordinator, Some(app.counter_a))
        .await;
    let (_, keluar_token) = app
        .user("petugas.keluar", Role::Petugas, Some(app.counter_a))
        .await;
    app.user("petugas.tetap", Role::Petugas, Some(app.counter_a))
        .await;
    let reset = app.session("petugas.a").await;
    let moved = app.session("petugas.pindah").await;
    let promoted = app.session("koord.a").await;
    let leaving = app.session("petugas.keluar").await;
    let bystander = app.session("petugas.tetap").await;
    let db = &app.state.db;

    loket_cli(
        app,
        &[
            "user",
            "reset-password",
            "--username",
            "petugas.a",
            "--password-stdin",
        ],
        "kopi-tubruk-pagi-2021\n",
    );
    assert!(!signed_in(&reset).await, "the old password's session ended");
    assert_eq!(
        app.api(&siti_token)
            .get("/api/v1/participants?name=siti")
            .await
            .status(),
        StatusCode::OK,
        "a password reset leaves the API tokens alone"
    );

    loket_cli(
        app,
        &[
            "user",
            "change",
            "--username",
            "petugas.pindah",
            "--counter",
            "B-01",
        ],
        "",
    );
    assert!(
        !signed_in(&moved).await,
        "a move to another counter ends the session"
    );
    let user = loket::auth::user_by_username(db, "petugas.pindah")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.counter_id, Some(app.counter_b));

    loket_cli(
        app,
        &[
            "user",
            "change",
            "--username",
            "koord.a",
            "--role",
            "auditor",
        ],
        "",
    );
    assert!(!signed_in(&promoted).await, "a new role ends the session");
    let user = loket::auth::user_by_username(db, "koord.a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, Role::Auditor);

    loket_cli(
        app,
        &["user", "deactivate", "--username", "petugas.keluar"],
        "",
    );
    assert!(!signed_in(&leaving).await, "deactivation ends the session");
    let refused = app
        .api(&keluar_token)
        .get("/api/v1/participants?name=siti")
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let user = loket::auth::user_by_username(db, "petugas.keluar")
        .await
        .unwrap()
        .unwrap();
    let tokens = loket::auth::tokens_of(db, user.id).await.unwrap();
    assert!(
        tokens.iter().all(|t| t.revoked_at.is_some()),
        "deactivation revokes every token"
    );

    assert!(signed_in(&bystander).await, "nobody else is signed out");
}

#[tokio::test]
async fn a_password_reset_role_or_counter_change_or_deactivation_ends_the_sessions() {
    on_each_backend!(account_changes_end_sessions);
}

/// The officer import moves an existing account to its new counter: that too ends its
/// sessions, while an import that leaves the place as it was does not.
async fn moving_an_account_ends_its_sessions(app: &TestApp) {
    let (id, _) = app.officer_a().await;
    let session = app.session("petugas.a").await;
    place(app, id, app.office_a, app.counter_a).await;
    assert!(
        signed_in(&session).await,
        "the same place keeps the session"
    );
    place(app, id, app.office_b, app.counter_b).await;
    assert!(!signed_in(&session).await, "a new place ends it");
}

async fn place(app: &TestApp, id: i64, office: i64, counter: i64) {
    loket::with_db!(&app.state.db, |pool| {
        let mut conn = pool.acquire().await.unwrap();
        loket::auth::store::set_account_place(&mut *conn, id, Some(office), Some(counter))
            .await
            .unwrap();
    });
}

#[tokio::test]
async fn moving_an_account_to_another_counter_ends_its_sessions() {
    on_each_backend!(moving_an_account_ends_its_sessions);
}
