use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{person_json, TestApp, PASSWORD};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

async fn register(app: &TestApp, token: &str, nik: &str, name: &str) -> i64 {
    let response = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(token)
        .json(&person_json(nik, name))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn shared_niks(app: &TestApp, token: &str) -> Vec<String> {
    let page: Value = app
        .client
        .get(app.url("/api/v1/exchange/participants"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nik"].as_str().unwrap().to_string())
        .collect()
}

async fn consent_withdrawal_stops_sharing(app: &TestApp) {
    let (_, officer) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
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
    let siti = register(app, &officer, NIK, "Siti Aminah").await;
    let mut no_sharing = person_json("3201011203850002", "Budi Santoso");
    no_sharing["sex"] = json!("male");
    no_sharing["birth_date"] = json!("1985-03-12");
    no_sharing["consent_sharing"] = json!(false);
    let response = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(&officer)
        .json(&no_sharing)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // Only people who agreed to sharing reach the partner, and only with the grant.
    assert_eq!(shared_niks(app, &granted).await, [NIK]);
    let response = app
        .client
        .get(app.url("/api/v1/exchange/participants"))
        .bearer_auth(&ungranted)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Siti withdraws consent to sharing at the counter: the next export omits her.
    let response = app.client.post(app.url(&format!("/api/v1/participants/{siti}/consents"))).bearer_auth(&officer)
        .json(&json!({"processing": true, "sharing": false, "method": "paper_form", "note": "tidak mau dihubungi Prakerja"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(shared_niks(app, &granted).await.is_empty());

    // The record shows its consent history, oldest first, and the change is audited by name.
    let history: Value = app
        .client
        .get(app.url(&format!("/api/v1/participants/{siti}/consents")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let counter_a2 = loket::counters::create_counter(
        &app.state.db,
        app.office_a,
        "A-02",
        "Loket A2",
        "operating",
    )
    .await
    .unwrap();
    let (_, officer_a) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let (_, officer_a2) = app
        .user("petugas.a2", Role::Petugas, Some(counter_a2))
        .await;
    let (_, officer_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, koordinator_a) = app
        .user("koord.a", Role::Koordinator, Some(app.counter_a))
        .await;
    let id = register(app, &officer_a, NIK, "Siti Aminah").await;
    let url = |who: &str| app.url(&format!("/api/v1/participants/{id}{who}"));
    let status = |r: reqwest::Response| r.status();

    // A referral lets counter B serve her too; counter A keeps access.
    let refer = app
        .client
        .post(url("/referrals"))
        .bearer_auth(&officer_a)
        .json(&json!({"counter_id": app.counter_b, "reason": "pindah ke dekat UPT B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status(
            app.client
                .get(url(""))
                .bearer_auth(&officer_b)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::OK
    );
    let found: Value = app
        .client
        .get(app.url(&format!("/api/v1/participants?nik={NIK}")))
        .bearer_auth(&officer_b)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], id);

    // An officer cannot move a case; the coordinator moves it within the office, with a reason.
    let body = json!({"counter_id": counter_a2, "reason": "beban kerja loket A"});
    assert_eq!(
        status(
            app.client
                .post(url("/reassign"))
                .bearer_auth(&officer_a)
                .header("If-Match", "1")
                .json(&body)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    let short = json!({"counter_id": counter_a2, "reason": "x"});
    assert_eq!(
        status(
            app.client
                .post(url("/reassign"))
                .bearer_auth(&koordinator_a)
                .header("If-Match", "1")
                .json(&short)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let outside = json!({"counter_id": app.counter_b, "reason": "ke kantor lain"});
    assert_eq!(
        status(
            app.client
                .post(url("/reassign"))
                .bearer_auth(&koordinator_a)
                .header("If-Match", "1")
                .json(&outside)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    let moved = app
        .client
        .post(url("/reassign"))
        .bearer_auth(&koordinator_a)
        .header("If-Match", "1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(
        moved.json::<Value>().await.unwrap()["counter_id"],
        counter_a2
    );
    // A stale version is refused.
    assert_eq!(
        status(
            app.client
                .post(url("/reassign"))
                .bearer_auth(&koordinator_a)
                .header("If-Match", "1")
                .json(&body)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::CONFLICT
    );

    // The old counter lost access; the new one and the referred one have it.
    assert_eq!(
        status(
            app.client
                .get(url(""))
                .bearer_auth(&officer_a)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            app.client
                .get(url(""))
                .bearer_auth(&officer_a2)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::OK
    );
    assert_eq!(
        status(
            app.client
                .get(url(""))
                .bearer_auth(&officer_b)
                .send()
                .await
                .unwrap()
        ),
        StatusCode::OK
    );
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
    let (user_id, token) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let ok = |t: &str| {
        app.client
            .get(app.url("/api/v1/participants?name=siti"))
            .bearer_auth(t.to_string())
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
    app.user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let login = || {
        app.client
            .post(app.url("/login"))
            .form(&[("username", "petugas.a"), ("password", PASSWORD)])
            .send()
    };
    let cookie_of = |r: &reqwest::Response| r.headers()["set-cookie"].to_str().unwrap().to_string();
    let first = login().await.unwrap();
    let set_cookie = cookie_of(&first);
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let second = cookie_of(&login().await.unwrap());
    assert_ne!(
        cookie,
        second.split(';').next().unwrap(),
        "a new session id at every sign-in"
    );

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
    app.user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1000 {
        let response = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("username", "petugas.a"),
                ("password", &format!("tebakan-{i}-salah")),
            ])
            .send()
            .await
            .unwrap();
        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&401), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&995), "{statuses:?}");
    // While blocked, even the right password is refused, with a clear message.
    let response = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "petugas.a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Terlalu banyak percobaan"));
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
    let (_, officer) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let mut body = person_json(
        NIK,
        "<script>alert('x')</script> O'Brien; DROP TABLE participants;--",
    );
    body["address"] = json!("<img src=x onerror=alert(1)> Jl. \"Merdeka\" 1; DELETE FROM users");
    body["training_interests"] = json!("%' OR '1'='1");
    let response = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(&officer)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    // Stored exactly, tables intact, name search treats the text as text.
    let read: Value = app
        .client
        .get(app.url(&format!("/api/v1/participants/{id}")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["full_name"],
        "<script>alert('x')</script> O'Brien; DROP TABLE participants;--"
    );
    let found: Value = app
        .client
        .get(app.url("/api/v1/participants?name=%25'%20OR%20'1'%3D'1"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"], json!([]));
    assert_eq!(
        loket::participants::store::count(&app.state.db)
            .await
            .unwrap(),
        1
    );

    // Shown escaped on the page.
    let (client, _) = {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        client
            .post(app.url("/login"))
            .form(&[("username", "petugas.a"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        (client, ())
    };
    let page = client
        .get(app.url(&format!("/participants/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert!(
            response.status() == StatusCode::NOT_FOUND
                || response.status() == StatusCode::BAD_REQUEST,
            "{path}: {}",
            response.status()
        );
        assert!(!response.text().await.unwrap().contains("[package]"));
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let response = client
        .post(app.url("/participants/new"))
        .form(&[("csrf", "x"), ("full_name", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        loket::participants::store::count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn sql_metacharacters_and_script_tags_are_harmless() {
    on_each_backend!(hostile_text_is_stored_and_shown_escaped);
}
