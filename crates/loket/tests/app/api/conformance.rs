//! The OpenAPI document is the truth: schemathesis (the Python tool) sends every operation what
//! the document allows and what it forbids, with all its checks, on each backend; any answer
//! the document does not describe fails the run. `.ci/run` installs a pinned schemathesis in a
//! venv and names it in `LOKET_TEST_SCHEMATHESIS`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use loket::auth::Role;

use crate::common::{required, TestApp};
use crate::on_each_backend;

/// Test cases per operation and phase: enough to meet every documented status, small enough
/// to run in about a minute per backend on two busy cores.
const MAX_EXAMPLES: &str = "30";
/// A fixed seed: a failure in CI is the same failure on a developer's machine.
const SEED: &str = "20261129";

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schemathesis program: `LOKET_TEST_SCHEMATHESIS`, else the venv `.ci/run` makes.
fn schemathesis() -> Option<PathBuf> {
    let program = std::env::var_os("LOKET_TEST_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../target/venv-schemathesis/bin/schemathesis"));
    if program.is_file() {
        return Some(program);
    }
    assert!(
        !required("schemathesis"),
        "LOKET_TEST_REQUIRE includes schemathesis but {} is not there (.ci/run installs it)",
        program.display()
    );
    eprintln!(
        "notice: schemathesis run skipped: {} not found (set LOKET_TEST_SCHEMATHESIS or run .ci/run)",
        program.display()
    );
    None
}

/// An admin token for every operation, a partner token for the exchange, and a few people so
/// that small ids name real records.
async fn tokens_and_people(app: &TestApp) -> (String, String) {
    let (_, admin) = app.user("admin.st", Role::Admin, None).await;
    let (partner, _) = app.user("mitra.st", Role::Mitra, None).await;
    let grant = [loket::access::GRANT_EXCHANGE.to_string()];
    let partner = loket::auth::store::create_token(&app.state.db, partner, "st", &grant, None)
        .await
        .unwrap();
    let (_, officer) = app.officer_a().await;
    let api = app.api(&officer);
    for (nik, name) in [
        ("3201014505900001", "Siti Aminah"),
        ("3201014505900002", "Dewi Lestari"),
        ("3201010505900003", "Budi Santoso"),
    ] {
        api.register_person(nik, name).await;
    }
    (admin, partner)
}

/// What schemathesis printed: the whole output on failure, its summary otherwise.
fn report(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        text.lines()
            .filter(|l| l.contains("Operations:") || l.contains("generated") || l.contains(" in "))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        text
    }
}

async fn schemathesis_finds_nothing(app: &TestApp) {
    let program = schemathesis().expect("the test checked it is there");
    let (admin, partner) = tokens_and_people(app).await;
    let schema = app.url("/api/openapi.json");
    let config = crate_dir().join("tests/conformance/schemathesis.toml");
    // Its reports and caches go into a folder of their own, not the source tree.
    let workdir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(&program);
    command
        .current_dir(workdir.path())
        .env("LOKET_ST_ADMIN_TOKEN", admin)
        .env("LOKET_ST_PARTNER_TOKEN", partner)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &schema, "--checks", "all", "--workers", "2"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--generation-database", "none", "--request-timeout", "20"])
        .arg("--no-color");
    let started = Instant::now();
    // The server runs on this test's runtime, so the wait is on a blocking thread.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run schemathesis");
    let summary = report(&output);
    assert!(
        output.status.success(),
        "schemathesis found answers the OpenAPI document does not describe on {:?}:\n{summary}",
        app.backend
    );
    eprintln!(
        "schemathesis on {:?}: {:.0?}\n{summary}",
        app.backend,
        started.elapsed()
    );
}

#[tokio::test]
async fn schemathesis_finds_no_answer_the_openapi_document_does_not_describe() {
    if schemathesis().is_none() {
        return;
    }
    on_each_backend!(schemathesis_finds_nothing);
}

/// Every operation of the document, as (method, path, operation).
fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let paths = doc["paths"].as_object().unwrap();
    let mut found = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    found
}

fn parameter<'a>(operation: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    operation["parameters"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

