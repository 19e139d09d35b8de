use loket::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    assert_page_says, cookie_client, person_json, post_login, session_cookie, Api, Session,
    TestApp, PASSWORD,
};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

async fn shared_niks(partner: &Api<'_>) -> Vec<String> {
    let page = partner.get_json("/api/v1/exchange/participants").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nik"].as_str().unwrap().to_string())
        .collect()
}

async fn consent_withdrawal_stops_sharing(app: &TestApp) {
    let (_, officer) = app.officer_a().await;
    let (mitra_id, _) = app.user("prakerja", Role::Mitra, None).await;
    let granted = loket::auth::store::create_token(
        &app.state.db,
        mitra_id,
        "exchange",
        &[loket::access::GRANT_EXCHANGE.into()],
        None,
    )
    .await
    .unwrap();
    let ungranted = loket::auth::store::create_token(&app.state.db, mitra_id, "nothing", &[], None)
        .await
        .unwrap();
    let (officer, granted, ungranted) = (app.api(&officer), app.api(&granted), app.api(&ungranted));
    let siti = officer.register_person(NIK, "Siti Aminah").await;
    let mut no_sharing = person_json("3201011203850002", "Budi Santoso");
    no_sharing["sex"] = json!("male");
    no_sharing["birth_date"] = json!("1985-03-12");
    no_sharing["consent_sharing"] = json!(false);
    let response = officer.register(&no_sharing).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Only people who agreed to sharing reach the partner, and only with the grant.
    assert_eq!(shared_niks(&granted).await, [NIK]);
    let response = ungranted.get("/api/v1/exchange/participants").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Siti withdraws consent to sharing at the counter: the next export omits her.
    let consents = format!("/api/v1/participants/{siti}/consents");
    let withdrawal = json!({"processing": true, "sharing": false, "method": "paper_form", "note": "tidak mau dihubungi Prakerja"});
    let response = officer.post(&consents, &withdrawal).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(shared_niks(&granted).await.is_empty());

    // The record shows its consent history, oldest first, and the change is audited by name.
    let history = officer.get_json(&consents).await;
    let sharing: Vec<bool> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sharing"].as_bool().unwrap())
        .collect();
    assert_eq!(sharing, [true, false]);
    assert_eq!(history[1]["note"], "tidak mau dihubungi Prakerja");
    let audit = loket::audit::for_entity(&app.state.db, "participant", &siti.to_string())
        .await
        .unwrap();
    let consent = audit.iter().find(|e| e.action == "consent.change").unwrap();
    assert_eq!(
        consent.fields.as_deref(),
        Some("consent_sharing,consent_method")
    );
    assert!(
        audit.iter().all(|e| e.action != "exchange.participants"),
        "exchange is logged as a whole"
    );
    let exchanges = loket::audit::page(&app.state.db, 0, 1000).await.unwrap();
    assert!(exchanges.iter().any(|e| e.action == "exchange.participants"
        && e.reason
            .as_deref()
            .is_some_and(|r| r.contains(&siti.to_string()))));
}

#[tokio::test]
async fn withdrawing_consent_removes_a_person_from_the_next_partner_export() {
    on_each_backend!(consent_withdrawal_stops_sharing);
}

