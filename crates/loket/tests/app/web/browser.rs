//! A real browser: sign in, register a Purna PMI through the form, find them by NIK.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use loket::auth::Role;

use crate::common::{required, spawn_app, Backend, PASSWORD};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|n| std::path::Path::new(n).exists())
        .map(std::string::ToString::to_string)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver with a headless chromium, or `None` (with a notice) when they are not
/// installed and the browser part is not required.
pub(super) struct Browser {
    pub(super) client: fantoccini::Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

pub(super) async fn browser() -> Option<Browser> {
    let (Some(driver_bin), Some(chromium)) = (
        find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find_program(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"]),
    ) else {
        assert!(
            !required("browser"),
            "LOKET_TEST_REQUIRE includes browser but chromium/chromedriver are not installed"
        );
        eprintln!("notice: browser test skipped (install chromium and chromium-driver to run it)");
        return None;
    };
    let port = free_port();
    let driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=390,844",
                     format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    _driver: driver,
                    _profile: profile,
                })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("chromedriver did not start");
}

/// Clicks an element once the page that holds it has loaded: after a form's redirect, or
/// between a page's self-refreshes, the element first found may already be gone.
async fn click(c: &fantoccini::Client, css: &str) {
    for _ in 0..100 {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            if element.click().await.is_ok() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never became clickable");
}

/// Types `text` into the element `at`.
async fn type_into(c: &fantoccini::Client, at: Locator<'_>, text: &str) {
    c.find(at).await.unwrap().send_keys(text).await.unwrap();
}

/// Clicks the element `at` as it is now (see `click` for one that may come and go).
async fn press(c: &fantoccini::Client, at: Locator<'_>) {
    c.find(at).await.unwrap().click().await.unwrap();
}

/// The text of the element `at` as it is now.
async fn text_of(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// The text of the element `at` once the page shows it.
async fn text_when_shown(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.wait()
        .for_element(at)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Signs in through the login form.
async fn sign_in(c: &fantoccini::Client, app: &crate::common::TestApp, username: &str) {
    c.goto(&app.url("/participants")).await.unwrap();
    type_into(c, Locator::Id("username"), username).await;
    type_into(c, Locator::Id("password"), PASSWORD).await;
    press(c, Locator::Css("form.card button[type=submit]")).await;
    c.wait().for_element(Locator::Id("q")).await.unwrap();
}

#[tokio::test]
async fn in_chromium_an_officer_logs_in_registers_and_finds_by_nik() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.officer_a().await;
    let c = &browser.client;
    sign_in(c, &app, "petugas.a").await;

    c.goto(&app.url("/participants/new")).await.unwrap();
    for (id, value) in [
        ("nik", "3201014505900001"),
        ("full_name", "Siti Aminah"),
        ("phone", "081234567890"),
        ("destination_country", "TW"),
    ] {
        type_into(c, Locator::Id(id), value).await;
    }
    c.find(Locator::Id("sex"))
        .await
        .unwrap()
        .select_by_value("female")
        .await
        .unwrap();
    // Date inputs take the digits in the browser's locale order (en-US: mm dd yyyy).
    c.execute(
        "document.getElementById('birth_date').value = '1990-05-05';",
        vec![],
    )
    .await
    .unwrap();
    press(c, Locator::Id("consent_processing")).await;
    press(c, Locator::Css("form.card button[type=submit]")).await;
    let name = text_when_shown(c, Locator::Id("participant-name")).await;
    assert_eq!(name, "Siti Aminah");

    c.goto(&app.url("/participants")).await.unwrap();
    type_into(c, Locator::Id("q"), "3201 0145 0590 0001").await;
    press(c, Locator::Css("form.search button")).await;
    let results = text_when_shown(c, Locator::Id("results")).await;
    assert!(results.contains("Siti Aminah"), "{results}");

    let screenshot = c.screenshot().await.unwrap();
    assert!(screenshot.starts_with(b"\x89PNG"));
    if let Ok(dir) = std::env::var("LOKET_SCREENSHOT_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("search.png"), screenshot).unwrap();
    }
    c.clone().close().await.unwrap();
    app.cleanup().await;
}

/// The admin's exchange in chromium, on each backend: upload a programme-office file, accept
/// the uncertain pair in the review queue, apply, and see the events created.
#[tokio::test]
async fn in_chromium_an_admin_takes_a_programme_office_file_from_upload_to_applied_events() {
    use crate::common::exchange::{fill_registry, sample_file};
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    for backend in crate::common::backends() {
        let app = spawn_app(backend).await;
        loket::journey::demo::seed_batches(&app.state.db, loket::clock::today())
            .await
            .unwrap();
        let (_, token) = app.user("pusat", Role::Admin, None).await;
        let reg = fill_registry(&app, &token).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("penerima-gelombang-12.csv");
        std::fs::write(&path, sample_file().bytes).unwrap();

        // A fresh browser session per backend: sign out the previous one first.
        c.delete_all_cookies().await.unwrap();
        sign_in(c, &app, "pusat").await;
        press(c, Locator::Css("a[href='/exchange']")).await;
        c.wait()
            .for_element(Locator::Id("upload-form"))
            .await
            .unwrap();
        type_into(c, Locator::Id("file"), &path.display().to_string()).await;
        press(c, Locator::Css("#upload-form button")).await;
        // The page refreshes itself while linking; then the review queue shows Rizal.
        c.wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css("#status[data-status='review']"))
            .await
            .unwrap();
        let rows = text_of(c, Locator::Id("rows")).await;
        assert!(
            rows.contains("Mohammad Rizal Fahmi") && rows.contains("M. Rizal Fahmi"),
            "{rows}"
        );
        // Rizal is the registry's Rizal; this Ratna is not the registry's Ratna.
        for (row, answer) in [("4", "accept"), ("5", "reject")] {
            click(c, &format!("li[data-row='{row}'] button[value='{answer}']")).await;
        }
        click(c, "#apply-form button").await;
        c.wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css("#status[data-status='applied']"))
            .await
            .unwrap();
        let created = text_of(c, Locator::Id("events-created")).await;
        // Siti: joined, accepted, bought, completed, paid; Yuliana and Rizal: joined, accepted.
        assert_eq!(created, "9", "on {backend:?}");
        let events = loket::journey::store::events_of(&app.state.db, reg.variant)
            .await
            .unwrap();
        assert_eq!(events.len(), 2, "on {backend:?}");
        let events = loket::journey::store::events_of(&app.state.db, reg.lookalike)
            .await
            .unwrap();
        assert!(events.is_empty(), "on {backend:?}");
        if let Ok(dir) = std::env::var("LOKET_SCREENSHOT_DIR") {
            let shot = c.screenshot().await.unwrap();
            std::fs::write(std::path::Path::new(&dir).join("exchange.png"), shot).unwrap();
        }
        app.cleanup().await;
    }
    c.clone().close().await.unwrap();
}

