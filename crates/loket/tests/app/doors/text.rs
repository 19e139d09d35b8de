//! Control and invisible characters (NUL, other control characters, bidi overrides,
//! zero-width characters) are refused in any text with a field error in the person's
//! language, the same on SQLite and PostgreSQL (where a NUL answered 500).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

/// The API's refusal: 422 with `text_invalid` on `field`.
async fn assert_refused_field(response: reqwest::Response, field: &str) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["code"], "text_invalid", "{body}");
    assert_eq!(body["error"]["field"], field, "{body}");
    let (id, en) = (
        body["error"]["message"].as_str().unwrap(),
        body["error"]["message_en"].as_str().unwrap(),
    );
    assert!(
        id.contains("karakter kontrol") && en.contains("control"),
        "{body}"
    );
}

async fn invisible_and_control_characters_are_refused(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    for (name, code_point) in [
        ("Siti\u{0}Aminah", "U+0000"),
        ("Siti \u{202E}hanimA", "U+202E"),
        ("Si\u{200B}ti Aminah", "U+200B"),
        ("\u{FEFF}Siti Aminah", "U+FEFF"),
        ("Siti\u{1b}[2J", "U+001B"),
    ] {
        let response = api.register(&person_json("3201014505900001", name)).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], "full_name", "{name:?}");
        assert!(body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains(code_point));
    }
    assert_eq!(app.participant_count().await, 0);
    let search = api.get("/api/v1/participants?name=%00").await;
    assert_refused_field(search, "name").await;

    // Lines in a note stay allowed.
    let id = api.register_person("3201014505900001", "Siti Aminah").await;
    let consent = json!({"processing": true, "sharing": false, "method": "paper_form",
                         "note": "baris satu\nbaris dua"});
    let response = api
        .post(&format!("/api/v1/participants/{id}/consents"), &consent)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let consent = json!({"processing": true, "sharing": false, "method": "paper_form",
                         "note": "catatan\u{2066}tersembunyi"});
    let response = api
        .post(&format!("/api/v1/participants/{id}/consents"), &consent)
        .await;
    assert_refused_field(response, "note").await;

    // Pages and the unauthenticated login form: a page in the person's language.
    let session = app.session("petugas.a").await;
    let page = session.get("/participants?q=%00").await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().await.unwrap().contains("karakter kontrol"));
    let login = app
        .client
        .post(app.url("/login"))
        .header("cookie", "lang=en")
        .form(&[("username", "petugas\u{0}.a"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = login.text().await.unwrap();
    assert!(
        text.contains("control or invisible character (U+0000)"),
        "{text}"
    );
}

#[tokio::test]
async fn control_and_invisible_characters_are_refused_as_field_errors_on_both_backends() {
    on_each_backend!(invisible_and_control_characters_are_refused);
}
