//! A real browser: sign in, register a Purna PMI through the form, find them by NIK.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use loket::auth::Role;

use crate::common::{spawn_app, Backend, PASSWORD};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn browser_required() -> bool {
    std::env::var("LOKET_TEST_REQUIRE")
        .map(|v| v.split(',').any(|p| p.trim() == "browser"))
        .unwrap_or(false)
}

fn find_program(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|n| std::path::Path::new(n).exists())
        .map(|n| n.to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn in_chromium_an_officer_logs_in_registers_and_finds_by_nik() {
    let (Some(driver_bin), Some(chromium)) = (
        find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find_program(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"]),
    ) else {
        assert!(
            !browser_required(),
            "LOKET_TEST_REQUIRE includes browser but chromium/chromedriver are not installed"
        );
        eprintln!("notice: browser test skipped (install chromium and chromium-driver to run it)");
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;

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
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not start");

    c.goto(&app.url("/participants")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("petugas.a")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("q")).await.unwrap();

    c.goto(&app.url("/participants/new")).await.unwrap();
    for (id, value) in [
        ("nik", "3201014505900001"),
        ("full_name", "Siti Aminah"),
        ("phone", "081234567890"),
        ("destination_country", "TW"),
    ] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
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
    c.find(Locator::Id("consent_processing"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = c
        .wait()
        .for_element(Locator::Id("participant-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(name, "Siti Aminah");

    c.goto(&app.url("/participants")).await.unwrap();
    c.find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("3201 0145 0590 0001")
        .await
        .unwrap();
    c.find(Locator::Css("form.search button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let results = c
        .wait()
        .for_element(Locator::Id("results"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(results.contains("Siti Aminah"), "{results}");

    let screenshot = c.screenshot().await.unwrap();
    assert!(screenshot.starts_with(b"\x89PNG"));
    if let Ok(dir) = std::env::var("LOKET_SCREENSHOT_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("search.png"), screenshot).unwrap();
    }
    c.close().await.unwrap();
    drop(driver);
    app.cleanup().await;
}