/// Chromium drops tabs and newlines from a URL and reads `\` as `/`, so a redirect to
/// `/\t/evil.example` would land on evil.example: the language switch and the login form
/// must keep the browser on this site whatever `back` or `next` says.
#[tokio::test]
async fn in_chromium_redirect_targets_never_leave_the_site() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.officer_a().await;
    let c = &browser.client;
    let here = url::Url::parse(&app.base).unwrap();
    for back in [
        "/%09/evil.example",
        "/%5C/evil.example",
        "/%0a/evil.example",
    ] {
        c.goto(&app.url(&format!("/lang/en?back={back}")))
            .await
            .unwrap();
        let landed = c.current_url().await.unwrap();
        assert_eq!(landed.host(), here.host(), "back={back}: {landed}");
    }
    c.goto(&app.url("/login?next=/%09/evil.example"))
        .await
        .unwrap();
    type_into(c, Locator::Id("username"), "petugas.a").await;
    type_into(c, Locator::Id("password"), PASSWORD).await;
    press(c, Locator::Css("form.card button[type=submit]")).await;
    c.wait().for_element(Locator::Id("q")).await.unwrap();
    let landed = c.current_url().await.unwrap();
    assert_eq!(landed.host(), here.host(), "{landed}");
    c.clone().close().await.unwrap();
    app.cleanup().await;
}

