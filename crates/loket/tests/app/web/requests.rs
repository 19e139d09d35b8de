//! Permintaan akses (issue 14, item 5): a NIK registered at another counter is not a dead end.
//! Search and registration say where (counter and office, nothing more of the person); the
//! officer asks that counter for access or a move; the holding side sees the request (a count
//! in the navigation), accepts or declines with a reason; the requester sees the answer; every
//! step is in the audit log.

use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

/// The audit actions recorded so far, oldest first.
async fn actions(app: &TestApp) -> Vec<String> {
    let db = &app.state.db;
    loket::with_db!(db, |pool| sqlx::query_scalar(
        "SELECT action FROM audit_log ORDER BY id"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn an_officer_asks_the_holding_counter_and_sees_the_answer(app: &TestApp) {
    let (_, token_a) = app.officer_a().await;
    let (_, token_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let id = app.api(&token_a).register_person(NIK, "Siti Aminah").await;

    // Searching the NIK at counter B says where the person is registered, and only that.
    let b = app.session("petugas.b").await;
    let page = b.page(&format!("/participants?q={NIK}")).await;
    assert!(page.contains("NIK ini sudah terdaftar di"), "{page}");
    assert!(
        page.contains("id=\"held-at\">Loket A, BP3MI A</strong>"),
        "{page}"
    );
    assert!(!page.contains("Siti Aminah"), "nothing more of the person");
    assert!(
        !page.contains("Daftarkan sekarang"),
        "registering again is no way out"
    );
    assert!(page.contains("id=\"request-form\""));

    // Registering the NIK says the same, in both languages through the API.
    let response = app
        .api(&token_b)
        .register(&person_json(NIK, "Siti A."))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "nik_duplicate");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("terdaftar di Loket A, BP3MI A"),
        "{message}"
    );
    assert!(body["error"]["message_en"]
        .as_str()
        .unwrap()
        .contains("registered at Loket A, BP3MI A"));

    // A request without a reason comes back to the form with the message at the field.
    let form = |reason: &str| {
        vec![
            ("csrf", b.csrf.clone()),
            ("nik", NIK.to_string()),
            ("kind", "access".to_string()),
            ("reason", reason.to_string()),
        ]
    };
    let response = b.post_form("/access-requests", &form("ya")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"reason-error\">Tuliskan alasannya (minimal 5 karakter).</p>"));
    assert!(page.contains(">ya</textarea>"), "what was typed stays");

    let response = b
        .post_form(
            "/access-requests",
            &form("Ibu Siti pindah ke dekat loket kami"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/access-requests?sent=1");
    let page = b.page("/access-requests?sent=1").await;
    assert!(page.contains("Permintaan terkirim."));
    assert!(page.contains("ke Loket A, BP3MI A"), "{page}");
    assert!(page.contains("<strong>Menunggu jawaban</strong>"));
    assert!(!page.contains("Siti Aminah"), "not before the answer");
    // Asking twice is refused, with the reason in words.
    let response = b
        .post_form("/access-requests", &form("sekali lagi ya"))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Loket Anda sudah meminta akses untuk orang ini"));

    // The holding counter sees the count in the navigation and the request with the person.
    let a = app.session("petugas.a").await;
    let page = a.page("/participants").await;
    assert!(
        page.contains("Permintaan akses <span class=\"badge\">1</span></a>"),
        "{page}"
    );
    let page = a.page("/access-requests").await;
    assert!(page.contains("id=\"waiting\">Menunggu jawaban Anda: <strong>1</strong>"));
    assert!(page.contains(&format!("<a href=\"/participants/{id}\">Siti Aminah</a>")));
    assert!(page.contains("dari Loket B, BP3MI B (petugas.b)"), "{page}");
    assert!(page.contains("Ibu Siti pindah ke dekat loket kami"));
    let request_id: i64 = page
        .split("id=\"request-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap();

    // Declining needs a reason; the message is at that request's form.
    let answer = |decision: &str, reason: &str| {
        vec![
            ("csrf", a.csrf.clone()),
            ("decision", decision.to_string()),
            ("answer", reason.to_string()),
        ]
    };
    let path = format!("/access-requests/{request_id}/answer");
    let response = a.post_form(&path, &answer("decline", "")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("id=\"answer-error\">Tuliskan alasannya"));
    // Accepting gives counter B access (a referral), at once.
    assert_eq!(b.get(&format!("/participants/{id}")).await.status(), 403);
    let response = a
        .post_form(&path, &answer("accept", "Silakan dilayani"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = a.page("/access-requests?answered=1").await;
    assert!(page.contains("Jawaban tersimpan."));
    assert!(
        !page.contains("<span class=\"badge\">"),
        "nothing waits any more"
    );
    let response = a
        .post_form(&path, &answer("decline", "berubah pikiran"))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "answered once");

    // The requester sees the answer, and now reaches the person.
    let page = b.page("/access-requests").await;
    assert!(
        page.contains("<strong>Diterima</strong> · Silakan dilayani"),
        "{page}"
    );
    assert!(page.contains(&format!(
        "<a href=\"/participants/{id}\">Buka data peserta</a>"
    )));
    assert_eq!(b.get(&format!("/participants/{id}")).await.status(), 200);
    let page = b.page(&format!("/participants?q={NIK}")).await;
    assert!(page.contains("Siti Aminah"));

    // Every step is in the audit log, and in words on the audit page.
    let done = actions(app).await;
    for action in [
        "participant.locate",
        "access_request.create",
        "access_request.accept",
        "participant.refer",
    ] {
        assert!(done.iter().any(|a| a == action), "{action} in {done:?}");
    }
    app.user("pemeriksa", Role::Auditor, None).await;
    let auditor = app.session("pemeriksa").await;
    let page = auditor.page("/audit?action=access_request.accept").await;
    assert!(page.contains("menerima permintaan akses"), "{page}");
    assert!(page.contains("permintaan akses"));
    assert!(page.contains("Menampilkan 1–1 dari 1"));
}

#[tokio::test]
async fn a_nik_at_another_counter_says_where_and_the_holder_answers_a_request() {
    on_each_backend!(an_officer_asks_the_holding_counter_and_sees_the_answer);
}

async fn a_move_is_the_holding_offices_coordinators_to_answer(app: &TestApp) {
    let (_, token_a) = app.officer_a().await;
    let (_, token_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, coordinator) = app.user("koordinator.a", Role::Koordinator, None).await;
    let id = app.api(&token_a).register_person(NIK, "Siti Aminah").await;
    let b = app.api(&token_b);

    // Where, through the API: names only.
    let place = b
        .get_json(&format!("/api/v1/access-requests/holder?nik={NIK}"))
        .await;
    assert_eq!(place, json!({"counter": "Loket A", "office": "BP3MI A"}));

    let ask = json!({"nik": NIK, "kind": "move", "reason": "Pindah domisili ke Kota B"});
    let response = b.post("/api/v1/access-requests", &ask).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let request: serde_json::Value = response.json().await.unwrap();
    assert_eq!(request["status"], "open");
    assert_eq!(request["kind"], "move");
    assert_eq!(request["holder"]["counter"], "Loket A");
    assert!(request["participant_id"].is_null());
    let rid = request["id"].as_i64().unwrap();
    let answer = format!("/api/v1/access-requests/{rid}/answer");

    // An officer of the holding counter may grant access, not give the case away.
    let response = app
        .api(&token_a)
        .post(&answer, &json!({"accept": true}))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The office's coordinator sees it waiting and declines, with a reason.
    let mine = app
        .api(&coordinator)
        .get_json("/api/v1/access-requests")
        .await;
    assert_eq!(mine["incoming"][0]["id"], rid);
    assert_eq!(mine["incoming"][0]["participant_id"], id);
    let declined = app
        .api(&coordinator)
        .post(
            &answer,
            &json!({"accept": false, "reason": "Masih dalam pendampingan"}),
        )
        .await;
    assert_eq!(declined.status(), StatusCode::OK);
    let theirs = b.get_json("/api/v1/access-requests").await;
    assert_eq!(theirs["outgoing"][0]["status"], "declined");
    assert_eq!(theirs["outgoing"][0]["answer"], "Masih dalam pendampingan");
    assert!(theirs["outgoing"][0]["participant_id"].is_null());
    assert_eq!(
        b.get(&format!("/api/v1/participants/{id}")).await.status(),
        403
    );

    // Asked again and accepted: the case moves to counter B.
    let response = b.post("/api/v1/access-requests", &ask).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let rid: i64 = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let accepted = app
        .api(&coordinator)
        .post(
            &format!("/api/v1/access-requests/{rid}/answer"),
            &json!({"accept": true}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let person = b.get_json(&format!("/api/v1/participants/{id}")).await;
    assert_eq!(person["counter_id"], app.counter_b);
    assert_eq!(
        app.api(&token_a)
            .get(&format!("/api/v1/participants/{id}"))
            .await
            .status(),
        403,
        "the case left counter A"
    );
    let done = actions(app).await;
    assert!(done.iter().any(|a| a == "access_request.decline"));
    assert!(done.iter().any(|a| a == "participant.reassign"));
}

#[tokio::test]
async fn a_move_request_is_answered_by_the_holding_offices_coordinator() {
    on_each_backend!(a_move_is_the_holding_offices_coordinators_to_answer);
}