async fn reassignment_and_referral_move_access(app: &TestApp) {
    let counter_a2 = app.add_counter(app.office_a, "A-02", "Loket A2").await;
    let (_, officer_a) = app.officer_a().await;
    let (_, officer_a2) = app
        .user("petugas.a2", Role::Petugas, Some(counter_a2))
        .await;
    let (_, officer_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, koordinator_a) = app
        .user("koord.a", Role::Koordinator, Some(app.counter_a))
        .await;
    let (officer_a, officer_a2, officer_b, koordinator_a) = (
        app.api(&officer_a),
        app.api(&officer_a2),
        app.api(&officer_b),
        app.api(&koordinator_a),
    );
    let id = officer_a.register_person(NIK, "Siti Aminah").await;
    let path = |rest: &str| format!("/api/v1/participants/{id}{rest}");
    let reassign = |who: &Api<'_>, body: &Value| {
        who.request(Method::POST, &path("/reassign"))
            .header("If-Match", "1")
            .json(body)
            .send()
    };

    // A referral lets counter B serve her too; counter A keeps access.
    let refer = officer_a
        .post(
            &path("/referrals"),
            &json!({"counter_id": app.counter_b, "reason": "pindah ke dekat UPT B"}),
        )
        .await;
    assert_eq!(refer.status(), StatusCode::NO_CONTENT);
    assert_eq!(officer_b.get(&path("")).await.status(), StatusCode::OK);
    let found = officer_b
        .get_json(&format!("/api/v1/participants?nik={NIK}"))
        .await;
    assert_eq!(found["items"][0]["id"], id);

    // An officer cannot move a case; the coordinator moves it within the office, with a reason.
    let body = json!({"counter_id": counter_a2, "reason": "beban kerja loket A"});
    assert_eq!(
        reassign(&officer_a, &body).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let short = json!({"counter_id": counter_a2, "reason": "x"});
    assert_eq!(
        reassign(&koordinator_a, &short).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let outside = json!({"counter_id": app.counter_b, "reason": "ke kantor lain"});
    assert_eq!(
        reassign(&koordinator_a, &outside).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let moved = reassign(&koordinator_a, &body).await.unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(
        moved.json::<Value>().await.unwrap()["counter_id"],
        counter_a2
    );
    // A stale version is refused.
    assert_eq!(
        reassign(&koordinator_a, &body).await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // The old counter lost access; the new one and the referred one have it.
    assert_eq!(
        officer_a.get(&path("")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(officer_a2.get(&path("")).await.status(), StatusCode::OK);
    assert_eq!(officer_b.get(&path("")).await.status(), StatusCode::OK);
    let audit = loket::audit::for_entity(&app.state.db, "participant", &id.to_string())
        .await
        .unwrap();
    let reassign = audit
        .iter()
        .find(|e| e.action == "participant.reassign" && e.outcome == "ok")
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "participant.reassign" && e.outcome == "denied"),
        "the refused attempt is logged too"
    );
    assert!(reassign
        .reason
        .as_deref()
        .unwrap()
        .contains("beban kerja loket A"));
}

#[tokio::test]
async fn reassignment_moves_access_and_referral_shares_it() {
    on_each_backend!(reassignment_and_referral_move_access);
}

async fn tokens_are_revoked_expire_and_their_use_is_audited(app: &TestApp) {
    let (user_id, token) = app.officer_a().await;
    let ok = |t: &str| {
        app.api(t)
            .request(Method::GET, "/api/v1/participants?name=siti")
            .send()
    };
    assert_eq!(ok(&token).await.unwrap().status(), StatusCode::OK);
    assert_eq!(ok(&token).await.unwrap().status(), StatusCode::OK);
    let uses = loket::audit::page(&app.state.db, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "token.use")
        .count();
    assert_eq!(
        uses, 1,
        "a token's use is logged once per period, not per request"
    );

    let tokens = loket::auth::store::tokens_of(&app.state.db, user_id)
        .await
        .unwrap();
    assert!(
        loket::auth::store::revoke_token(&app.state.db, tokens[0].id)
            .await
            .unwrap()
    );
    assert_eq!(ok(&token).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let expired = loket::auth::store::create_token(
        &app.state.db,
        user_id,
        "old",
        &[],
        Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
    )
    .await
    .unwrap();
    assert_eq!(
        ok(&expired).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused() {
    on_each_backend!(tokens_are_revoked_expire_and_their_use_is_audited);
}

async fn sessions_time_out_and_rotate(app: &TestApp) {
    app.officer_a().await;
    let login = || post_login(&app.client, app, "petugas.a", PASSWORD);
    let first = login().await;
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = session_cookie(&first);
    let second = session_cookie(&login().await);
    assert_ne!(cookie, second, "a new session id at every sign-in");

    let page = |c: String| {
        app.client
            .get(app.url("/participants"))
            .header("cookie", c)
            .send()
    };
    assert_eq!(page(cookie.clone()).await.unwrap().status(), StatusCode::OK);
    // Forged cookie: back to the login page.
    assert_eq!(
        page("loket_session=forged".into()).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // Idle for longer than the limit: the session is over.
    let long_ago = chrono::Utc::now()
        - chrono::Duration::minutes(loket::auth::store::SESSION_IDLE_MINUTES + 1);
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, created_at = $1")
            .bind(long_ago)
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(page(cookie).await.unwrap().status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_rotate_at_sign_in_and_end_when_idle() {
    on_each_backend!(sessions_time_out_and_rotate);
}

async fn a_thousand_wrong_passwords(app: &TestApp) {
    app.officer_a().await;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1000 {
        let response =
            post_login(&app.client, app, "petugas.a", &format!("tebakan-{i}-salah")).await;
        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&401), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&995), "{statuses:?}");
    // While blocked, even the right password is refused, with a clear message.
    let response = post_login(&app.client, app, "petugas.a", PASSWORD).await;
    assert_page_says(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "Terlalu banyak percobaan",
    )
    .await;
    let denied = loket::audit::page(&app.state.db, 0, 5000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == "denied")
        .count();
    assert_eq!(denied, 1001);
    let sessions: i64 = loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM sessions"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(sessions, 0, "nothing changed");
}

#[tokio::test]
async fn a_thousand_wrong_passwords_are_throttled_and_audited() {
    on_each_backend!(a_thousand_wrong_passwords);
}

async fn hostile_text_is_stored_and_shown_escaped(app: &TestApp) {
    let (_, officer) = app.officer_a().await;
    let mut body = person_json(
        NIK,
        "<script>alert('x')</script> O'Brien; DROP TABLE participants;--",
    );
    body["address"] = json!("<img src=x onerror=alert(1)> Jl. \"Merdeka\" 1; DELETE FROM users");
    body["training_interests"] = json!("%' OR '1'='1");
    let officer = app.api(&officer);
    let response = officer.register(&body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    // Stored exactly, tables intact, name search treats the text as text.
    let read = officer
        .get_json(&format!("/api/v1/participants/{id}"))
        .await;
    assert_eq!(
        read["full_name"],
        "<script>alert('x')</script> O'Brien; DROP TABLE participants;--"
    );
    let found = officer
        .get_json("/api/v1/participants?name=%25'%20OR%20'1'%3D'1")
        .await;
    assert_eq!(found["items"], json!([]));
    assert_eq!(app.participant_count().await, 1);

    // Shown escaped on the page.
    let session = Session {
        app,
        client: cookie_client(),
        csrf: String::new(),
    };
    post_login(&session.client, app, "petugas.a", PASSWORD).await;
    let page = session.page(&format!("/participants/{id}")).await;
    assert!(
        !page.contains("<script>alert"),
        "raw script tag on the page"
    );
    assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"));
    assert!(!page.contains("<img src=x"));

    // Path traversal and oversize bodies are refused.
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let response = app.get(path).await;
        assert!(
            response.status() == StatusCode::NOT_FOUND
                || response.status() == StatusCode::BAD_REQUEST,
            "{path}: {}",
            response.status()
        );
        assert!(!response.text().await.unwrap().contains("[package]"));
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let response = session
        .post_form(
            "/participants/new",
            &[("csrf", "x"), ("full_name", big.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.participant_count().await, 1);
}

#[tokio::test]
async fn sql_metacharacters_and_script_tags_are_harmless() {
    on_each_backend!(hostile_text_is_stored_and_shown_escaped);
}