/// Issue 15 in chromium: an officer opens "Program lain yang cocok" from the person's page,
/// drafts a referral, records consent and sends it; the agency's staff sign in to their own
/// page, accept, start and complete it; the officer sees the agency's answer.
#[tokio::test]
async fn in_chromium_an_officer_refers_and_the_agency_answers() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    for backend in crate::common::backends() {
        let app = spawn_app(backend).await;
        loket::programmes::demo::seed(&app.state.db).await.unwrap();
        let (_, token) = app.officer_a().await;
        let mut person = crate::common::person_json("3578014505900001", "Sri Rujukan");
        person["province_code"] = serde_json::json!("35");
        let response = app.api(&token).register(&person).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let (staff, _) = app.user("blk.sby", Role::Lembaga, None).await;
        loket::programmes::link_user_to_agency(&app.state.db, staff, "BLK-SBY")
            .await
            .unwrap();

        // The officer: from the person's page to the referral, sent with consent.
        c.delete_all_cookies().await.unwrap();
        sign_in(c, &app, "petugas.a").await;
        c.goto(&app.url(&format!("/participants/{id}")))
            .await
            .unwrap();
        click(c, "#programmes-link").await;
        click(c, "li[data-programme='1'] form.refer button").await;
        c.wait()
            .for_element(Locator::Css("li[data-referral='1'][data-status='draft']"))
            .await
            .unwrap();
        c.find(Locator::Id("consent-1"))
            .await
            .unwrap()
            .select_by_value("paper_form")
            .await
            .unwrap();
        click(c, "li[data-referral='1'] button[value='sent']").await;
        c.wait()
            .for_element(Locator::Css("li[data-referral='1'][data-status='sent']"))
            .await
            .unwrap();

        // The agency: its own page, then accept, start and complete with a note.
        c.delete_all_cookies().await.unwrap();
        c.goto(&app.url("/login")).await.unwrap();
        type_into(c, Locator::Id("username"), "blk.sby").await;
        type_into(c, Locator::Id("password"), PASSWORD).await;
        press(c, Locator::Css("form.card button[type=submit]")).await;
        click(c, "#agency-waiting a[href='/lembaga/referrals/1']").await;
        let shared = text_when_shown(c, Locator::Id("person")).await;
        assert!(shared.contains("Sri Rujukan"), "{shared}");
        assert!(!shared.contains("3578014505900001"), "{shared}");
        click(c, "button[value='accepted']").await;
        click(c, "button[value='in_progress']").await;
        c.wait()
            .for_element(Locator::Css(
                "li[data-referral='1'][data-status='in_progress']",
            ))
            .await
            .unwrap();
        type_into(
            c,
            Locator::Id("note-1-completed"),
            "Lulus, sertifikat terbit",
        )
        .await;
        click(c, "button[value='completed']").await;
        c.wait()
            .for_element(Locator::Css(
                "li[data-referral='1'][data-status='completed']",
            ))
            .await
            .unwrap();

        // The officer sees what the agency said.
        c.delete_all_cookies().await.unwrap();
        sign_in(c, &app, "petugas.a").await;
        c.goto(&app.url(&format!("/participants/{id}/programmes")))
            .await
            .unwrap();
        let answer =
            text_when_shown(c, Locator::Css("li[data-referral='1'] .referral-answer")).await;
        assert!(
            answer.contains("Lulus, sertifikat terbit"),
            "{answer} on {backend:?}"
        );
        if let Ok(dir) = std::env::var("LOKET_SCREENSHOT_DIR") {
            let shot = c.screenshot().await.unwrap();
            std::fs::write(std::path::Path::new(&dir).join("referral.png"), shot).unwrap();
        }
        app.cleanup().await;
    }
    c.clone().close().await.unwrap();
}