async fn the_document_says_where_parameters_go_and_what_may_come_back(app: &TestApp) {
    let doc = app.get_json("/api/openapi.json").await;
    let mut operation_count = 0;
    for (method, path, operation) in operations(&doc) {
        operation_count += 1;
        let statuses = operation["responses"].as_object().unwrap();
        let documents = |status: &str| {
            assert_eq!(
                statuses
                    .get(status)
                    .map(|r| &r["content"]["application/json"]["schema"]["$ref"]),
                Some(&serde_json::json!("#/components/schemas/ErrorBody")),
                "{method} {path} does not document its {status} error"
            );
        };
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in &params {
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap();
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: `{name}` is declared in the path but is not in it"
                );
            }
        }
        if operation["security"].is_array() {
            documents("401");
            documents("403");
        }
        if params.iter().any(|p| p["in"] == "path") {
            documents("404");
            documents("422");
        }
        if params.iter().any(|p| p["in"] == "query") {
            documents("422");
        }
        if operation["requestBody"].is_object() {
            documents("400");
            documents("422");
        }
    }
    assert_eq!(operation_count, 54);

    // Query parameters are in the query, optional where the handler has a default.
    let search = &doc["paths"]["/api/v1/participants"]["get"];
    for name in ["nik", "name", "limit"] {
        assert_eq!(parameter(search, name)["in"], "query", "{name}");
        assert_ne!(parameter(search, name)["required"], true, "{name}");
    }
    let eligibility = &doc["paths"]["/api/v1/participants/{id}/journey/eligibility"]["get"];
    assert_eq!(parameter(eligibility, "batch")["in"], "query");
    assert_eq!(parameter(eligibility, "batch")["required"], true);
    // A change names its version in If-Match or in `?version=`: neither alone is required.
    for (path, method) in [
        ("/api/v1/participants/{id}", "patch"),
        ("/api/v1/participants/{id}/reassign", "post"),
    ] {
        let change = &doc["paths"][path][method];
        assert_eq!(parameter(change, "If-Match")["in"], "header");
        assert_ne!(parameter(change, "If-Match")["required"], true, "{path}");
        assert_eq!(parameter(change, "version")["in"], "query");
        assert!(change["responses"]["428"].is_object(), "{path}");
    }
    // Closed lists are enums in requests.
    let status = &doc["components"]["schemas"]["StatusChange"]["properties"]["status"];
    let codes = doc["components"]["schemas"]["CounterStatus"]["enum"].clone();
    assert_eq!(status["$ref"], "#/components/schemas/CounterStatus");
    assert!(codes
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("operating")));
}

#[tokio::test]
async fn the_openapi_document_puts_parameters_where_they_go_and_lists_every_error() {
    on_each_backend!(the_document_says_where_parameters_go_and_what_may_come_back);
}

/// A field error naming `field` with `code`, in both languages.
async fn assert_parameter_error(response: reqwest::Response, field: &str, code: &str) {
    assert_eq!(response.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], "validation_failed", "{body}");
    assert_eq!(error["field"], field, "{body}");
    assert_eq!(error["fields"][0]["code"], code, "{body}");
    let (id, en) = (
        error["message"].as_str().unwrap(),
        error["message_en"].as_str().unwrap(),
    );
    assert!(
        id.contains(&format!("`{field}`")) && en.contains(&format!("`{field}`")),
        "{body}"
    );
    assert_ne!(id, en);
}

async fn bad_path_and_query_values_answer_in_the_api_error_shape(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let id = api.register_person("3201014505900001", "Siti Aminah").await;

    let response = api.get("/api/v1/participants/abc").await;
    assert_parameter_error(response, "id", "path_invalid").await;
    // A number too large for an id is no id either.
    let response = api.get("/api/v1/officers/9223372036854775808").await;
    assert_parameter_error(response, "id", "path_invalid").await;
    // The second of two path values is named by its own name.
    let path = format!("/api/v1/participants/{id}/journey/events/satu/correction");
    let response = api
        .post(&path, &serde_json::json!({"void": true, "reason": "salah"}))
        .await;
    assert_parameter_error(response, "event_id", "path_invalid").await;

    let response = api.get("/api/v1/participants?name=Siti&limit=dua").await;
    assert_parameter_error(response, "limit", "query_invalid").await;
    let response = api.get("/api/v1/journey/funnel?from=2021-13-45").await;
    assert_parameter_error(response, "from", "query_invalid").await;
    // A missing required parameter is a fault of the query as a whole.
    let path = format!("/api/v1/participants/{id}/journey/eligibility");
    assert_parameter_error(api.get(&path).await, "query", "query_invalid").await;

    // Good values still reach the handler.
    let found = api.get_json("/api/v1/participants?name=Siti&limit=5").await;
    assert_eq!(found["items"][0]["full_name"], "Siti Aminah");
}

#[tokio::test]
async fn a_bad_path_or_query_value_answers_the_api_error_shape_naming_the_parameter() {
    on_each_backend!(bad_path_and_query_values_answer_in_the_api_error_shape);
}
