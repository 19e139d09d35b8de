//! The officer pages over plain HTTP forms: search with filters, training and institution pages,
//! the printable suggestion list, and withdrawing a training with a stale-version guard.

use loket::auth::Role;
use reqwest::StatusCode;

use crate::common::{person_json, sign_in, TestApp};
use crate::on_each_backend;

/// Pages must stay light for slow connections.
const PAGE_LIMIT: usize = 60 * 1024;

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(body.len() < PAGE_LIMIT, "{path} is {} bytes", body.len());
    (status, body)
}

fn first_link(body: &str, prefix: &str) -> String {
    let start = body.find(prefix).unwrap();
    body[start..].split('"').next().unwrap().to_string()
}

async fn an_officer_finds_training_and_prints_suggestions(app: &TestApp) {
    loket::catalog::demo::seed(&app.state.db).await.unwrap();
    app.user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    app.user("admin", Role::Admin, None).await;
    let (officer, _) = sign_in(app, "petugas.a").await;

    // Search in Indonesian with filters; every page under 60 KB.
    let (status, body) = page(&officer, app, "/catalog?q=perawat+lansia&mode=offline").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"results\""));
    assert!(body.to_lowercase().contains("lansia"));
    assert!(body.contains("<option value=\"offline\" selected>"));
    assert!(body.contains("id=\"next\"") || body.contains("id=\"total\""));
    let (status, body) = page(&officer, app, "/catalog?q=zzzqqq").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"no-results\""));
    // A bad filter value is explained on the page, not a server error.
    let (status, body) = page(&officer, app, "/catalog?max_price=murah").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("role=\"alert\""));

    // Training detail and institution pages.
    let (_, body) = page(&officer, app, "/catalog?q=barista").await;
    let training = first_link(&body, "/catalog/trainings/");
    let (status, detail) = page(&officer, app, &training).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("id=\"training-title\""));
    assert!(detail.contains("Rp"));
    assert!(
        !detail.contains("/status\""),
        "officers cannot withdraw trainings"
    );
    let institution = first_link(&detail, "/catalog/institutions/");
    let (status, inst) = page(&officer, app, &institution).await;
    assert_eq!(status, StatusCode::OK);
    assert!(inst.contains("id=\"institution-name\""));

    // From a participant's page to the printable list of suggestions.
    let token = loket::auth::store::create_token(
        &app.state.db,
        loket::auth::store::user_by_username(&app.state.db, "petugas.a")
            .await
            .unwrap()
            .unwrap()
            .id,
        "t",
        &[],
        None,
    )
    .await
    .unwrap();
    let mut body = person_json("3201014505900001", "Siti Aminah");
    body["destination_country"] = "HK".into();
    body["job_sector"] = "domestic_worker".into();
    body["training_interests"] = "menjahit, usaha kue".into();
    let created: serde_json::Value = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = created["id"].as_i64().unwrap();
    let (_, person) = page(&officer, app, &format!("/participants/{pid}")).await;
    assert!(person.contains(&format!("href=\"/participants/{pid}/recommendations\"")));
    let (status, list) = page(
        &officer,
        app,
        &format!("/participants/{pid}/recommendations"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Siti Aminah"));
    assert!(list.contains("Rp3.500.000"));
    assert!(list.contains("karena berminat pada menjahit"), "{list}");
    assert!(list.contains("karena pernah bekerja sebagai pekerja rumah tangga di Hong Kong"));
    let (status, _) = page(
        &officer,
        app,
        &format!("/participants/{pid}/recommendations?balance=abc"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // An admin withdraws a training; a second form with the old version is refused.
    let (admin, csrf) = sign_in(app, "admin").await;
    let (_, detail) = page(&admin, app, &training).await;
    let version = detail
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("status", "withdrawn"),
    ];
    let response = admin
        .post(app.url(&format!("{training}/status")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, detail) = page(&admin, app, &training).await;
    assert!(detail.contains("id=\"withdrawn\""));
    let stale = admin
        .post(app.url(&format!("{training}/status")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(stale
        .text()
        .await
        .unwrap()
        .contains("baru saja diubah orang lain"));
    // The withdrawn training no longer turns up in a search.
    let (_, results) = page(&officer, app, "/catalog?q=barista").await;
    assert!(!results.contains(&format!("href=\"{training}\"")));
    // Officers may not change the catalogue, even with a valid form token.
    let (officer, officer_csrf) = sign_in(app, "petugas.a").await;
    let refused = officer
        .post(app.url(&format!("{training}/status")))
        .form(&[
            ("csrf", officer_csrf.as_str()),
            ("version", "2"),
            ("status", "active"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn catalogue_pages() {
    on_each_backend!(an_officer_finds_training_and_prints_suggestions);
}
