//! Files and fields larger than loket takes: an .xlsx that unpacks to far more than it
//! weighs (a zip bomb) or spreads two cells a million rows apart is refused before its
//! content is held, and a free-text field over its limit is refused, never cut.

use std::io::Write;

use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

/// A real workbook (header row nik, nama) whose shared strings are padded with `padding`
/// bytes of one repeated letter: a few hundred kilobytes that unpack to that much more.
fn padded_workbook(padding: u64) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "nik").unwrap();
    sheet.write_string(0, 1, "nama").unwrap();
    let plain = book.save_to_buffer().unwrap();
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    for i in 0..source.len() {
        let entry = source.by_index(i).unwrap();
        if entry.name() != "xl/sharedStrings.xml" {
            out.raw_copy_file(entry).unwrap();
        }
    }
    out.start_file("xl/sharedStrings.xml", options).unwrap();
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"3\" uniqueCount=\"3\"><si><t>nik</t></si><si><t>nama</t></si><si><t>").unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..padding / chunk.len() as u64 {
        out.write_all(&chunk).unwrap();
    }
    out.write_all(b"</t></si></sst>").unwrap();
    out.finish().unwrap().into_inner()
}

/// A workbook with a header and one cell a million rows further down.
fn sparse_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "nik").unwrap();
    sheet.write_string(1_048_000, 900, "jauh").unwrap();
    book.save_to_buffer().unwrap()
}

/// The peak memory of this test process so far, in MB (Linux).
fn peak_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

async fn oversized_files_and_fields(app: &TestApp) {
    let (_, token) = app.user("pusat", Role::Admin, None).await;
    let admin = app.session("pusat").await;
    let bomb = padded_workbook(loket::sheet::MAX_UNPACKED_BYTES + (16 << 20));
    assert!(bomb.len() < 2 << 20, "the bomb weighs {} bytes", bomb.len());
    let before = peak_mb();
    for (name, file) in [("bom.xlsx", bomb), ("jarang.xlsx", sparse_workbook())] {
        let form = reqwest::multipart::Form::new()
            .text("csrf", admin.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(file).file_name(name),
            );
        let response = admin
            .client
            .post(app.url("/exchange/uploads"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("terlalu besar setelah dibuka"),
            "{name}: {page}"
        );
    }
    eprintln!(
        "peak memory of the test process: {before} MB before the uploads, {} MB after",
        peak_mb()
    );
    let uploads: i64 = loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM exchange_uploads"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(uploads, 0, "nothing of the refused files is kept");

    // Free text over its limit is refused with the field named, not cut.
    let api = app.api(&token);
    for (field, limit, nik) in [
        ("training_interests", 500, "3201014505900001"),
        ("address", 300, "3201014505900002"),
    ] {
        let mut body = person_json(nik, "Siti Aminah");
        body[field] = Value::String("x".repeat(limit + 1));
        let response = api.register(&body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error: Value = response.json().await.unwrap();
        let problem = error["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{field}: {error}"));
        assert_eq!(problem["code"], "too_long");
        assert!(problem["message_en"]
            .as_str()
            .unwrap()
            .contains(&format!("At most {limit}")));
        body[field] = Value::String("x".repeat(limit));
        let response = api.register(&body).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{field} at its limit"
        );
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let record = api.get_json(&format!("/api/v1/participants/{id}")).await;
        let stored = record.to_string();
        assert!(stored.contains(&"x".repeat(limit)), "{field} kept whole");
    }
}

#[tokio::test]
async fn zip_bombs_sparse_sheets_and_overlong_fields_are_refused() {
    on_each_backend!(oversized_files_and_fields);
}
