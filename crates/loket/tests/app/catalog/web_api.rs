//! The catalogue API: search with filters and counts, stable errors, recommendations with
//! reasons for a participant in scope, and the OpenAPI document.

use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn count_of(facet: &Value, value: &str) -> u64 {
    facet
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == value)
        .map(|v| v["count"].as_u64().unwrap())
        .unwrap()
}

async fn an_officer_searches_and_gets_explained_suggestions(app: &TestApp) {
    loket::catalog::demo::seed(&app.state.db).await.unwrap();
    let (_, officer) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    let (_, other) = app
        .user("petugas.b", Role::Petugas, Some(app.counter_b))
        .await;
    let (_, partner) = app.user("mitra", Role::Mitra, None).await;

    // Affixed forms reach the same trainings; the filters come with counts per value.
    let (status, found) = get(app, &officer, "/api/v1/catalog/trainings?q=penjahit").await;
    assert_eq!(status, StatusCode::OK);
    let total = found["total"].as_u64().unwrap();
    assert!(total >= 20, "{total}");
    let (_, jahitan) = get(app, &officer, "/api/v1/catalog/trainings?q=jahitan").await;
    assert_eq!(jahitan["total"], total);
    assert!(found["items"][0]["title"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("jahit"));
    let offline = count_of(&found["facets"]["mode"], "offline");
    let (_, filtered) = get(
        app,
        &officer,
        "/api/v1/catalog/trainings?q=penjahit&mode=offline&max_price=3500000",
    )
    .await;
    assert!(filtered["total"].as_u64().unwrap() <= offline);
    for item in filtered["items"].as_array().unwrap() {
        assert_eq!(item["mode"], "offline");
        assert!(item["best_offer"]["price"].as_i64().unwrap() <= 3_500_000);
    }
    // The count shown next to the chosen value is the number of results; the other values
    // keep their counts (the mode filter is left out when counting modes).
    assert_eq!(
        count_of(&filtered["facets"]["mode"], "offline"),
        filtered["total"].as_u64().unwrap()
    );
    assert!(count_of(&filtered["facets"]["mode"], "online") > 0);

    // A typo is understood and said so.
    let (_, typo) = get(app, &officer, "/api/v1/catalog/trainings?q=menjhait").await;
    assert_eq!(typo["understood"][0]["how"], "typo");
    assert_eq!(typo["total"], total);

    // Unknown filter values are a stable 422, never a 500.
    let (status, err) = get(
        app,
        &officer,
        "/api/v1/catalog/trainings?mode=kadang&platform=shopee",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "validation_failed");
    assert_eq!(err["error"]["fields"].as_array().unwrap().len(), 2);

    // Partners may read the catalogue (it holds no personal data).
    let (status, _) = get(app, &partner, "/api/v1/catalog/trainings?q=barista").await;
    assert_eq!(status, StatusCode::OK);
    let id = found["items"][0]["id"].as_i64().unwrap();
    let (status, one) = get(app, &partner, &format!("/api/v1/catalog/trainings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!one["offers"].as_array().unwrap().is_empty());

    // A caregiver back from Taiwan who needs full help with a phone.
    let mut body = person_json("3201014505900001", "Siti Aminah");
    body["training_interests"] = "perawat lansia".into();
    body["digital_literacy"] = "needs_full_help".into();
    let created: Value = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(&officer)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = created["id"].as_i64().unwrap();
    let (status, rec) = get(
        app,
        &officer,
        &format!("/api/v1/participants/{pid}/recommendations?balance=1.000.000"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec["balance"], 1_000_000);
    let items = rec["items"].as_array().unwrap();
    assert!(items.len() >= 5, "{rec}");
    for item in items {
        assert!(item["offer"]["price"].as_i64().unwrap() <= 1_000_000);
        let reasons: Vec<&str> = item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap())
            .collect();
        assert!(reasons.iter().all(|r| !r.is_empty()));
        assert!(
            reasons.iter().any(|r| r.starts_with("karena")),
            "{reasons:?}"
        );
    }
    let all_reasons = rec.to_string();
    assert!(all_reasons.contains("karena pernah bekerja sebagai perawat/pengasuh di Taiwan"));
    assert!(all_reasons.contains("karena berminat pada perawat lansia"));
    // Someone who needs full help is steered to in-person or blended classes first.
    let first_modes: Vec<&str> = items
        .iter()
        .take(3)
        .map(|i| i["training"]["mode"].as_str().unwrap())
        .collect();
    assert!(
        first_modes.iter().all(|m| *m != "online"),
        "{first_modes:?}"
    );
    let top_topic_words = items[0]["training"]["title"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        ["lansia", "caregiver", "orang tua"]
            .iter()
            .any(|w| top_topic_words.contains(w)),
        "{top_topic_words}"
    );

    // Another counter's officer does not reach this person; a bad balance is a 422.
    let (status, _) = get(
        app,
        &other,
        &format!("/api/v1/participants/{pid}/recommendations"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, err) = get(
        app,
        &officer,
        &format!("/api/v1/participants/{pid}/recommendations?balance=banyak"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "balance");

    // The routes are in the OpenAPI document.
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/catalog/trainings",
        "/api/v1/catalog/trainings/{id}",
        "/api/v1/participants/{id}/recommendations",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn catalogue_api() {
    on_each_backend!(an_officer_searches_and_gets_explained_suggestions);
}
