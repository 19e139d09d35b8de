//! Signing in and what a signed-in browser keeps: `no-store` on every answer with personal
//! data, HSTS over HTTPS, a throttle that holds under concurrent attempts, the login form's
//! own CSRF token, and state-changing posts from other sites refused.

use reqwest::StatusCode;

use crate::common::{
    assert_page_says, cookie_client, login_form, post_login, spawn_app_with, Backend, TestApp,
    PASSWORD,
};
use crate::on_each_backend;

fn cache_control(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

async fn nothing_personal_is_cached(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let id = api.register_person("3201014505900001", "Siti Aminah").await;
    let record = api.get(&format!("/api/v1/participants/{id}")).await;
    assert_eq!(record.status(), StatusCode::OK);
    assert_eq!(
        cache_control(&record),
        "no-store",
        "the API answer with her NIK"
    );
    let session = app.session("petugas.a").await;
    let page = session.get(&format!("/participants/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(cache_control(&page), "no-store", "her page");
    assert!(page.text().await.unwrap().contains("Siti Aminah"));
    let login = app.get("/login").await;
    assert_eq!(
        cache_control(&login),
        "no-store",
        "the login form carries a token"
    );
    let css = app.get("/static/app.css").await;
    assert!(
        cache_control(&css).starts_with("public"),
        "the stylesheet may be cached"
    );
    assert!(
        record.headers().get("strict-transport-security").is_none(),
        "no HSTS unless served over HTTPS"
    );
}

#[tokio::test]
async fn answers_with_personal_data_are_not_kept_in_caches() {
    on_each_backend!(nothing_personal_is_cached);
}

#[tokio::test]
async fn over_https_browsers_are_told_to_stay_on_https() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.secure_cookies = true).await;
    let response = app.get("/login").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    app.cleanup().await;
}

async fn sixty_parallel_guesses(app: &TestApp) {
    app.officer_a().await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..60 {
        let client = cookie_client();
        let (base, cookie, token) = {
            let (cookie, token) = login_form(&client, app).await;
            (app.url("/login"), cookie, token)
        };
        guesses.spawn(async move {
            client
                .post(base)
                .header("cookie", cookie)
                .form(&[
                    ("username", "petugas.a"),
                    ("password", format!("tebakan-{i}-salah").as_str()),
                    ("csrf", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let mut judged = 0;
    while let Some(status) = guesses.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => judged += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        judged <= loket::auth::store::MAX_FAILURES_PER_ACCOUNT,
        "{judged} of 60 concurrent guesses were judged"
    );
    let response = post_login(&app.client, app, "petugas.a", PASSWORD).await;
    assert_page_says(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "Terlalu banyak percobaan",
    )
    .await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_sign_in_throttle() {
    on_each_backend!(sixty_parallel_guesses);
}

async fn login_forms_and_posts_from_other_sites(app: &TestApp) {
    app.officer_a().await;
    // Login CSRF: a form without this browser's token signs nobody in.
    let forged = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "petugas.a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(forged.headers().get("set-cookie").is_none(), "no session");
    assert_page_says(forged, StatusCode::FORBIDDEN, "Formulir kedaluwarsa").await;
    let client = cookie_client();
    let (_, token) = login_form(&client, app).await;
    let other_browser = cookie_client();
    let (cookie, _) = login_form(&other_browser, app).await;
    let mismatched = app
        .client
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&[
            ("username", "petugas.a"),
            ("password", PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        mismatched.status(),
        StatusCode::FORBIDDEN,
        "another browser's token"
    );

    // A signed-in officer's browser posting from another site's page is refused.
    let session = app.session("petugas.a").await;
    let cross = session
        .client
        .post(app.url("/logout"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", session.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_page_says(cross, StatusCode::FORBIDDEN, "dikirim dari situs lain").await;
    let api = session
        .client
        .post(app.url("/api/v1/participants"))
        .header("origin", "null")
        .json(&crate::common::person_json(
            "3201014505900001",
            "Siti Aminah",
        ))
        .send()
        .await
        .unwrap();
    crate::common::assert_api_error(api, StatusCode::FORBIDDEN, "cross_origin").await;
    assert_eq!(app.participant_count().await, 0);
    assert_eq!(
        session.get("/participants").await.status(),
        StatusCode::OK,
        "still signed in"
    );
    // From its own pages (the browser names this site), the same post goes through.
    let own = session
        .client
        .post(app.url("/logout"))
        .header("origin", app.base.as_str())
        .form(&[("csrf", session.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(own.headers()["location"], "/login");
}

#[tokio::test]
async fn login_forms_need_their_token_and_other_sites_cannot_post() {
    on_each_backend!(login_forms_and_posts_from_other_sites);
}
