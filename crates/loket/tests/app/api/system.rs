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
