use loket::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_api_error, person_json, TestApp};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

async fn registers_reads_and_finds(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let response = api
        .register(&person_json("3201-0145-0590-0001", "Siti  Aminah"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["version"], 1);
    assert_eq!(created["nik"], NIK);
    assert_eq!(created["full_name"], "Siti Aminah");
    assert_eq!(created["phone"], "+6281234567890");
    assert_eq!(created["counter_id"], app.counter_a);
    assert_eq!(created["nik_info"]["regency_name"], "Kabupaten Bogor");
    assert_eq!(created["consent"]["sharing"], true);
    assert_eq!(created["flags"], json!([]));

    let read = api.get_json(&format!("/api/v1/participants/{id}")).await;
    assert_eq!(read["full_name"], "Siti Aminah");

    let by_nik = api
        .get_json(&format!("/api/v1/participants?nik={NIK}"))
        .await;
    assert_eq!(by_nik["items"][0]["id"], id);
    let by_name = api.get_json("/api/v1/participants?name=siti%20amin").await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
    let none = api
        .get_json("/api/v1/participants?nik=3201011203850002")
        .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn an_officer_registers_a_purna_pmi_and_finds_them_by_nik_and_name() {
    on_each_backend!(registers_reads_and_finds);
}

async fn bad_input_is_refused_clearly(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    // Wrong NIK: a stable code, the field, both languages.
    let response = api.register(&person_json("320101450590", "Siti")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "nik_invalid");
    assert_eq!(body["error"]["field"], "nik");
    assert!(body["error"]["message"].as_str().unwrap().contains("16"));
    assert!(body["error"]["message_en"].as_str().unwrap().contains("16"));

    // Other fields: validation_failed, listing every field.
    let mut bad = person_json(NIK, "S");
    bad["phone"] = json!("abc");
    let body: Value = api.register(&bad).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["full_name", "phone"]);

    // Malformed JSON, wrong shape, oversize body.
    let response = api
        .request(Method::POST, "/api/v1/participants")
        .header("content-type", "application/json")
        .body("{\"nik\": ")
        .send()
        .await
        .unwrap();
    assert_api_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
    let response = api.register(&json!({"nik": ["x"]})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let huge = json!({"nik": NIK, "full_name": "x".repeat(400_000)});
    let response = api.register(&huge).await;
    assert_api_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Nothing was stored by any of it.
    assert_eq!(app.participant_count().await, 0);

    // One person per NIK.
    assert_eq!(
        api.register(&person_json(NIK, "Siti Aminah"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let response = api.register(&person_json(NIK, "Siti Lain")).await;
    assert_api_error(response, StatusCode::CONFLICT, "nik_duplicate").await;
    assert_eq!(app.participant_count().await, 1);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    on_each_backend!(bad_input_is_refused_clearly);
}

async fn concurrent_edits_are_detected(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let created: Value = api
        .register(&person_json(NIK, "Siti Aminah"))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/participants/{}", created["id"]);

    let response = api
        .patch(&path, Some("\"1\""), &json!({"email": "siti@gmail.com"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["email"], "siti@gmail.com");
    assert_eq!(
        updated["full_name"], "Siti Aminah",
        "fields not in the patch stay"
    );

    // A second officer still holding version 1 must not overwrite the change.
    let response = api
        .patch(&path, Some("\"1\""), &json!({"email": "lain@gmail.com"}))
        .await;
    assert_api_error(response, StatusCode::CONFLICT, "version_conflict").await;
    let response = api
        .patch(&path, None, &json!({"email": "lain@gmail.com"}))
        .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    let now = api.get_json(&path).await;
    assert_eq!(now["email"], "siti@gmail.com");

    // A birth date that disagrees with the NIK is kept and flagged.
    let response = api
        .patch(&path, Some("2"), &json!({"birth_date": "1990-06-05"}))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["birth_date"], "1990-06-05");
    assert_eq!(body["nik_info"]["birth_date"], "1990-05-05");
    assert_eq!(body["flags"], json!(["birth_date_mismatch"]));
}

#[tokio::test]
async fn concurrent_edits_are_detected_never_silently_lost() {
    on_each_backend!(concurrent_edits_are_detected);
}

async fn scopes_and_authentication(app: &TestApp) {
    let (_, officer_a) = app.officer_a().await;
    let (_, officer_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, auditor) = app.user("auditor", Role::Auditor, None).await;
    let (_, mitra) = app.user("mitra", Role::Mitra, None).await;
    let created: Value = app
        .api(&officer_a)
        .register(&person_json(NIK, "Siti Aminah"))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/participants/{}", created["id"]);

    // No personal data without authentication.
    let anonymous = app.get(&path).await;
    assert_api_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(
        app.api("lkt_forged").get(&path).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Another counter's officer neither reads nor finds the person.
    assert_eq!(
        app.api(&officer_b).get(&path).await.status(),
        StatusCode::FORBIDDEN
    );
    let found = app
        .api(&officer_b)
        .get_json(&format!("/api/v1/participants?nik={NIK}"))
        .await;
    assert_eq!(found["items"], json!([]));

    // The auditor reads but cannot change; a partner system reaches no officer data.
    let auditor = app.api(&auditor);
    assert_eq!(auditor.get(&path).await.status(), StatusCode::OK);
    let response = auditor
        .patch(&path, Some("1"), &json!({"email": "a@b.co"}))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(&mitra).get(&path).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        auditor
            .register(&person_json("3201011203850002", "Budi"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_officer_sees_only_their_own_counters_people() {
    on_each_backend!(scopes_and_authentication);
}

async fn personal_data_is_encrypted_at_rest(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    assert_eq!(
        app.api(&token)
            .register(&person_json(NIK, "Siti Aminah"))
            .await
            .status(),
        StatusCode::CREATED
    );
    type Sealed = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);
    let rows: Vec<Sealed> = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_as("SELECT nik_enc, nik_index, kk_enc, phone_enc FROM participants")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    let (nik_enc, nik_index, kk_enc, phone_enc) = rows.into_iter().next().unwrap();
    for (bytes, secret) in [
        (&nik_enc, NIK),
        (&nik_index, NIK),
        (&kk_enc.unwrap(), "3201010101010001"),
        (&phone_enc.unwrap(), "6281234567890"),
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} visible at rest"
        );
    }
    // No text column holds them either.
    let text: String = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "SELECT full_name || coalesce(email, '') || coalesce(address, '') FROM participants",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert!(!text.contains(NIK));
}

#[tokio::test]
async fn nik_kk_and_phone_are_encrypted_at_rest() {
    on_each_backend!(personal_data_is_encrypted_at_rest);
}
