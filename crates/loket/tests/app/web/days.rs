//! Each role's day without a dead end, a story per defect found on the walk: lists that open on
//! the person's own scope and offer the others by name, a dashboard that says when it cannot
//! project and links up from a counter, an audit log in words.

use loket::auth::Role;
use reqwest::StatusCode;

use crate::common::TestApp;
use crate::on_each_backend;

/// The `<option>` a page has selected, as `value">label`.
fn selected(page: &str) -> Vec<String> {
    page.split("<option value=\"")
        .skip(1)
        .filter(|o| o.split('>').next().unwrap_or("").contains(" selected"))
        .map(|o| {
            let value = o.split('"').next().unwrap();
            let label = o.split('>').nth(1).unwrap().split('<').next().unwrap();
            format!("{value}\">{label}")
        })
        .collect()
}

async fn lists_open_on_the_persons_own_scope(app: &TestApp) {
    app.officer_a().await;
    app.user("koordinator.a", Role::Koordinator, None).await;
    app.user("pusat", Role::Admin, None).await;
    app.user("pemeriksa", Role::Auditor, None).await;
    let (a, b) = (app.counter_a, app.counter_b);

    // The coordinator's follow-up list opens on their office's counter, named.
    let coordinator = app.session("koordinator.a").await;
    let response = coordinator.get("/journey/follow-up").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert_eq!(selected(&page), [format!("{a}\">Loket A")]);
    assert!(page.contains("id=\"nobody\""), "{page}");
    assert!(
        !page.contains("Loket B"),
        "another office's counter is not offered"
    );
    // Their funnel opens on their office, and offers its counters.
    let page = coordinator.page("/journey/funnel").await;
    let office = app.office_a;
    assert_eq!(selected(&page), [format!("office:{office}\">BP3MI A")]);
    assert!(page.contains(&format!("value=\"counter:{a}\">Loket A")));

    // Head office picks a counter by name; nothing is wrong yet.
    let admin = app.session("pusat").await;
    let response = admin.get("/journey/follow-up").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Pilih loket untuk melihat daftar tindak lanjutnya."));
    assert!(page.contains(&format!(
        "<optgroup label=\"BP3MI B\"><option value=\"{b}\">Loket B"
    )));
    let page = admin.page(&format!("/journey/follow-up?counter={b}")).await;
    assert_eq!(selected(&page), [format!("{b}\">Loket B")]);

    // The officer's funnel is their counter's (the nation is not theirs to see).
    let officer = app.session("petugas.a").await;
    let response = officer.get("/journey/funnel").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        selected(&response.text().await.unwrap()),
        [format!("counter:{a}\">Loket A")]
    );

    // The auditor's funnel is national, with provinces by name; the follow-up list (not an
    // auditor's work) is not in their menu.
    let auditor = app.session("pemeriksa").await;
    let page = auditor.page("/journey/funnel").await;
    assert_eq!(selected(&page), ["nation\">Nasional".to_string()]);
    assert!(page.contains("value=\"province:35\">Jawa Timur"), "{page}");
    assert!(!page.contains("href=\"/journey/follow-up\""));
}

#[tokio::test]
async fn follow_up_and_funnel_open_on_the_persons_own_scope_with_names() {
    on_each_backend!(lists_open_on_the_persons_own_scope);
}

async fn dashboard_says_what_it_cannot_project(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let (_, pusat) = app.user("pusat", Role::Admin, None).await;
    // The seeded 110,000 count card recipients; the registrations target is set here.
    let set = app
        .api(&pusat)
        .request(reqwest::Method::PUT, "/api/v1/targets")
        .json(&serde_json::json!({"metric": "reached", "definition": "registered", "scope": "national", "period_end": "2099-12-31", "value": 110000}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    // Two people in four weeks: under one a week, too few to project the national target.
    let api = app.api(&token);
    api.register_person("3201014505900001", "Siti Aminah").await;
    api.register_person("3201014505900002", "Sri Wahyuni").await;
    let admin = app.session("pusat").await;
    let page = admin.page("/dashboard").await;
    assert!(
        page.contains("Belum dapat diproyeksikan: laju di bawah satu orang per minggu"),
        "{page}"
    );
    // Charts speak the page's language and write dates as people do.
    assert!(!page.contains(": operating ") && !page.contains(": reached "));
    assert!(page.contains("terjangkau 2"), "{page}");

    // A counter's dashboard links up to its office, province and the nation, by name.
    let page = admin.page("/dashboard?scope=counter%3AA-01").await;
    let crumbs = page.split("id=\"crumbs\"").nth(1).unwrap();
    let crumbs = crumbs.split("</nav>").next().unwrap();
    for (scope, name) in [
        ("national", "Nasional"),
        ("province%3A32", "Jawa Barat"),
        ("office%3AUPT-A", "BP3MI A"),
    ] {
        assert!(
            crumbs.contains(&format!("scope={scope}&amp;")) && crumbs.contains(name),
            "{crumbs}"
        );
    }
    assert!(crumbs.contains("<strong id=\"scope-name\">Loket A</strong>"));
}

#[tokio::test]
async fn the_dashboard_says_when_it_cannot_project_and_links_up_from_a_counter() {
    on_each_backend!(dashboard_says_what_it_cannot_project);
}

async fn audit_log_in_words(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    app.user("pemeriksa", Role::Auditor, None).await;
    let id = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let officer = app.session("petugas.a").await;
    officer.page(&format!("/participants/{id}")).await;
    let auditor = app.session("pemeriksa").await;
    let page = auditor.page("/audit").await;
    let table = page.split("id=\"audit-table\"").nth(1).unwrap();
    assert!(table.contains("melihat data peserta"), "{table}");
    assert!(table.contains(&format!("peserta {id}")), "{table}");
    assert!(table.contains("berhasil"), "{table}");
    assert!(!table.contains("participant.view"), "{table}");
}

#[tokio::test]
async fn the_audit_log_names_actions_in_words() {
    on_each_backend!(audit_log_in_words);
}

async fn pages_travel_compressed(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    for (path, encoding) in [
        ("/participants", "br"),
        ("/static/app.css", "gzip"),
        ("/dashboard/download/reach?scope=national", "gzip"),
    ] {
        let response = officer
            .client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-encoding"], encoding, "{path}");
    }
    // Not a number where a record's id belongs: a page that says so, with the menu.
    let response = officer.get("/participants/abc").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let page = response.text().await.unwrap();
    assert!(page.contains("Data tidak ditemukan."), "{page}");
    assert!(!page.contains("Cannot parse"), "{page}");
}

#[tokio::test]
async fn pages_css_and_csv_travel_compressed_and_a_bad_id_gets_a_page() {
    on_each_backend!(pages_travel_compressed);
}
