use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

async fn post(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn registers_reads_and_finds(app: &TestApp) {
    let (_, token) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let response = post(
        app,
        &token,
        &person_json("3201-0145-0590-0001", "Siti  Aminah"),
    )
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

    let read: Value = app
        .client
        .get(app.url(&format!("/api/v1/participants/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["full_name"], "Siti Aminah");

    let by_nik: Value = app
        .client
        .get(app.url(&format!("/api/v1/participants?nik={NIK}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_nik["items"][0]["id"], id);
    let by_name: Value = app
        .client
        .get(app.url("/api/v1/participants?name=siti%20amin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
    let none: Value = app
        .client
        .get(app.url("/api/v1/participants?nik=3201011203850002"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn an_officer_registers_a_purna_pmi_and_finds_them_by_nik_and_name() {
    on_each_backend!(registers_reads_and_finds);
}

async fn bad_input_is_refused_clearly(app: &TestApp) {
    let (_, token) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    // Wrong NIK: a stable code, the field, both languages.
    let response = post(app, &token, &person_json("320101450590", "Siti")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "nik_invalid");
    assert_eq!(body["error"]["field"], "nik");
    assert!(body["error"]["message"].as_str().unwrap().contains("16"));
    assert!(body["error"]["message_en"].as_str().unwrap().contains("16"));

    // Other fields: validation_failed, listing every field.
    let mut bad = person_json(NIK, "S");
    bad["phone"] = json!("abc");
    let body: Value = post(app, &token, &bad).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["full_name", "phone"]);

    // Malformed JSON, wrong shape, oversize body.
    let response = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"nik\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "bad_request"
    );
    let response = post(app, &token, &json!({"nik": ["x"]})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let huge = json!({"nik": NIK, "full_name": "x".repeat(400_000)});
    let response = post(app, &token, &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );

    // Nothing was stored by any of it.
    assert_eq!(
        loket::participants::store::count(&app.state.db)
            .await
            .unwrap(),
        0
    );

    // One person per NIK.
    assert_eq!(
        post(app, &token, &person_json(NIK, "Siti Aminah"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let response = post(app, &token, &person_json(NIK, "Siti Lain")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "nik_duplicate"
    );
    assert_eq!(
        loket::participants::store::count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    on_each_backend!(bad_input_is_refused_clearly);
}

async fn concurrent_edits_are_detected(app: &TestApp) {
    let (_, token) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let created: Value = post(app, &token, &person_json(NIK, "Siti Aminah"))
        .await
        .json()
        .await
        .unwrap();
    let url = app.url(&format!("/api/v1/participants/{}", created["id"]));

    let response = app
        .client
        .patch(&url)
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"email": "siti@gmail.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["email"], "siti@gmail.com");
    assert_eq!(
        updated["full_name"], "Siti Aminah",
        "fields not in the patch stay"
    );

    // A second officer still holding version 1 must not overwrite the change.
    let response = app
        .client
        .patch(&url)
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"email": "lain@gmail.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "version_conflict"
    );
    let response = app
        .client
        .patch(&url)
        .bearer_auth(&token)
        .json(&json!({"email": "lain@gmail.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    let now: Value = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["email"], "siti@gmail.com");

    // A birth date that disagrees with the NIK is kept and flagged.
    let response = app
        .client
        .patch(&url)
        .bearer_auth(&token)
        .header("If-Match", "2")
        .json(&json!({"birth_date": "1990-06-05"}))
        .send()
        .await
        .unwrap();
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
    let (_, officer_a) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let (_, officer_b) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, auditor) = app.user("auditor", Role::Auditor, None).await;
    let (_, mitra) = app.user("mitra", Role::Mitra, None).await;
    let created: Value = post(app, &officer_a, &person_json(NIK, "Siti Aminah"))
        .await
        .json()
        .await
        .unwrap();
    let url = app.url(&format!("/api/v1/participants/{}", created["id"]));

    // No personal data without authentication.
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth("lkt_forged")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Another counter's officer neither reads nor finds the person.
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&officer_b)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
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
    assert_eq!(found["items"], json!([]));

    // The auditor reads but cannot change; a partner system reaches no officer data.
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let response = app
        .client
        .patch(&url)
        .bearer_auth(&auditor)
        .header("If-Match", "1")
        .json(&json!({"email": "a@b.co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&mitra)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(app, &auditor, &person_json("3201011203850002", "Budi"))
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
    let (_, token) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    assert_eq!(
        post(app, &token, &person_json(NIK, "Siti Aminah"))
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
