use reqwest::StatusCode;

use crate::common::{assert_api_error, assert_page_says, TestApp};
use crate::on_each_backend;

async fn health_and_openapi(app: &TestApp) {
    let health = app.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let doc = app.get_json("/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Every API route of the router is described.
    for (path, methods) in [
        ("/healthz", &["get"][..]),
        ("/api/v1/participants", &["get", "post"]),
        ("/api/v1/participants/{id}", &["get", "patch"]),
    ] {
        for m in methods {
            assert!(
                doc["paths"][path][m].is_object(),
                "{m} {path} missing from the OpenAPI document"
            );
        }
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // Unknown API paths answer in the API's error format; pages answer with a page.
    let response = app.get("/api/v1/nothing").await;
    assert_api_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.get("/nothing").await;
    assert_page_says(response, StatusCode::NOT_FOUND, "Data tidak ditemukan").await;
}

#[tokio::test]
async fn health_and_the_openapi_document_describe_the_api() {
    on_each_backend!(health_and_openapi);
}

#[tokio::test]
async fn migrations_are_the_same_list_on_both_backends() {
    let (sqlite, postgres) = loket::db::migration_versions();
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn security_headers_are_set_on_every_response() {
    let app = crate::common::spawn_app(crate::common::Backend::Sqlite).await;
    let response = app.get("/login").await;
    let h = response.headers();
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    app.cleanup().await;
}

/// One request id from the edge to the answer, the error page and the audit entry.
async fn request_id_follows_the_request(app: &TestApp) {
    // A sane id from the caller is kept and answered; the error page shows it.
    let response = app
        .client
        .get(app.url("/tidak-ada"))
        .header("X-Request-Id", "loket-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "loket-test-42");
    let page = response.text().await.unwrap();
    assert!(page.contains("Kode permintaan loket-test-42"), "{page}");

    // A strange one is replaced by a fresh id, still answered.
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "<script>")
        .send()
        .await
        .unwrap();
    let fresh = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(fresh.len(), 16, "{fresh}");

    // The id of an audited request is the one in its audit entry.
    let (_, token) = app.officer_a().await;
    let id = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let response = app
        .api(&token)
        .request(reqwest::Method::GET, &format!("/api/v1/participants/{id}"))
        .header("X-Request-Id", "lihat-data-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, audit_token) = app
        .user("auditor.id", loket::auth::Role::Auditor, None)
        .await;
    let entries = app
        .api(&audit_token)
        .get_json(&format!(
            "/api/v1/audit?participant_id={id}&action=participant.view"
        ))
        .await;
    let ids: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(ids.contains(&"lihat-data-7".to_string()), "{ids:?}");
}

#[tokio::test]
async fn a_request_id_is_answered_shown_and_audited() {
    on_each_backend!(request_id_follows_the_request);
}
