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
    ] {
        type_into(c, Locator::Id(id), value).await;
    }
    for (id, value) in [("sex", "female"), ("destination_country", "TW")] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }
    // Date inputs take the digits in the browser's locale order (en-US: mm dd yyyy).
    c.execute(
        "document.getElementById('birth_date').value = '1990-05-05';",
        vec![],
    )
    .await
    .unwrap();
    press(c, Locator::Id("consent_processing")).await;
    press(c, Locator::Id("save")).await;
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

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";

/// The id of the element that has the focus.
async fn focused(c: &fantoccini::Client) -> String {
    let id = c
        .execute(
            "return document.activeElement.id || document.activeElement.tagName;",
            vec![],
        )
        .await
        .unwrap();
    id.as_str().unwrap_or_default().to_string()
}

/// Presses `keys` on whatever has the focus, as a person at the keyboard does.
async fn keys(c: &fantoccini::Client, keys: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// Presses Tab until the element `id` has the focus (at most `limit` times).
async fn tab_to(c: &fantoccini::Client, id: &str, limit: usize) {
    for _ in 0..limit {
        if focused(c).await == id {
            return;
        }
        keys(c, TAB).await;
    }
    panic!("Tab never reached #{id} (focus on {})", focused(c).await);
}

/// Issue 22: an officer who uses only the keyboard skips the menu, fills in the form, meets
/// the errors (the focus lands on the summary), follows its link to the field and saves.
#[tokio::test]
async fn in_chromium_a_registration_with_errors_is_completed_with_the_keyboard_alone() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.officer_a().await;
    let c = &browser.client;
    sign_in(c, &app, "petugas.a").await;
    c.goto(&app.url("/participants/new")).await.unwrap();
    // The first Tab reaches the skip link; Enter goes past the menu to the content.
    keys(c, TAB).await;
    let skip = c.active_element().await.unwrap();
    assert_eq!(skip.attr("href").await.unwrap().as_deref(), Some("#main"));
    keys(c, ENTER).await;
    assert_eq!(focused(c).await, "main");
    keys(c, TAB).await;
    assert_eq!(
        focused(c).await,
        "nik",
        "the NIK is the first field after the skip"
    );
    keys(c, "3201014505900001").await;
    // Saved without a name and without consent.
    tab_to(c, "save", 80).await;
    keys(c, ENTER).await;
    c.wait()
        .for_element(Locator::Id("error-summary"))
        .await
        .unwrap();
    assert_eq!(focused(c).await, "error-summary");
    let summary = text_of(c, Locator::Id("error-summary")).await;
    assert!(
        summary.contains("Nama lengkap") && summary.contains("Setuju"),
        "{summary}"
    );
    // The form in its error state passes WCAG 2.1 A/AA too (the crawl sees it only clean).
    if let Some(axe) = super::axe::source() {
        let found = super::axe::violations(c, &axe).await;
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
    // The summary's first link leads to the name field.
    keys(c, TAB).await;
    keys(c, ENTER).await;
    assert_eq!(focused(c).await, "full_name");
    keys(c, "Siti Aminah").await;
    tab_to(c, "consent_processing", 80).await;
    keys(c, SPACE).await;
    tab_to(c, "save", 20).await;
    keys(c, ENTER).await;
    let name = text_when_shown(c, Locator::Id("participant-name")).await;
    assert_eq!(name, "Siti Aminah");
    // An error page has the menu and a way back, and passes as well.
    c.goto(&app.url("/participants/999999")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("error-back"))
        .await
        .unwrap();
    if let Some(axe) = super::axe::source() {
        let found = super::axe::violations(c, &axe).await;
        assert!(found.is_empty(), "{}", found.join("\n"));
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

/// A Purna PMI opens their status page on a phone (360 px wide): the code from the slip and
/// their birth date show the stage and the next step, without sideways scrolling.
#[tokio::test]
async fn in_chromium_a_person_opens_their_status_page_at_phone_size() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let (token, id) = crate::reminders::accepted_person(&app).await;
    let link: serde_json::Value = app
        .client
        .post(app.url(&format!("/api/v1/participants/{id}/status-link")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = &browser.client;
    c.set_window_size(360, 740).await.unwrap();
    c.goto(&app.url(link["path"].as_str().unwrap()))
        .await
        .unwrap();
    type_into(c, Locator::Id("birth_date"), "05-05-1990").await;
    press(c, Locator::Css("form.card button[type=submit]")).await;
    let stage = text_when_shown(c, Locator::Id("stage")).await;
    assert!(stage.starts_with("Diterima"), "{stage}");
    let next = text_of(c, Locator::Id("next-step")).await;
    assert!(!next.is_empty());
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(width.as_i64().unwrap() <= 360, "page is {width} px wide");
    if let Ok(dir) = std::env::var("LOKET_SCREENSHOT_DIR") {
        let shot = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("status.png"), shot).unwrap();
    }
    c.clone().close().await.unwrap();
    app.cleanup().await;
}

/// The counter floor in chromium: the TV shows the display page; a person takes a ticket at
/// the kiosk; the officer calls it; the display shows it called without reloading (live, by
/// server-sent events).
#[tokio::test]
async fn in_chromium_a_kiosk_ticket_is_called_and_shows_on_the_display() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.officer_a().await;
    let db = &app.state.db;
    let token = "cd".repeat(24);
    loket::floor::store::set_link(
        db,
        app.counter_a,
        &token,
        chrono::Utc::now(),
        loket::audit::Batch::new(db).unwrap(),
    )
    .await
    .unwrap();
    let c = &browser.client;
    c.goto(&app.url(&format!("/display/{token}")))
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("board")).await.unwrap();
    // A mark that a reload would wipe: the display must change without one.
    c.execute("window.loketMark = 'live';", vec![])
        .await
        .unwrap();
    let tv = c.window().await.unwrap();

    let kiosk = c.new_window(true).await.unwrap();
    c.switch_to_window(kiosk.handle).await.unwrap();
    c.goto(&app.url(&format!("/kiosk/{token}"))).await.unwrap();
    press(c, Locator::Id("purpose-training")).await;
    let number = text_when_shown(c, Locator::Id("ticket-number")).await;
    assert_eq!(number, "B-001");

    sign_in(c, &app, "petugas.a").await;
    c.goto(&app.url(&format!("/floor?counter={}", app.counter_a)))
        .await
        .unwrap();
    type_into(c, Locator::Id("desk"), "2").await;
    press(c, Locator::Id("call-next")).await;
    let called = text_when_shown(c, Locator::Id("called-now")).await;
    assert!(called.contains("B-001"), "{called}");

    c.switch_to_window(tv).await.unwrap();
    let mut shown = String::new();
    for _ in 0..50 {
        shown = text_of(c, Locator::Css("#board .called")).await;
        if shown.contains("B-001") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        shown.contains("B-001") && shown.contains("Meja 2"),
        "{shown}"
    );
    let mark = c.execute("return window.loketMark;", vec![]).await.unwrap();
    assert_eq!(
        mark,
        serde_json::json!("live"),
        "the display updated without a reload"
    );
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
