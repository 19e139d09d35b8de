//! Redirect targets from a request (`/lang/..?back=`, the login form's `next`) stay on this
//! site and never answer 500: anything but a plain path of this site goes to `/`.

use reqwest::StatusCode;

use crate::common::{cookie_client, login_form, TestApp, PASSWORD};
use crate::on_each_backend;

/// The cases, as sent in a URL (percent-encoded) and what the browser must land on.
const TARGETS: &[(&str, &str)] = &[
    ("/%09/evil.example", "/"),
    ("/%5Ct/evil.example", "/"),
    ("//evil.example", "/"),
    ("/%0a/x", "/"),
    ("/%0d%0aSet-Cookie:%20x=1", "/"),
    ("/%5Cevil.example", "/"),
    ("/%5C%5Cevil.example", "/"),
    ("%5C%5Cevil.example", "/"),
    ("https://evil.example/", "/"),
    ("/participants%3Fq%3Dsiti", "/participants?q=siti"),
];

async fn redirects_stay_home(app: &TestApp) {
    app.officer_a().await;
    for (back, expected) in TARGETS {
        let response = app.get(&format!("/lang/en?back={back}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "back={back}");
        assert_eq!(response.headers()["location"], *expected, "back={back}");
    }
    // The login form keeps only a safe `next`, and signing in goes only there.
    for (next, expected) in TARGETS {
        let client = cookie_client();
        let form = client
            .get(app.url(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK, "next={next}");
        let page = form.text().await.unwrap();
        let kept = format!("name=\"next\" value=\"{expected}\"");
        assert!(page.contains(&kept), "next={next}: {page}");
        let (cookie, token) = login_form(&client, app).await;
        let raw_next = url::form_urlencoded::parse(format!("n={next}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let signed_in = client
            .post(app.url("/login"))
            .header("cookie", cookie)
            .form(&[
                ("username", "petugas.a"),
                ("password", PASSWORD),
                ("csrf", token.as_str()),
                ("next", raw_next.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(signed_in.headers()["location"], *expected, "next={next}");
    }
}

#[tokio::test]
async fn redirect_targets_stay_on_this_site_and_never_fail() {
    on_each_backend!(redirects_stay_home);
}
